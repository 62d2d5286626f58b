"""Why can't this customer play? The entitlement's token, ExpressPlay's records and the registered device,
side by side, with a one-line verdict.

Before a live lookup the verdict rests on Bindery's own data, the player's refusal reports among them; once
ExpressPlay's records are read, they win: they are the fuller truth."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from .expressplay import ExpressPlayClient, ExpressPlayError, Record, client_from_settings, explain
from .models import BindingEvent, Device, Entitlement, EntitlementFailure, EntitlementState, EventKind
from .services.device_trust import DEVICE_MISMATCH_CODE


@dataclass(frozen=True)
class RecordLine:
    event_id: int | None
    time: datetime | None
    device_id: str
    result_code: int | None
    meaning: str
    this_title: bool
    matches_token: bool


@dataclass(frozen=True)
class RefusalLine:
    """The player's newest refusal report since the newest token: when, ExpressPlay's code, and the device the
    refused browser is registered as (None: not registered)."""

    time: datetime
    result_code: int | None
    meaning: str
    device: Device | None


@dataclass(frozen=True)
class Diagnosis:
    verdict: str
    ok: bool
    explanation: str
    token_device_id: str
    record_device_id: str
    registered_device_id: str
    registered_device_label: str
    records: list[RecordLine] = field(default_factory=list)
    lookup_error: str = ""
    looked_up: bool = False
    refusal: RefusalLine | None = None


def _line(record: Record, entitlement: Entitlement) -> RecordLine:
    code = record.result_code
    meaning = _("Licence granted.") if code == 0 else str(explain(code).meaning) if code is not None else ""
    return RecordLine(
        event_id=record.event_id,
        time=record.time,
        device_id=record.device_id,
        result_code=code,
        meaning=meaning,
        this_title=record.kid.lower() == entitlement.asset.kid.lower(),
        matches_token=bool(entitlement.token_device_id) and record.device_id == entitlement.token_device_id,
    )


def _refusal_since_token(entitlement: Entitlement) -> RefusalLine | None:
    """Return the player's newest refusal report for `entitlement` when no token was issued after it."""
    newest = (
        BindingEvent.objects.filter(
            entitlement=entitlement, kind__in=[EventKind.TOKEN_ISSUED, EventKind.LICENCE_REFUSED]
        )
        .select_related("reporting_device")
        .order_by("-created_at", "-id")
        .first()
    )
    if newest is None or newest.kind != EventKind.LICENCE_REFUSED:
        return None
    code = newest.expressplay_code
    return RefusalLine(
        time=newest.created_at,
        result_code=code,
        meaning=str(explain(code).meaning) if code is not None else _("The player gave no ExpressPlay code."),
        device=newest.reporting_device,
    )


def entitlement_diagnosis(
    entitlement: Entitlement, *, lookup: bool = True, client: ExpressPlayClient | None = None
) -> Diagnosis:
    """Return the side-by-side picture and a verdict: "OK", "bound to another device", "token expired",
    "rental ended", "never played", and the others below.

    With `lookup`, asks ExpressPlay's records live (one call, ADMIN_RECORD_LOOKUP_TIMEOUT seconds at most);
    without (or when they cannot be read), judges from Bindery's own data only, which includes the player's
    report of a refusal since the newest token.
    """
    records: list[Record] = []
    lookup_error = ""
    looked_up = lookup and entitlement.cookie is not None
    if looked_up and entitlement.cookie is not None:
        try:
            client = client or client_from_settings(timeout=settings.ADMIN_RECORD_LOOKUP_TIMEOUT)
            records = client.get_records(cookie=entitlement.cookie.value)
        except ExpressPlayError as exc:
            lookup_error = str(exc)
    lines = [_line(record, entitlement) for record in records]
    plays = [line for line in lines if line.this_title]
    record_device = next((r.device_id for r in records if r.device_id), "")
    # Before the first token, the device is the one the checkout browser registered.
    device = entitlement.device or (entitlement.cookie.device if entitlement.cookie else None)
    refusal = _refusal_since_token(entitlement)
    verdict, ok, explanation = _verdict(
        entitlement, plays, looked_up=looked_up and not lookup_error, refusal=refusal
    )
    return Diagnosis(
        verdict=verdict,
        ok=ok,
        explanation=explanation,
        token_device_id=entitlement.token_device_id,
        record_device_id=record_device,
        registered_device_id=device.device_id if device else "",
        registered_device_label=device.label if device else "",
        records=lines,
        lookup_error=lookup_error,
        looked_up=looked_up,
        refusal=refusal,
    )


def _device_name(entitlement: Entitlement, device_id: str) -> str:
    """Return how an operator tells a device apart: the customer's name for it and the start of its id, or
    that the customer never registered it."""
    device = (
        Device.objects.filter(user_id=entitlement.user_id, device_id=device_id).first() if device_id else None
    )
    if device is None:
        return _("a device the customer never registered (%(id)s…)") % {"id": device_id[:8] or "?"}
    return _("the customer's device “%(label)s” (%(id)s…)") % {"label": device.label, "id": device_id[:8]}


