"""The sandbox's HTTP API: ExpressPlay's paths, parameters, response shapes and error codes."""

from __future__ import annotations

import binascii
import html
import json
import re
import time
from datetime import UTC, datetime

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from . import faults
from .device import KEY_HEADER, NONCE_HEADER, SIGNATURE_HEADER, TIME_HEADER, verify_device
from .errors import SandboxError
from .models import DRMS, FaultSettings, IssuedToken, Record
from .params import check_authenticator, error_format, token_claims
from .tokens import TokenClaims, TokenInvalid, b64url, b64url_decode, open_token, seal

RECENT_EVENTS = 32
MAX_LICENCE_REQUEST = 16 * 1024  # a ClearKey request names a few key ids
MAX_WINDOW = 1000


def _params(request: HttpRequest) -> dict[str, str]:
    source = request.POST if request.method == "POST" else request.GET
    params = {name: source[name] for name in source}
    header_cookie = request.headers.get(settings.SANDBOX_COOKIE_HEADER)
    if header_cookie is not None and "cookie" not in params:
        params["cookie"] = header_cookie
    return params


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("sandbox:status")).rstrip("/")


def _error(err: SandboxError, fmt: str) -> HttpResponse:
    if fmt == "json":
        body = {"errorCode": err.code, "errorMessage": err.message}
        if err.detail:
            body["errorDetail"] = err.detail
        return JsonResponse(body, status=err.status)
    text = html.escape(f"{err.code} {err.message}")
    return HttpResponse(
        f"<html><head><title>Error</title></head><body><h1>Error</h1><p>{text}</p></body></html>",
        status=err.status,
        content_type="text/html; charset=utf-8",
    )


