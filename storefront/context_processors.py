from django.conf import settings


def bindery(request):
    """Expose the ExpressPlay environment so every page can say whether it runs against the sandbox."""
    return {
        "expressplay_env": settings.EXPRESSPLAY_ENV,
        "axes_cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
