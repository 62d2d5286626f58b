"""System checks of the API (`manage.py check --deploy`)."""

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_public_url(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    """Webhooks carry links built from BINDERY_PUBLIC_URL: a deployment needs its real address."""
    host = urlsplit(settings.BINDERY_PUBLIC_URL).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        return []
    return [
        Warning(
            f"BINDERY_PUBLIC_URL is {settings.BINDERY_PUBLIC_URL}: links in webhooks would point at this machine.",
            hint="Set BINDERY_PUBLIC_URL to the address storefronts reach Bindery at (https://…).",
            id="api.W001",
        )
    ]
