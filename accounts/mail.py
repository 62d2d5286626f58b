"""Mail to customers through Django's e-mail framework, from an outbox: never lost, never sent twice.

- **Queued in the event's transaction.** `mail_queue` writes an OutgoingMail row in the transaction of the
  change it tells of (an order paid, a device bound, a title ready or failed) and queues its sending once that
  commits; a rolled-back change sends nothing. The row's unique `key` names the event, so one event makes one
  mail however often it is recorded.
- **Sent once.** The worker claims the row (a conditional UPDATE that also sets when the next attempt would
  be) before it sends, so a message the queue delivers twice, or the sweep's copy, finds it not due.
- **Never lost.** Beat's sweep queues every pending row whose time has come: the broker being away, or the
  mail server refusing, only delays it (backoff 1, 2, 4 … minutes, MAIL_MAX_ATTEMPTS attempts).
- **In the customer's language**, rendered when sent from `templates/mail/<kind>/` (subject, text and HTML).
- A password-reset mail's context holds the reset link, a credential: it is emptied once the mail is sent
  (or given up).
"""

from __future__ import annotations

import email
import email.message
import email.policy
import email.utils
import logging
from datetime import timedelta
from functools import partial
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime

from .models import MailKind, MailState, OutgoingMail, Profile

logger = logging.getLogger(__name__)

BACKOFF_FIRST = 60  # seconds
BACKOFF_CAP = 3600


def user_language(user) -> str:
    """The language the customer chose (their profile), else the site's default."""
    chosen = Profile.objects.filter(user=user).values_list("language", flat=True).first() if user else None
    return chosen or settings.LANGUAGE_CODE


def language_set(*, user, language: str) -> Profile:
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"not a language of this site: {language!r}")
    profile, _created = Profile.objects.update_or_create(user=user, defaults={"language": language})
    return profile


def link(path: str) -> str:
    """An absolute address of this site, for a mail (which has no request to take it from)."""
    return f"{settings.BINDERY_PUBLIC_URL}{path}"


def mail_queue(*, user, kind: MailKind, key: str, context: dict, to: str = "") -> OutgoingMail | None:
    """Queue one mail of `kind` to the customer about the event `key`, in the current transaction; send it
    after commit. Returns None when the customer has no address, or this event's mail exists already."""
    to = to or (user.email if user else "")
    if not to:
        return None
    try:
        with transaction.atomic():
            mail = OutgoingMail.objects.create(
                kind=kind,
                key=key[:120],
                user=user,
                to=to,
                language=user_language(user),
                context=context,
            )
    except IntegrityError:
        return None  # this event's mail was queued already: one event, one mail
    transaction.on_commit(partial(_queue, mail.pk))
    return mail


def _queue(mail_id: int) -> None:
    from .tasks import mail_send

    try:
        mail_send.apply_async(args=[mail_id])
    except Exception as exc:  # the broker is away: the sweep sends it when its time comes
        logger.warning("Could not queue mail %s (%s); the sweep will send it.", mail_id, type(exc).__name__)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** (attempts - 1)))


def render(mail: OutgoingMail) -> EmailMultiAlternatives:
    """The mail as the customer gets it: subject, plain text and HTML, in their language."""
    context = {**mail.context, "site": settings.BINDERY_PUBLIC_URL}
    for name, value in mail.context.items():  # times travel as ISO text; the templates format them
        if name.endswith("_at") and isinstance(value, str):
            context[name] = parse_datetime(value) or value
    with translation.override(mail.language or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"mail/{mail.kind}/subject.txt", context).split())
        text = render_to_string(f"mail/{mail.kind}/body.txt", context)
        html = render_to_string(f"mail/{mail.kind}/body.html", {**context, "subject": subject})
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [mail.to])
    message.attach_alternative(html, "text/html")
    message.extra_headers["X-Bindery-Mail"] = mail.key
    return message


def mail_send(mail_id: int) -> str:
    """Send one mail now if it is still due; record the outcome; leave a failure for the sweep to retry."""
    now = timezone.now()
    with transaction.atomic():
        claimed = OutgoingMail.objects.filter(
            pk=mail_id, state=MailState.PENDING, next_attempt_at__lte=now
        ).update(attempts=F("attempts") + 1, next_attempt_at=now + timedelta(minutes=10))
    if not claimed:
        return "not-due"
    mail = OutgoingMail.objects.get(pk=mail_id)
    try:
        message = render(mail)
        message.send()
    except Exception as exc:  # the mail server refused or is away: try again later
        given_up = mail.attempts >= settings.MAIL_MAX_ATTEMPTS
        OutgoingMail.objects.filter(pk=mail.pk).update(
            state=MailState.FAILED if given_up else MailState.PENDING,
            next_attempt_at=now + _backoff(mail.attempts),
            error=f"{type(exc).__name__}: {exc}"[:300],
            # A reset link given up is not kept either: the customer asks for a new one.
            **({"context": {}} if given_up and mail.kind == MailKind.PASSWORD_RESET else {}),
        )
        logger.warning("Mail %s (%s) not sent: %s", mail.pk, mail.kind, type(exc).__name__)
        return "given-up" if given_up else "retry"
    OutgoingMail.objects.filter(pk=mail.pk).update(
        state=MailState.SENT,
        sent_at=timezone.now(),
        subject=message.subject[:200],
        error="",
        **({"context": {}} if mail.kind == MailKind.PASSWORD_RESET else {}),
    )
    return "sent"


def mails_sweep(*, now=None) -> int:
    """Queue every pending mail whose time has come (whatever the queue lost); return how many."""
    due = list(
        OutgoingMail.objects.filter(state=MailState.PENDING, next_attempt_at__lte=now or timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:500]
    )
    for mail_id in due:
        _queue(mail_id)
    return len(due)


def outbox_files(limit: int = 10) -> list[dict]:
    """The newest mails the demo's file backend wrote (EMAIL_FILE_PATH), newest first, for the presenter's
    Outbox: who to, subject, when, and the plain text. The test's memory backend is read too; any other
    backend (a real mail server) shows nothing."""
    if settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend":
        from django.core import mail as django_mail

        messages = [m.message() for m in getattr(django_mail, "outbox", [])]
        return [_summary(m, "") for m in reversed(messages)][:limit]
    if settings.EMAIL_BACKEND != "django.core.mail.backends.filebased.EmailBackend":
        return []
    folder = Path(settings.EMAIL_FILE_PATH)
    if not folder.is_dir():
        return []
    found: list[dict] = []
    for path in sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True)[: limit * 2]:
        for raw in reversed(path.read_bytes().split(b"\n" + b"-" * 79 + b"\n")):
            if not raw.strip():
                continue
            message = email.message_from_bytes(raw.lstrip(b"\n"), policy=email.policy.default)
            found.append(_summary(message, path.name))
    found.sort(key=lambda m: m["at"], reverse=True)
    return found[:limit]


def _summary(message, file: str) -> dict:
    if not isinstance(message, email.message.EmailMessage):  # Django's SafeMIME: parse it the same way
        message = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",))
    try:
        at = email.utils.parsedate_to_datetime(str(message["Date"])).timestamp()
    except (TypeError, ValueError):
        at = 0.0
    return {
        "to": str(message["To"] or ""),
        "subject": str(message["Subject"] or ""),
        "date": str(message["Date"] or ""),
        "at": at,
        "kind": str(message["X-Bindery-Mail"] or "").split(":", 1)[0],
        "text": text.get_content() if text is not None else "",
        "file": file,
    }
