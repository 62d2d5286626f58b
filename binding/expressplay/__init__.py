"""ExpressPlay client: token requests and record retrieval over HTTP.

`client_from_settings()` is the only place that reads Django settings; everything else in this package is
plain HTTP and dataclasses.
"""

from .client import ExpressPlayClient, parse_error, parse_records
from .errors import ERROR_CODES, ErrorCode, explain
from .exceptions import (
    ExpressPlayError,
    ExpressPlayMalformedResponse,
    ExpressPlayRejected,
    ExpressPlayRequestInvalid,
    ExpressPlayTimeout,
    ExpressPlayTransportError,
)
from .types import (
    BuyToOwn,
    ContentKey,
    Drm,
    Endpoints,
    Environment,
    LicenseToken,
    PlayReadyOutputProtection,
    Policy,
    Record,
    Rental,
)


def client_from_settings() -> ExpressPlayClient:
    """Return a client for the ExpressPlay environment the settings select (EXPRESSPLAY_*)."""
    from django.conf import settings

    endpoints = Endpoints.for_environment(
        settings.EXPRESSPLAY_ENV,
        sandbox_url=settings.EXPRESSPLAY_SANDBOX_URL,
        production_domain=settings.EXPRESSPLAY_PRODUCTION_DOMAIN,
    )
    return ExpressPlayClient(
        endpoints=endpoints,
        customer_authenticator=settings.EXPRESSPLAY_CUSTOMER_AUTHENTICATOR,
        timeout=settings.EXPRESSPLAY_TIMEOUT,
        device_id_param=settings.EXPRESSPLAY_DEVICE_ID_PARAM,
    )


__all__ = [
    "ERROR_CODES",
    "BuyToOwn",
    "ContentKey",
    "Drm",
    "Endpoints",
    "Environment",
    "ErrorCode",
    "ExpressPlayClient",
    "ExpressPlayError",
    "ExpressPlayMalformedResponse",
    "ExpressPlayRejected",
    "ExpressPlayRequestInvalid",
    "ExpressPlayTimeout",
    "ExpressPlayTransportError",
    "LicenseToken",
    "PlayReadyOutputProtection",
    "Policy",
    "Record",
    "Rental",
    "client_from_settings",
    "explain",
    "parse_error",
    "parse_records",
]
