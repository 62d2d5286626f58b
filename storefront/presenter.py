"""The presenter's view: the two-browser demo in steps, for a sales engineer in front of a customer.

Staff only, and only while Bindery runs on the offline sandbox (a demo): it hands out a one-click sign-in
link for the demo customer (it works once: a copy of it signs no one else in), shows that customer's audit
trail as it happens, switches the sandbox's faults (through the sandbox's own staff page, which it posts to)
and resets the demo to its seeded state.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import get_user_model, login, update_session_auth_hash
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.mail import outbox_files
from binding.models import BindingEvent

from . import selectors, services
from .demo_data import DEMO_USERS, demo_reset
from .exceptions import SignInLinkUsed

SIGN_IN_SALT = "bindery.presenter.sign-in"
SIGN_IN_MAX_AGE = 15 * 60  # seconds a sign-in link works (once)
CUSTOMER = next(demo.username for demo in DEMO_USERS if not demo.is_staff)  # alice
EVENTS_SHOWN = 25
# A reset takes the demo customers' titles away: who may revoke entitlements (Operations) may reset.
RESET_PERMISSION = "binding.revoke_entitlement"

# The sandbox's fault presets: the fields of its staff page (sandbox/views.py FaultForm), posted there.
_NO_FAULTS = {
    "latency_ms": 0,
    "jitter_ms": 0,
    "server_error": 0,
    "error_code": 0,
    "error_codes": "-2030",
    "hang": 0,
    "hang_seconds": 3,
    "drop": 0,
    "no_record": 0,
}


def _fault_presets() -> list[dict]:
    return [
        {
            "name": _("ExpressPlay far away (300 ms a call)"),
            "fields": {**_NO_FAULTS, "latency_ms": 300},
        },
        {
            "name": _("A bad day: 30 % of calls fail (errors, lost answers, no record yet)"),
            "fields": {**_NO_FAULTS, "latency_ms": 20, "server_error": 0.15, "drop": 0.1, "no_record": 0.05},
        },
    ]


def _demo_only() -> None:
    if settings.EXPRESSPLAY_ENV != "sandbox":
        raise Http404  # a demo tool: never on a shop that talks to the real ExpressPlay


@staff_member_required
@require_GET
def presenter(request: HttpRequest) -> HttpResponse:
    """The story in steps, with the links and switches each step needs."""
    _demo_only()
    # The nonce is what the sign-in spends; nothing is written here, behind a GET.
    token = signing.dumps({"user": CUSTOMER, "nonce": secrets.token_urlsafe(16)}, salt=SIGN_IN_SALT)
    return render(
        request,
        "storefront/presenter.html",
        {
            "customer": CUSTOMER,
            "sign_in_url": request.build_absolute_uri(reverse("presenter-sign-in", args=[token])),
            "sign_in_minutes": SIGN_IN_MAX_AGE // 60,
            "events": _events(),
            "outbox": _outbox(),
            "presets": _fault_presets(),
            "may_change": request.user.has_perm(RESET_PERMISSION),
            "may_change_faults": request.user.has_perm("sandbox.change_faultsettings"),
        },
    )


OUTBOX_SHOWN = 8


def _outbox() -> list[dict]:
    """The newest mails the shop sent (the demo writes them to files): the audience sees the receipt and the
    new-device notice arrive."""
    return [
        {key: mail[key] for key in ("to", "subject", "text", "kind")}
        | {
            "time": date_format(localtime(datetime.fromtimestamp(mail["at"], tz=UTC)), "H:i:s")
            if mail["at"]
            else ""
        }
        for mail in outbox_files(OUTBOX_SHOWN)
    ]


def _events() -> list[dict]:
    rows = (
        BindingEvent.objects.filter(user__username=CUSTOMER)
        .select_related("device")
        .order_by("-created_at", "-pk")[:EVENTS_SHOWN]
    )
    return [
        {
            "time": date_format(localtime(event.created_at), "H:i:s"),
            "what": event.get_kind_display(),
            "code": event.expressplay_code,
            "device": f"{event.device.label} ({event.device.get_drm_display()})" if event.device else "",
            "detail": event.detail,
        }
        for event in rows
    ]


@staff_member_required
@require_GET
def presenter_events(request: HttpRequest) -> JsonResponse:
    """The demo customer's newest audit events (the page polls this)."""
    _demo_only()
    return JsonResponse({"events": _events(), "outbox": _outbox()})


@require_http_methods(["GET", "POST"])
def presenter_sign_in(request: HttpRequest, token: str) -> HttpResponse:
    """GET: offer to sign this browser in as the demo customer (the link on the presenter's page, once, for 15
    minutes). POST: sign in and spend the link; nothing is written behind the GET. A link used already is a
    410 that says so."""
    _demo_only()
    try:
        link = signing.loads(token, salt=SIGN_IN_SALT, max_age=SIGN_IN_MAX_AGE)
    except signing.BadSignature as exc:  # tampered with, or expired (SignatureExpired is a BadSignature)
        raise Http404 from exc
    if not isinstance(link, dict) or not isinstance(link.get("nonce"), str):
        raise Http404  # signed before links carried a nonce: one that could not be spent
    user = get_user_model().objects.filter(username=link.get("user"), is_active=True, is_staff=False).first()
    if user is None:
        raise Http404
    if request.method == "GET":
        if selectors.sign_in_link_spent(link["nonce"]):
            return _sign_in_link_used(request, user)
        return render(request, "storefront/presenter_sign_in.html", {"customer": user})
    try:
        services.sign_in_link_spend(nonce=link["nonce"], max_age=SIGN_IN_MAX_AGE)
    except SignInLinkUsed:
        return _sign_in_link_used(request, user)
    login(request, user, backend="accounts.backends.UsernameOrEmailBackend")
    messages.info(request, _("Signed in as %(name)s, the demo customer.") % {"name": user.get_short_name()})
    return redirect("storefront:home")


def _sign_in_link_used(request: HttpRequest, user) -> HttpResponse:
    context = {"customer": user, "used": SignInLinkUsed.default_message}
    return render(request, "storefront/presenter_sign_in.html", context, status=410)


@staff_member_required
@require_POST
def presenter_reset(request: HttpRequest) -> HttpResponse:
    """Reset the demo: the demo customers' orders, devices, registrations and audit trail go."""
    _demo_only()
    if not request.user.has_perm(RESET_PERMISSION):
        raise PermissionDenied
    faults_off = request.POST.get("faults_off") == "1"
    removed = demo_reset(faults_off=faults_off)
    # The reset sets every demo login's password again, which signs their sessions out: not the presenter's.
    request.user.refresh_from_db()
    update_session_auth_hash(request, request.user)
    done = _(
        "The demo is reset: %(orders)s orders and %(devices)s devices removed; the logins are as new."
    ) % {
        "orders": removed["orders"],
        "devices": removed["devices"],
    }
    if faults_off:
        done = " ".join((done, _("Every fault is off.")))
    messages.success(request, done)
    return redirect("presenter")
