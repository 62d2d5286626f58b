"""ExpressPlay: which environment, its credentials, the DRMs offered and how each binds to a device; the
health checks that ask it."""

from .base import env

# The development authenticator only ever works against the sandbox; binding/checks.py refuses it on the
# test and production hosts.
EXPRESSPLAY_DEV_AUTHENTICATOR = "900001,0123456789abcdef0123456789abcdef"
EXPRESSPLAY_ENV = env("EXPRESSPLAY_ENV", default="sandbox")
EXPRESSPLAY_CUSTOMER_AUTHENTICATOR = env(
    "EXPRESSPLAY_CUSTOMER_AUTHENTICATOR", default=EXPRESSPLAY_DEV_AUTHENTICATOR
)
# Where the sandbox is reached by the worker (and, through the licence URLs it returns, by browsers).
EXPRESSPLAY_SANDBOX_URL = env("EXPRESSPLAY_SANDBOX_URL", default="http://127.0.0.1:8000/sandbox")
# ExpressPlay's region for the production hosts: service.expressplay.com (Europe) or service.expressplay.cn.
EXPRESSPLAY_PRODUCTION_DOMAIN = env("EXPRESSPLAY_PRODUCTION_DOMAIN", default="service.expressplay.com")
EXPRESSPLAY_TIMEOUT = env.float("EXPRESSPLAY_TIMEOUT", default=10.0)
# /health/ runs its checks at most once per HEALTH_CACHE seconds and asks ExpressPlay at most once per
# HEALTH_EXPRESSPLAY_CACHE (per web process): a run takes seconds, and anyone may ask.
HEALTH_CACHE = env.float("HEALTH_CACHE", default=5.0)
HEALTH_EXPRESSPLAY_CACHE = env.float("HEALTH_EXPRESSPLAY_CACHE", default=30.0)
# Who is not staff sees only /health/'s overall status, unless sending this token (Authorization: Bearer,
# or ?token=): each check's detail names hosts and ports. Empty: staff only.
HEALTH_TOKEN = env("HEALTH_TOKEN", default="")
# An operator's live record lookup on an entitlement's page waits at most this long.
ADMIN_RECORD_LOOKUP_TIMEOUT = env.float("ADMIN_RECORD_LOOKUP_TIMEOUT", default=3.0)
# The device restriction's parameter name, as the device-binding document spells it. ExpressPlay's names are
# case-sensitive and no readable ExpressPlay page confirms this one; binding/checks.py warns when it differs.
EXPRESSPLAY_DEVICE_ID_PARAM = env("EXPRESSPLAY_DEVICE_ID_PARAM", default="deviceid")
# Send the correlation cookie in this HTTP header instead of the `cookie` parameter (empty: parameter).
# ExpressPlay allows headers without naming one; the sandbox reads SANDBOX_COOKIE_HEADER.
EXPRESSPLAY_COOKIE_HEADER = env("EXPRESSPLAY_COOKIE_HEADER", default="")

# The DRMs this deployment offers, in the order a registering browser tries them (EME
# requestMediaKeySystemAccess): pr PlayReady (Edge, Windows, most TVs), wv Widevine (Chrome, Firefox, Android),
# fp FairPlay (Safari, iPhone, iPad). A browser registers with the first one it supports; every token for its
# device comes from that DRM's token API. PlayReady first: it is the one ExpressPlay documents binding for.
EXPRESSPLAY_DRMS = env.list("EXPRESSPLAY_DRMS", default=["pr", "wv", "fp"])
# How each DRM's titles are bound to a device (decision 0013), as drm=mode pairs:
#   expressplay  the token carries the device restriction and ExpressPlay's licence server enforces it;
#   bindery      no restriction is sent; Bindery issues a short token at each Play, only to the browser that
#                proves it is the entitlement's device (its device key and signed registration cookie);
#   refuse       titles are not sold to devices of that DRM, and the shop says why.
# ExpressPlay's own error tables refuse binding on Widevine (-7002) and FairPlay (-6008); when it answers so,
# that DRM moves to its EXPRESSPLAY_BINDING_FALLBACK mode (shown in admin and /health/) and the order goes on.
EXPRESSPLAY_BINDING = env.dict(
    "EXPRESSPLAY_BINDING", default={"pr": "expressplay", "wv": "expressplay", "fp": "expressplay"}
)
EXPRESSPLAY_BINDING_FALLBACK = env.dict(
    "EXPRESSPLAY_BINDING_FALLBACK", default={"pr": "bindery", "wv": "bindery", "fp": "bindery"}
)
# FairPlay: the URL of the application's FairPlay Streaming certificate (from Apple, the one registered with
# ExpressPlay), which Safari needs before it can ask for a licence. Not needed in the sandbox.
EXPRESSPLAY_FAIRPLAY_CERTIFICATE_URL = env("EXPRESSPLAY_FAIRPLAY_CERTIFICATE_URL", default="")
# Widevine's robustness and output rules for every Widevine token (research section 3): securityLevel 1-5
# (1 software, 5 hardware), hdcpOutputControl 0-5.
EXPRESSPLAY_WIDEVINE_SECURITY_LEVEL = env.int("EXPRESSPLAY_WIDEVINE_SECURITY_LEVEL", default=1)
EXPRESSPLAY_WIDEVINE_HDCP = env.int("EXPRESSPLAY_WIDEVINE_HDCP", default=0)
# Licence servers the player may call besides the ones derived from the environment and the DRMs (CSP).
EXPRESSPLAY_LICENCE_ORIGINS = env.list("EXPRESSPLAY_LICENCE_ORIGINS", default=[])

# Where customers write when an order needs a person (a revoked title, a refused licence): shown on their pages.
SUPPORT_EMAIL = env("SUPPORT_EMAIL", default="support@bindery.example")
