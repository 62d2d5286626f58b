"""What the in-browser player needs from the server, for every page that plays (the device check and the
shop's player): its configuration, its messages in the user's language, and which registration this browser
remembers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _

from .expressplay.errors import DEVICE_MISMATCH

if TYPE_CHECKING:
    from .models import MediaAsset


def browser_cookie_value(request: HttpRequest) -> str | None:
    """Return the correlation value this browser registered with (signed HTTP cookie), if any."""
    return request.get_signed_cookie(settings.BINDING_BROWSER_COOKIE, default=None)


# The EME key systems a registering browser is asked for, per DRM, in the order tried: Edge's hardware-backed
# PlayReady ("recommendation") before the classic name; Safari's modern FairPlay name before the legacy one.
DETECT_KEY_SYSTEMS = {
    "pr": ["com.microsoft.playready.recommendation", "com.microsoft.playready"],
    "wv": ["com.widevine.alpha"],
    "fp": ["com.apple.fps", "com.apple.fps.1_0"],
}


def present_as(request: HttpRequest | None) -> str | None:
    """Return the DRM this browser is presented as in the sandbox's demo, if the presenter chose one."""
    from .services.drm import offered_drms

    if request is None or settings.EXPRESSPLAY_ENV != "sandbox":
        return None
    # The sandbox sets it (sandbox/views.py present_as); live deployments never read it: there a browser's DRM is
    # what its EME supports.
    name = settings.SANDBOX_PRESENT_AS_COOKIE
    drm = request.get_signed_cookie(name, default=None, salt=name)
    return drm if drm in offered_drms() else None


def playback(
    asset: MediaAsset | None, drm: str, *, absolute: Callable[[str], str] = lambda url: url
) -> dict[str, Any]:
    """Return how a browser of `drm` plays `asset`: the EME key system, the manifest (DASH, or HLS for FairPlay)
    and, for FairPlay, the server certificate. In the sandbox every DRM plays the DASH manifest through ClearKey,
    the CDM every test browser has (the sandbox's licence servers answer in ClearKey)."""
    from .services.drm import key_system

    live_fairplay = drm == "fp" and settings.EXPRESSPLAY_ENV != "sandbox"
    manifest = ""
    if asset is not None:
        manifest = asset.hls_manifest_url if live_fairplay else asset.manifest_url
    return {
        "keySystem": key_system(drm),
        "manifestUrl": absolute(manifest) if manifest else "",
        "certificateUrl": settings.EXPRESSPLAY_FAIRPLAY_CERTIFICATE_URL if live_fairplay else "",
        "fairplay": live_fairplay,
    }


def drm_choices() -> list[dict[str, Any]]:
    """Return the offered DRMs in the order a registering browser tries them, with the key systems to ask for."""
    from .models import DrmChoices
    from .services.drm import offered_drms

    return [
        {"drm": drm, "label": str(DrmChoices(drm).label), "keySystems": DETECT_KEY_SYSTEMS[drm]}
        for drm in offered_drms()
    ]


def player_config(
    *,
    asset: MediaAsset | None = None,
    drm: str | None = None,
    request: HttpRequest | None = None,
    absolute: Callable[[str], str] | None = None,
    **page_urls: str,
) -> dict[str, Any]:
    """Return the player's configuration.

    With `drm` (a device's DRM, on a title's page): how that DRM plays `asset`. Without it (the device-check
    pages, where the browser is still to say which DRM it has): how every offered DRM would play it, the key
    systems to detect them by (static/js/drm-detect.js), and in the sandbox the DRM the presenter chose for
    this browser. Also whether licence requests carry the simulated device identity, and the page's own URLs
    (startUrl, statusUrl, ...)."""
    from .services.drm import offered_drms

    absolute = absolute or (lambda url: url)
    sandbox = settings.EXPRESSPLAY_ENV == "sandbox"
    chosen = drm or present_as(request) or offered_drms()[0]
    config = {
        "drm": chosen,
        **playback(asset, chosen, absolute=absolute),
        "sandbox": sandbox,
        "signRequests": sandbox,
        **page_urls,
    }
    if drm is None:
        config["detect"] = drm_choices()
        config["presentAs"] = present_as(request)
        config["playback"] = {each: playback(asset, each, absolute=absolute) for each in offered_drms()}
    return config


def player_messages() -> dict[str, str]:
    """Return every message the player may show, keyed by player state or licence server error code."""
    return {
        "loading": _("Loading…"),
        "licensed": _("Licence granted. Starting playback…"),
        "playing": _("Playing."),
        "ended": _("Finished playing."),
        "no-eme": _(
            "This browser cannot play protected video here (no EME support, or the page is not on a secure address)."
        ),
        "no-drm": _(
            "This browser supports none of the DRMs this shop uses ({drms}), so it cannot be registered here. Try "
            "another browser: Edge, Chrome, Firefox or Safari."
        ),
        "drm-detected": _("This browser registers with {drm}, the DRM it supports."),
        "drm-presented": _("This browser registers as a {drm} device, as the presenter chose."),
        "drm-simulated": _(
            "This browser registers as a {drm} device (simulated: the sandbox plays it in ClearKey)."
        ),
        "no-identity": _("This browser could not prove its device identity. Allow site data and try again."),
        "timeout": _("Playback did not start in time. Check your connection and try again."),
        "playback": _("The video could not be played in this browser."),
        "licence-refused": _("The licence server refused to play this title here."),
        "-4001": _("The licence server could not verify this device. Reload the page and try again."),
        "-4010": _("This playback link is no longer valid. Go back and open the title again."),
        "-4901": _("This playback link has expired. Go back and open the title again."),
        "-4902": _("This rental has ended."),
        "-4903": _("The viewing time of this rental is used up."),
        "-4904": _("This licence is for another title."),
        str(DEVICE_MISMATCH): _(
            "This title is bound to another of your devices, so it cannot play in this browser."
        ),
        "-4908": _("This licence request was already used. Reload the page and try again."),
        "relookup": _(
            "The DRM identity of this device has changed since you registered it. Bindery is asking ExpressPlay for a "
            "new licence for it…"
        ),
    }