def _when(seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds is not None else None


# --- token generation ---------------------------------------------------------------------------------------


@csrf_exempt
def token(request: HttpRequest, drm: str) -> HttpResponse:
    """Issue a PlayReady, Widevine or FairPlay token (GET or form POST), as /hms/{drm}/token does."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    params = _params(request)
    fmt = "html"
    active = faults.current()
    try:
        fmt = error_format(params)
        fault = faults.before_call(faults=active)
        check_authenticator(params, settings.SANDBOX_CUSTOMER_AUTHENTICATOR)
        claims = token_claims(
            drm,
            params,
            binding_drms=faults.device_binding_drms(),
            device_id_param=settings.SANDBOX_DEVICE_ID_PARAM,
        )
    except SandboxError as err:
        return _error(err, fmt)
    sealed = seal(claims, settings.SANDBOX_TOKEN_SECRET)
    IssuedToken.objects.create(
        jti=claims.jti,
        drm=drm,
        kid=claims.kid,
        rights_type=claims.rights_type,
        period_end=_when(claims.period_end),
        play_duration=claims.play_window[1] if claims.play_window else None,
        cookie=claims.cookie,
        device_id=claims.device_id,
        expires_at=_when(claims.expires),
    )
    if fault == "drop":
        faults.drop_answer(request, faults=active)  # the token exists; its answer never arrives
    base = _base_url(request)
    if drm == "pr":
        return JsonResponse(
            {"licenseAcquisitionUrl": f"{base}/playready/RightsManager.asmx", "token": sealed}
        )
    return HttpResponse(
        f"{base}/hms/{drm}/rights/?ExpressPlayToken={sealed}\r\n", content_type="text/uri-list"
    )


# --- redemption (the licence server) -------------------------------------------------------------------------


def _cors(response: HttpResponse) -> HttpResponse:
    # Browsers call ExpressPlay's licence servers from the storefront's origin; so they call the sandbox.
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = ", ".join(
        ["Content-Type", "ExpressPlayToken", KEY_HEADER, TIME_HEADER, NONCE_HEADER, SIGNATURE_HEADER]
    )
    response["Access-Control-Max-Age"] = "600"
    return response


def _requested_kids(body: bytes) -> list[str]:
    """Return the key ids (base64url, as sent) of a W3C ClearKey licence request."""
    if len(body) > MAX_LICENCE_REQUEST:
        raise SandboxError(-4906, "licence request too large")
    try:
        kids = json.loads(body)["kids"]
        if not isinstance(kids, list) or not kids or not all(isinstance(k, str) for k in kids):
            raise ValueError
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise SandboxError(-4906, 'expected {"kids": [...], "type": "temporary"}') from exc
    return kids


def _kid_hex(kid_b64: str) -> str:
    try:
        return b64url_decode(kid_b64).hex()
    except (ValueError, binascii.Error):
        return ""


def _log(record: Record) -> None:
    """Append `record` to the transaction log; raise -4908 when its nonce was logged before (a replayed
    request), after logging the replay itself without a nonce."""
    try:
        with transaction.atomic():
            record.save(force_insert=True)
    except IntegrityError as exc:
        replay = SandboxError(-4908)
        record.pk, record.nonce, record.result, record.message = None, None, replay.code, str(replay)[:200]
        record.save(force_insert=True)
        raise replay from exc


def _check_policy(claims: TokenClaims, now: float) -> None:
    """Refuse a licence the token's policy no longer allows: past its expiry (-4901), past a PlayReady
    rental's period end (-4902), or past its play window (-4903), which every DRM counts from the first
    licence granted for the token: PlayReady's rental.playDuration, Widevine's licenseDuration, FairPlay's
    rentalDuration."""
    if now >= claims.expires:
        raise SandboxError(-4901)
    if claims.period_end is not None and now >= claims.period_end:
        raise SandboxError(-4902)
    window = claims.play_window
    if window is not None:
        name, seconds = window
        first_play = (
            Record.objects.filter(token_jti=claims.jti, result=0)
            .order_by("event_id")
            .values_list("time", flat=True)
        ).first()
        if first_play is not None and now > first_play.timestamp() + seconds:
            raise SandboxError(-4903, f"{name} of {seconds} s has passed since the first licence")


@csrf_exempt
def rights(request: HttpRequest, drm: str) -> HttpResponse:
    """Redeem a token: answer a ClearKey licence request from a proven device, and log the event."""
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204))
    if request.method != "POST":
        return _cors(HttpResponseNotAllowed(["POST", "OPTIONS"]))
    body = request.body
    token_text = request.GET.get("ExpressPlayToken") or request.headers.get("ExpressPlayToken", "")
    # The DRM whose licence server was asked (the path's, not the token's): set once, here, so that every
    # record names it, granted, refused (even before the token is read) or replayed (_log reuses it).
    record = Record(drm=drm)
    try:
        try:
            claims = open_token(token_text, settings.SANDBOX_TOKEN_SECRET)
        except TokenInvalid as exc:
            raise SandboxError(-4010, str(exc)) from exc
        record.cookie, record.kid, record.token_jti = claims.cookie, claims.kid, claims.jti
        if claims.drm != drm:
            raise SandboxError(-4010, "token is for another DRM")
        record.device_id, record.nonce = verify_device(
            request.headers, body, max_skew=settings.SANDBOX_DEVICE_CLOCK_SKEW
        )
        kids = _requested_kids(body)
        _check_policy(claims, time.time())
        requested = next((kid for kid in kids if _kid_hex(kid) == claims.kid), None)
        if requested is None:
            raise SandboxError(-4904)
        if claims.device_id and claims.device_id != record.device_id:
            raise SandboxError(-4905)
        record.message = "licence granted"
        # One INSERT: the log entry, which also refuses a nonce seen before (the key is never sent twice).
        _log(record)
    except SandboxError as err:
        if record.pk is None:  # not logged yet (a replay has logged itself)
            record.result, record.message = err.code, str(err)[:200]
            try:
                _log(record)
            except SandboxError as replay:  # a refused request sent again is a replay too
                err = replay
        return _cors(JsonResponse({"errorCode": err.code, "errorMessage": err.message}, status=err.status))
    key = {"kty": "oct", "kid": requested, "k": b64url(bytes.fromhex(claims.key))}
    return _cors(JsonResponse({"keys": [key], "type": "temporary"}))


# --- record retrieval --------------------------------------------------------------------------------------


MAX_ID = 2**63 - 1  # what a database's bigint holds
ID_DIGITS = re.compile(r"[0-9]{1,19}")


def _non_negative(params: dict[str, str], name: str) -> int:
    value = params.get(name, "")
    if not ID_DIGITS.fullmatch(value) or int(value) > MAX_ID:
        raise SandboxError(-2035, f"{name} must be a whole number")
    return int(value)


@csrf_exempt
def getrecord(request: HttpRequest) -> HttpResponse:
    """Return transaction-log records by one selector: none, cookie, id, or start+length."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    params = _params(request)
    fmt = "html"
    active = faults.current()
    try:
        fmt = error_format(params)
        fault = faults.before_call(faults=active, lookup=True)
        if fault == "drop":
            faults.drop_answer(request, faults=active)
        check_authenticator(params, settings.SANDBOX_CUSTOMER_AUTHENTICATOR)
        window = "start" in params or "length" in params
        if sum(["cookie" in params, "id" in params, window]) > 1:
            raise SandboxError(-4907)
        newest_first = Record.objects.order_by("-event_id")
        if "cookie" in params:
            if fault == "no_record":
                return JsonResponse([], safe=False)
            if len(params["cookie"]) > 32 or not params["cookie"].isprintable():
                return JsonResponse([], safe=False)  # no token carries such a cookie, so no record has it
            matching = newest_first.filter(cookie=params["cookie"])
            if settings.SANDBOX_GETRECORD_COOKIE_MODE == "latest":
                latest = matching.first()
                return JsonResponse(latest.as_json() if latest else [], safe=False)
            return JsonResponse([r.as_json() for r in matching[:RECENT_EVENTS]], safe=False)
        if "id" in params:
            found = Record.objects.filter(event_id=_non_negative(params, "id")).first()
            return JsonResponse(found.as_json() if found else [], safe=False)
        if window:
            start, length = _non_negative(params, "start"), _non_negative(params, "length")
            if not 0 < length <= MAX_WINDOW:
                raise SandboxError(-2035, f"length must be 1 to {MAX_WINDOW}")
            page = Record.objects.order_by("event_id")[start : start + length]
            return JsonResponse([r.as_json() for r in page], safe=False)
        return JsonResponse([r.as_json() for r in newest_first[:RECENT_EVENTS]], safe=False)
    except SandboxError as err:
        return _error(err, fmt)


# --- status page -------------------------------------------------------------------------------------------


@staff_member_required
def status(request: HttpRequest) -> HttpResponse:
    """Staff only: what the sandbox issued and logged lately (never a key, never a whole token; it does name
    customers' correlation cookies and device ids)."""
    base = _base_url(request)
    context = {
        "base_url": base,
        "endpoints": [
            (_("PlayReady token"), f"{base}/hms/pr/token"),
            (_("Widevine token"), f"{base}/hms/wv/token"),
            (_("FairPlay token"), f"{base}/hms/fp/token"),
            (_("PlayReady licence"), f"{base}/playready/RightsManager.asmx"),
            (_("Widevine licence"), f"{base}/hms/wv/rights/"),
            (_("FairPlay licence"), f"{base}/hms/fp/rights/"),
            (_("Record retrieval"), f"{base}/cmiapi/getrecord/"),
        ],
        "binding_drms": drm_names(faults.device_binding_drms()),
        "cookie_mode": settings.SANDBOX_GETRECORD_COOKIE_MODE,
        "tokens": IssuedToken.objects.all()[:20],
        "records": Record.objects.all()[:20],
        "token_count": IssuedToken.objects.count(),
        "faults_active": faults.current().active,
        "record_count": Record.objects.count(),
    }
    return render(request, "sandbox/status.html", context)


# --- fault injection (staff only) ---------------------------------------------------------------------------


class FaultForm(forms.ModelForm):
    class Meta:
        model = FaultSettings
        fields = [
            "latency_ms",
            "jitter_ms",
            "server_error",
            "error_code",
            "error_codes",
            "hang",
            "hang_seconds",
            "drop",
            "no_record",
        ]

    def clean_error_codes(self):
        value = self.cleaned_data["error_codes"]
        if not faults.ERROR_CODES.fullmatch(value.strip()):
            raise forms.ValidationError(
                _("ExpressPlay error codes: negative numbers separated by spaces, like -2030 -2019.")
            )
        return value.strip()

    def clean(self):
        data = super().clean()
        for name, high in (("latency_ms", 60_000), ("jitter_ms", 60_000), ("hang_seconds", 120)):
            if not 0 <= (data.get(name) or 0) <= high:
                self.add_error(name, _("Between 0 and %(high)s.") % {"high": high})
        rates = ["server_error", "error_code", "hang", "drop", "no_record"]
        for name in rates:
            if not 0 <= (data.get(name) or 0) <= 1:
                self.add_error(name, _("A rate is between 0 and 1."))
        if sum(data.get(name) or 0 for name in rates) > 1:
            raise forms.ValidationError(_("The rates add up to more than 1."))
        return data


def drm_names(codes) -> str:
    """ "PlayReady, Widevine" for ("pr", "wv"); "none" for no DRM."""
    names = [name for code, name in DRMS if code in codes]
    return ", ".join(names) if names else _("none")


class DeviceBindingForm(forms.Form):
    """The switch "does ExpressPlay bind devices on this DRM", one box per DRM (not a fault: documented
    behaviour, PlayReady only, is the default; an account might differ)."""

    drms = forms.MultipleChoiceField(
        label=_("ExpressPlay binds devices on"),
        choices=DRMS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "A token request with a device restriction for an unticked DRM is refused, as ExpressPlay "
            "documents: -7002 for Widevine, -6008 for FairPlay."
        ),
    )

    @classmethod
    def for_now(cls, data=None) -> DeviceBindingForm:
        return cls(data, initial={"drms": list(faults.device_binding_drms())}, prefix="binding")

    def codes(self) -> str:
        chosen = set(self.cleaned_data["drms"])
        return ",".join(code for code, _name in DRMS if code in chosen)


