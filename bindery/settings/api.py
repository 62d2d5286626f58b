"""The entitlement API (/api/v1/): DRF, its schema, request bodies, webhooks and SEES."""

from .base import env
from .expressplay import EXPRESSPLAY_ENV

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ClientKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.authentication.HasClientKey"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.BoundedJSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ClientKeyThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": env("API_THROTTLE_RATE", default="600/minute")},
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
# Bodies the API reads (api/parsers.py): larger ones answer 413, deeper ones 400, both as problem details.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=256 * 1024)
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=32)
SPECTACULAR_SETTINGS = {
    "TITLE": "Bindery entitlement API",
    "DESCRIPTION": (
        "Device-bound ExpressPlay entitlements for any storefront: start a device check for a customer, then "
        "create entitlements (buy to own, or rent) bound to the device it found. Authenticate with "
        "`Authorization: Api-Key <key>` (keys are made in admin). Errors are RFC 9457 problem details."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.problems.document_problems",
    ],
}
# Webhooks (api/webhooks.py): HTTPS endpoints only, except plain HTTP to this machine in the sandbox demo.
WEBHOOK_ALLOW_LOOPBACK_HTTP = env.bool("WEBHOOK_ALLOW_LOOPBACK_HTTP", default=EXPRESSPLAY_ENV == "sandbox")
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
# Seconds one send may take in all: resolving, connecting, TLS and the whole answer (api/webhook_client.py).
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10.0)
# Seconds a rotated-out signing secret keeps signing deliveries, next to the new one (24 h): time for the
# client to deploy the new secret.
WEBHOOK_SECRET_GRACE = env.int("WEBHOOK_SECRET_GRACE", default=24 * 3600)
# Endpoints one API client may register: every one receives every event.
WEBHOOK_MAX_ENDPOINTS = env.int("WEBHOOK_MAX_ENDPOINTS", default=10)
# SEES compatibility (api/sees.py): how long one request waits for the worker's lookup and token.
SEES_WAIT = env.float("SEES_WAIT", default=5.0)
# Threads per web process that may serve SEES, waiting included: the rest are answered "send again" (error 5)
# at once, so that a burst of SEES calls never holds every thread of the web server (8 per process in the demo).
SEES_MAX_CONCURRENT = env.int("SEES_MAX_CONCURRENT", default=3)
# requestType 1 (time-based): a token bound in time only, with no device restriction, as SEES issues it. The API
# client decided that entitlement itself (decision 0008); False answers it refused, in words.
SEES_TIME_BASED_TOKENS = env.bool("SEES_TIME_BASED_TOKENS", default=True)
