"""What the in-browser player needs from the server: its messages, in the user's language."""

from django.utils.translation import gettext as _


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