def _time(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def _refused_elsewhere(entitlement: Entitlement, refusal: RefusalLine) -> str:
    """Return the words on a device-mismatch refusal: the device the token is bound to and the one the refused
    browser is registered as, each as well as Bindery knows them."""
    bound = _device_name(entitlement, entitlement.token_device_id)
    values = {"time": _time(refusal.time), "bound": bound}
    if refusal.device is None:
        return (
            _(
                "Refused at %(time)s in a browser that is not registered: the token is bound to %(bound)s. Ask "
                "the customer to use the bound device, or to register that browser and move the title to it."
            )
            % values
        )
    values |= {"label": refusal.device.label, "id": refusal.device.device_id[:8]}
    if refusal.device.device_id == entitlement.token_device_id:
        return (
            _(
                "Refused at %(time)s in a browser registered as %(bound)s, the very device the token is bound "
                "to: that browser's device id has changed since it was registered (its browser data cleared, "
                "say). Ask the customer to register the browser again, then move the title to it."
            )
            % values
        )
    return (
        _(
            "Refused at %(time)s in another browser: the token is bound to %(bound)s; the refused browser is "
            "registered as “%(label)s” (%(id)s…). Ask the customer to use the bound device, or move the title."
        )
        % values
    )


def _verdict(
    entitlement: Entitlement,
    plays: list[RecordLine],
    *,
    looked_up: bool,
    refusal: RefusalLine | None = None,
) -> tuple[str, bool, str]:
    state = entitlement.state
    newest = plays[0] if plays else None
    if state == EntitlementState.REVOKED:
        return (
            _("revoked"),
            False,
            _("An operator revoked this entitlement; Bindery hands out no token for it."),
        )
    if entitlement.rental_over or state == EntitlementState.EXPIRED:
        return _("rental ended"), False, _("The rental period is over.")
    if state == EntitlementState.FAILED and entitlement.failure == EntitlementFailure.DEVICE_CHECK_NEEDED:
        return (
            _("held for a fresh device check"),
            False,
            _(
                "No token was issued to anyone: %(detail)s. The customer is asked to register the checkout browser "
                "again; the order then goes on by itself. The Security events below name every device involved."
            )
            % {"detail": entitlement.error_detail.removeprefix("held for a fresh device check: ")},
        )
    if state == EntitlementState.FAILED:
        meaning = (
            explain(entitlement.error_code).meaning
            if entitlement.error_code is not None
            else entitlement.error_detail
        )
        return (
            _("token not issued"),
            False,
            _("Issuing failed: %(meaning)s Retry once the cause is fixed.") % {"meaning": meaning},
        )
    if state == EntitlementState.PENDING:
        return _("being issued"), False, _("The worker is issuing a token right now.")
    if entitlement.device and not entitlement.device.is_active:
        return (
            _("bound to a removed device"),
            False,
            _(
                "The device was removed, so the token is not renewed. Move the title to one of the customer's devices."
            ),
        )
    # The player's report stands in for the records until they are read; read, they are the fuller truth.
    reported = refusal if not looked_up else None
    if reported and reported.result_code == DEVICE_MISMATCH_CODE:
        return _("bound to another device"), False, _refused_elsewhere(entitlement, reported)
    if newest and newest.result_code == DEVICE_MISMATCH_CODE:
        return (
            _("bound to another device"),
            False,
            _(
                "The newest licence request came from %(other)s, but the token is bound to %(bound)s. The "
                "customer is playing on another device: ask them to use the bound one, or move the title."
            )
            % {
                "other": _device_name(entitlement, newest.device_id),
                "bound": _device_name(entitlement, entitlement.token_device_id),
            },
        )
    if entitlement.token_expired or (newest and newest.result_code == -4901):
        return (
            _("token expired"),
            False,
            _("The token has expired; playing the title renews it for the same device."),
        )
    if reported:
        return _reported_verdict(reported)
    if not looked_up:
        return (
            _("token ready"),
            True,
            _("A token is ready. Look up ExpressPlay's records to see whether the device got its licence."),
        )
    if newest and newest.result_code == -4903:
        return _("viewing time used up"), False, _("The rental's viewing time after first play is over.")
    if newest and newest.result_code not in (0, None):
        return (
            _("licence refused"),
            False,
            _("The newest licence request was refused: %(meaning)s") % {"meaning": newest.meaning},
        )
    if not plays and entitlement.first_played_at:
        return (
            _("not played since the new token"),
            True,
            _(
                "The title was first played at %(time)s; no licence request with its new token (after a move, a "
                "re-issue or a renewal) is recorded yet."
            )
            % {"time": timezone.localtime(entitlement.first_played_at).strftime("%Y-%m-%d %H:%M:%S")},
        )
    if not plays:
        return (
            _("never played"),
            True,
            _("A token is ready but no licence request for this title is recorded yet."),
        )
    return (
        _("OK"),
        True,
        _("The bound device got its licence at %(time)s.")
        % {
            "time": timezone.localtime(newest.time).strftime("%Y-%m-%d %H:%M:%S")
            if newest and newest.time
            else "?"
        },
    )


def _reported_verdict(refusal: RefusalLine) -> tuple[str, bool, str]:
    """Return the verdict on a refusal the player reported for another reason than the device."""
    values = {"time": _time(refusal.time)}
    if refusal.result_code == -4901:
        return (
            _("token expired"),
            False,
            _("Refused at %(time)s: the token has expired; playing the title renews it for the same device.")
            % values,
        )
    if refusal.result_code == -4903:
        return (
            _("viewing time used up"),
            False,
            _("Refused at %(time)s: the rental's viewing time after first play is over.") % values,
        )
    return (
        _("licence refused"),
        False,
        _("Refused at %(time)s: %(meaning)s") % {**values, "meaning": refusal.meaning},
    )
