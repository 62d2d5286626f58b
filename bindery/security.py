"""Who the client is, for sign-in throttling (django-axes)."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """Return the client's address: REMOTE_ADDR, or behind our HTTPS proxy (BEHIND_HTTPS_PROXY) the last
    address in X-Forwarded-For, the one the proxy itself appended (earlier ones are the client's to forge)."""
    if settings.BEHIND_HTTPS_PROXY:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
        ]
        if forwarded:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR", "")
