"""What the in-browser player needs from the server, for every page that plays (the device check and the
shop's player): its configuration, its messages in the user's language, and which registration this browser
remembers."""

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _


def browser_cookie_value(request: HttpRequest) -> str | None:
    """Return the correlation value this browser registered with (signed HTTP cookie), if any."""
    return request.get_signed_cookie(settings.BINDING_BROWSER_COOKIE, default=None)


def player_config(*, manifest_url: str, drm: str | None = None, **page_urls: str) -> dict:
    """Return the player's configuration: the manifest, the key system of `drm` (the device's DRM; ClearKey with
    the sandbox), whether to sign licence requests with the simulated device identity, and the page's own
    URLs (licenceUrl, statusUrl, ...)."""
    from .services.drm import key_system, offered_drms

    drm = drm or offered_drms()[0]
    return {
        "manifestUrl": manifest_url,
        "drm": drm,
        "keySystem": key_system(drm),
        "signRequests": settings.EXPRESSPLAY_ENV == "sandbox",
        **page_urls,
    }


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
        "-4905": _("This title is bound to another of your devices, so it cannot play in this browser."),
        "-4908": _("This licence request was already used. Reload the page and try again."),
        "relookup": _(
            "The DRM identity of this device has changed since you registered it. Bindery is asking ExpressPlay for a "
            "new licence for it…"
        ),
    }
