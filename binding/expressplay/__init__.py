"""ExpressPlay client: token requests and record retrieval over HTTP.

`client_from_settings()` is the only place that reads Django settings; everything else in this package is
plain HTTP and dataclasses.
"""

import threading

from .client import (
    DEVICE_ID_PARAM,
    ExpressPlayClient,
    https_licence_url,
    licence_seconds,
    parse_error,
    parse_records,
)
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
    LicenceAnswer,
    LicenseToken,
    PlayReadyOutputProtection,
    Policy,
    Record,
    Rental,
)

_per_thread = threading.local()


def client_from_settings(*, timeout: float | None = None) -> ExpressPlayClient:
    """Return a client for the ExpressPlay environment the settings select (EXPRESSPLAY_*); `timeout`
    overrides EXPRESSPLAY_TIMEOUT (an operator's page waits less than a worker).

    One client per thread and configuration, so its HTTP session keeps connections (and TLS sessions) to
    ExpressPlay alive between calls; requests' Session is not meant to be shared between threads.
    """
    from django.conf import settings

    config = (
        settings.EXPRESSPLAY_ENV,
        settings.EXPRESSPLAY_SANDBOX_URL,
        settings.EXPRESSPLAY_PRODUCTION_DOMAIN,
        settings.EXPRESSPLAY_CUSTOMER_AUTHENTICATOR,
        settings.EXPRESSPLAY_TIMEOUT if timeout is None else timeout,
        settings.EXPRESSPLAY_DEVICE_ID_PARAM,
        settings.EXPRESSPLAY_COOKIE_HEADER,
        settings.EXPRESSPLAY_WIDEVINE_SECURITY_LEVEL,
        settings.EXPRESSPLAY_WIDEVINE_HDCP,
    )
    cached = getattr(_per_thread, "client", None)
    if cached is not None and cached[0] == config:
        client: ExpressPlayClient = cached[1]
        return client
    (
        environment,
        sandbox_url,
        domain,
        authenticator,
        timeout,
        device_id_param,
        cookie_header,
        wv_level,
        wv_hdcp,
    ) = config
    client = ExpressPlayClient(
        endpoints=Endpoints.for_environment(environment, sandbox_url=sandbox_url, production_domain=domain),
        customer_authenticator=authenticator,
        timeout=timeout,
        device_id_param=device_id_param,
        cookie_header=cookie_header,
        https_licence_urls=Environment(environment) is not Environment.SANDBOX,
        widevine_security_level=wv_level,
        widevine_hdcp=wv_hdcp,
    )
    _per_thread.client = (config, client)
    return client


__all__ = [
    "DEVICE_ID_PARAM",
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
    "LicenceAnswer",
    "LicenseToken",
    "PlayReadyOutputProtection",
    "Policy",
    "Record",
    "Rental",
    "client_from_settings",
    "explain",
    "https_licence_url",
    "licence_seconds",
    "parse_error",
    "parse_records",
]
