from django.conf import settings
from django.urls import NoReverseMatch, reverse


def _sandbox_url() -> str:
    """Return the sandbox's status page, or "" where the sandbox is not mounted (a real ExpressPlay)."""
    try:
        return reverse("sandbox:status")
    except NoReverseMatch:
        return ""


def bindery(request):
    """Expose the ExpressPlay environment so every page can say whether it runs against the sandbox, and the
    sandbox's address only where it is served."""
    return {
        "expressplay_env": settings.EXPRESSPLAY_ENV,
        "sandbox_url": _sandbox_url(),
        "axes_cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
