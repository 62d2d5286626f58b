"""Pages of the binding app: register this browser as a device, and "My devices"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import selectors, services
from .exceptions import BindingError, DeviceCheckUnavailable, DeviceKeyInvalid
from .forms import DeviceNameForm, DeviceRenameForm
from .models import Device, Registration, RegistrationState
from .navigation import back_label
from .player import browser_cookie_value, player_config, player_messages
from .services.identity import IdentityInvalid, Proof

if TYPE_CHECKING:
    from .http import AuthenticatedHttpRequest


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _own_cookie(request: AuthenticatedHttpRequest, value: str) -> Registration:
    return get_object_or_404(Registration.objects.select_related("device"), value=value, user=request.user)


@login_required
@require_GET
def device_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """My devices: each device with its name, first and last seen; rename and remove."""
    devices = selectors.devices_for_user(request.user)
    this_browser = selectors.device_for_browser(request.user, browser_cookie_value(request))
    return render(
        request,
        "binding/devices.html",
        {
            "next": _safe_next(request),  # the register page sent the customer here: back there after
            "devices": devices,
            "this_browser": this_browser,
            "limit": settings.BINDING_DEVICE_LIMIT,
            "at_limit": len(devices) >= settings.BINDING_DEVICE_LIMIT,
            "swaps": services.device_swap_allowance(request.user),
        },
    )


@login_required
def register(request: AuthenticatedHttpRequest) -> HttpResponse:
    """GET: explain the device check. POST: start a registration attempt and go to its playback page."""
    next_url = _safe_next(request)
    user_agent = request.headers.get("User-Agent", "")
    this_browser = selectors.device_for_browser(request.user, browser_cookie_value(request))
    suggestion = (
        this_browser.label
        if this_browser
        else services.device_name_suggestion(user=request.user, user_agent=user_agent)
    )
    devices = selectors.devices_for_user(request.user)
    # At the limit, a new device would be refused after the whole check: say so now, with the devices' names.
    # A browser that is one of them (its registration forgotten) may still check again: it takes no new place.
    at_limit = this_browser is None and len(devices) >= settings.BINDING_DEVICE_LIMIT
    form = DeviceNameForm(request.POST if request.method == "POST" else None, initial={"name": suggestion})
    if request.method == "POST" and form.is_valid():
        previous = Registration.objects.filter(
            user=request.user, value=browser_cookie_value(request) or ""
        ).first()
        cookie = services.registration_create(
            user=request.user,
            user_agent=user_agent,
            device_name=form.cleaned_data["name"] or suggestion,
            replaces=previous,
        )
        url = reverse("binding:check", args=[cookie.value])
        return redirect(f"{url}?{urlencode({'next': next_url})}" if next_url else url)
    return render(
        request,
        "binding/register.html",
        {
            "form": form,
            "next": next_url,
            "back": back_label(next_url, request.user) if next_url else "",
            "at_limit": at_limit,
            "this_browser": this_browser,
            "devices": devices,
            "limit": settings.BINDING_DEVICE_LIMIT,
        },
    )


@login_required
@require_GET
def check(request: AuthenticatedHttpRequest, value: str) -> HttpResponse:
    """The device-check playback page of one registration attempt. It holds no token: the page asks for it
    (a POST to `check_start`) when it starts playing, and gets it once."""
    cookie = _own_cookie(request, value)
    asset = selectors.device_check_asset()
    next_url = _safe_next(request)
    return render(
        request,
        "binding/check.html",
        {
            "cookie": cookie,
            "asset": asset,
            "next": next_url,
            "back": back_label(next_url, request.user) if next_url else "",
            "player_messages": player_messages(),
            "player_config": player_config(
                asset=asset,
                request=request,
                registration=cookie.value,
                startUrl=reverse("binding:start", args=[cookie.value]),
                licensedUrl=reverse("binding:licensed", args=[cookie.value]),
                statusUrl=reverse("binding:status", args=[cookie.value]),
            ),
        },
    )


@login_required
@require_POST
def check_start(request: AuthenticatedHttpRequest, value: str) -> JsonResponse:
    """The page starts the device check: the device-check token's licence URL, once (409 after that)."""
    cookie = _own_cookie(request, value)
    try:
        proof = None
        if request.POST.get("key") or request.POST.get("signature"):
            proof = Proof.from_fields(request.POST.get("key"), request.POST.get("signature"))
        token = services.registration_check_start(
            cookie=cookie, drm=request.POST.get("drm") or None, proof=proof
        )
    except IdentityInvalid:
        response = JsonResponse({"ok": False, "message": str(DeviceKeyInvalid.default_message)}, status=400)
    except DeviceCheckUnavailable as exc:  # ExpressPlay gave no token: the attempt failed, a new one may work
        response = JsonResponse({"ok": False, "message": str(exc.message)}, status=503)
    except BindingError as exc:  # already started, or over
        response = JsonResponse({"ok": False, "message": str(exc.message)}, status=409)
    else:
        response = JsonResponse({"ok": True, "licenseUrl": token.license_url})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def licensed(request: AuthenticatedHttpRequest, value: str) -> JsonResponse:
    """The page reports that the device check got its licence: queue the record lookup."""
    cookie = _own_cookie(request, value)
    return JsonResponse({"queued": services.registration_licence_seen(cookie=cookie)})


@login_required
@require_GET
def status(request: AuthenticatedHttpRequest, value: str) -> JsonResponse:
    """Where the registration attempt is, in words; remember the browser's registration once bound."""
    cookie = _own_cookie(request, value)
    payload = selectors.registration_status(cookie)
    response = JsonResponse(payload)
    if cookie.state == RegistrationState.BOUND:
        response.set_signed_cookie(
            settings.BINDING_BROWSER_COOKIE,
            cookie.value,
            max_age=settings.BINDING_BROWSER_COOKIE_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


@login_required
@require_POST
def rename(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    device = get_object_or_404(Device.objects.active(), pk=pk, user=request.user)
    form = DeviceRenameForm(request.POST)
    if form.is_valid():
        try:
            services.device_rename(device=device, label=form.cleaned_data["label"], actor_user=request.user)
            messages.success(request, _("Device renamed."))
        except BindingError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, _("A device name needs 1 to 80 characters."))
    return redirect("binding:devices")


@login_required
@require_POST
def remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    device = get_object_or_404(Device.objects.active(), pk=pk, user=request.user)
    try:
        services.device_remove(device=device, actor_user=request.user)
    except BindingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("“%(label)s” was removed from your devices.") % {"label": device.label})
    next_url = _safe_next(request)  # from the register page at the limit: its way back goes on
    if next_url:
        return redirect(f"{reverse('binding:devices')}?{urlencode({'next': next_url})}")
    return redirect("binding:devices")
