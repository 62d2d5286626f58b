"""HTTPS, cookies, sign-in and password-reset throttling, and the Content-Security-Policy."""

from datetime import timedelta
from urllib.parse import urlsplit

from csp.constants import NONE, SELF, UNSAFE_INLINE

from .base import DEBUG, env
from .expressplay import (
    EXPRESSPLAY_DRMS,
    EXPRESSPLAY_ENV,
    EXPRESSPLAY_LICENCE_ORIGINS,
    EXPRESSPLAY_PRODUCTION_DOMAIN,
    EXPRESSPLAY_SANDBOX_URL,
)

# HTTPS defaults to on in production-like setups (DEBUG off and a real ExpressPlay environment) and off for the
# offline demo on http://127.0.0.1. README "Deploying" lists what to set.
HTTPS = env.bool("HTTPS", default=not DEBUG and EXPRESSPLAY_ENV != "sandbox")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^health/(live/)?$"]  # load balancers probe over plain HTTP
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=HTTPS)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=HTTPS)
# Behind a proxy that terminates TLS: trust its X-Forwarded-Proto header (only then: it could be forged).
BEHIND_HTTPS_PROXY = env.bool("BEHIND_HTTPS_PROXY", default=False)
if BEHIND_HTTPS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True

# Sign-in throttling (django-axes): after AXES_FAILURE_LIMIT failures for one username from one address,
# that pair waits AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind the proxy, the client's address is the last one the proxy appended to X-Forwarded-For.
AXES_CLIENT_IP_CALLABLE = "bindery.security.client_ip"
# Password-reset mails: at most PASSWORD_RESET_PER_ADDRESS to one address and PASSWORD_RESET_PER_CLIENT
# requests from one client address per PASSWORD_RESET_PERIOD_MINUTES; past that, the same page and no mail.
PASSWORD_RESET_PER_ADDRESS = env.int("PASSWORD_RESET_PER_ADDRESS", default=3)
PASSWORD_RESET_PER_CLIENT = env.int("PASSWORD_RESET_PER_CLIENT", default=10)
PASSWORD_RESET_PERIOD_MINUTES = env.int("PASSWORD_RESET_PERIOD_MINUTES", default=60)


# Content-Security-Policy (django-csp): our own scripts only, media from blob: (MSE), licence requests to the
# sandbox or ExpressPlay's licence servers, media from MEDIA_URL's origin.
def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


_LICENCE_HOSTS = {"pr": "pr", "wv": "wv", "fp": "fp"}
_LICENCE_ORIGINS = (
    [_origin(EXPRESSPLAY_SANDBOX_URL)]
    if EXPRESSPLAY_ENV == "sandbox"
    else [
        # Exactly the licence hosts of the DRMs offered, in this environment (research section 4/7).
        f"https://{_LICENCE_HOSTS[drm]}."
        + ("test.expressplay.com" if EXPRESSPLAY_ENV == "test" else EXPRESSPLAY_PRODUCTION_DOMAIN)
        for drm in EXPRESSPLAY_DRMS
        if drm in _LICENCE_HOSTS
    ]
) + [_origin(url) or url for url in EXPRESSPLAY_LICENCE_ORIGINS]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # Django admin and a few templates set inline style attributes; scripts are what matter for XSS.
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "media-src": [SELF, "blob:"],
        "connect-src": [SELF, *_LICENCE_ORIGINS, *env.list("CSP_MEDIA_ORIGINS", default=[])],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