def device_binding_context(request: HttpRequest, form: DeviceBindingForm | None = None) -> dict:
    """What the device-binding switch shows, here and on the presenter's page (sandbox/templatetags)."""
    return {
        "binding_form": form or DeviceBindingForm.for_now(),
        "binding_now": drm_names(faults.device_binding_drms()),
        "binding_default": drm_names(faults.default_device_binding_drms()),
        "may_change": request.user.has_perm("sandbox.change_faultsettings"),
    }


def _back(request: HttpRequest) -> str:
    """Where to go after a change: a `next` on this site (the presenter's page), else the faults page."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("sandbox:faults")


def _device_binding_save(request: HttpRequest, row: FaultSettings, form: DeviceBindingForm) -> HttpResponse:
    """Save the device-binding switch (its own form, so the fault presets never change it) or put it back
    to its default, and go back."""
    if "binding-default" in request.POST:
        faults.device_binding_default()
    else:
        row.device_binding_drms = form.codes()
        if row._state.adding:
            row.save()
        else:
            row.save(update_fields=["device_binding_drms", "updated_at"])
        faults.forget()
    messages.success(
        request,
        _("ExpressPlay binds devices on: %(drms)s. New token requests follow within a second.")
        % {"drms": drm_names(faults.device_binding_drms())},
    )
    return redirect(_back(request))


@staff_member_required
def fault_settings(request: HttpRequest) -> HttpResponse:
    """Staff only: switch the sandbox's injected faults on and off (a demo's "watch it survive" moment), and
    the DRMs on which ExpressPlay binds devices."""
    row = FaultSettings.objects.filter(pk=1).first() or FaultSettings(pk=1, **faults.current().as_dict())
    may_change = request.user.has_perm("sandbox.change_faultsettings")
    if request.method == "POST" and not may_change:
        raise PermissionDenied
    form = FaultForm(instance=row)
    binding_form = None
    if request.method == "POST" and "binding" in request.POST:
        binding_form = DeviceBindingForm.for_now(request.POST)
        if "binding-default" in request.POST or binding_form.is_valid():
            return _device_binding_save(request, row, binding_form)
    elif request.method == "POST":
        if "reset" in request.POST:
            faults.faults_off()
            messages.success(request, _("Faults switched off."))
            return redirect(_back(request))
        form = FaultForm(request.POST, instance=row)
        if form.is_valid():
            form.save()
            faults.forget()
            now_on = faults.current()
            if now_on.active:
                messages.success(
                    request,
                    _("Faults on: %(faults)s. They apply to new calls within a second.")
                    % {"faults": now_on.describe()},
                )
            else:
                messages.success(request, _("Faults switched off."))
            return redirect(_back(request))
    context = {"form": form, "active": faults.current().active, "may_change": may_change}
    context.update(device_binding_context(request, binding_form))
    return render(request, "sandbox/faults.html", context)


def faults_now_context() -> dict:
    """The faults in force, in words, for a line that always says them (the presenter's page)."""
    now = faults.current()
    return {"active": now.active, "faults": now.describe() if now.active else ""}


@staff_member_required
@require_GET
def faults_now(request: HttpRequest) -> JsonResponse:
    """Staff only: the faults in force now, {active, faults, line}, for pages that keep showing them."""
    context = faults_now_context()
    line = (
        _("Faults on: %(faults)s.") % {"faults": context["faults"]}
        if context["active"]
        else _("No faults: the sandbox answers like a healthy ExpressPlay.")
    )
    return JsonResponse({**context, "line": str(line)})


# --- presenting this browser as another DRM's device (the demo's "this browser as Safari") -------------------

PRESENT_AS_AGE = 30 * 24 * 3600


def present_as_context(request: HttpRequest) -> dict:
    """What the "present this browser as" switch shows (the presenter's page, sandbox/templatetags)."""
    name = settings.SANDBOX_PRESENT_AS_COOKIE
    now = request.get_signed_cookie(name, default="", salt=name)
    browsers = {
        "pr": _("Edge, Windows, TVs"),
        "wv": _("Chrome, Firefox, Android"),
        "fp": _("Safari, iPhone, iPad"),
    }
    return {
        "present_as_now": now if now in dict(DRMS) else "",
        "present_as_choices": [(code, label, browsers[code]) for code, label in DRMS],
    }


@require_POST
def present_as(request: HttpRequest) -> HttpResponse:
    """Present this browser, in the sandbox only, as a device of one DRM (`drm`: pr, wv or fp), or let its EME
    decide again (empty). Only its next device registration follows: a registered device keeps its DRM. Any
    visitor may: it is the browser's own claim, which a real page could make anyway (decision 0013)."""
    name = settings.SANDBOX_PRESENT_AS_COOKIE
    drm = request.POST.get("drm", "")
    response = redirect(_back(request))
    if drm in dict(DRMS):
        response.set_signed_cookie(
            name,
            drm,
            salt=name,
            max_age=PRESENT_AS_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
        messages.success(
            request,
            _("This browser now registers as a %(drm)s device (sandbox only). It plays through ClearKey.")
            % {"drm": dict(DRMS)[drm]},
        )
    else:
        response.delete_cookie(name, samesite="Lax")
        messages.success(request, _("This browser now registers with the DRM its own EME supports."))
    return response
