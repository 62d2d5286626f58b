"""The sandbox, the offline ExpressPlay stand-in served under /sandbox/ in the demo."""

from .base import SECRET_KEY, env
from .expressplay import EXPRESSPLAY_CUSTOMER_AUTHENTICATOR

SANDBOX_CUSTOMER_AUTHENTICATOR = env(
    "SANDBOX_CUSTOMER_AUTHENTICATOR", default=EXPRESSPLAY_CUSTOMER_AUTHENTICATOR
)
SANDBOX_TOKEN_SECRET = env("SANDBOX_TOKEN_SECRET", default=SECRET_KEY)
# DRMs whose token endpoint accepts a device restriction. ExpressPlay documents -7002 (Widevine) and -6008
# (FairPlay) for it, so only PlayReady by default.
SANDBOX_DEVICE_BINDING_DRMS = env.list("SANDBOX_DEVICE_BINDING_DRMS", default=["pr"])
# The one spelling of the device restriction the sandbox reads; it ignores any other, as it ignores every
# unknown parameter, so a client that misspells it gets an unbound token and the binding tests fail.
SANDBOX_DEVICE_ID_PARAM = env("SANDBOX_DEVICE_ID_PARAM", default="deviceid")
# What getrecord?cookie= returns: "recent" (up to the 32 newest, as ExpressPlay's older page says, and what
# gives operators a history) or "latest" (the newest one only, as its current page says). The client reads both.
SANDBOX_GETRECORD_COOKIE_MODE = env("SANDBOX_GETRECORD_COOKIE_MODE", default="recent")
SANDBOX_DEVICE_CLOCK_SKEW = env.int("SANDBOX_DEVICE_CLOCK_SKEW", default=300)
# The signed cookie of the sandbox's "present this browser as a PlayReady / Widevine / FairPlay device" (the
# presenter's page sets it; binding/player.py reads it in the sandbox only, never live).
SANDBOX_PRESENT_AS_COOKIE = "bindery_present_as"
# The header in which the sandbox also accepts the correlation cookie of a token request.
SANDBOX_COOKIE_HEADER = env("SANDBOX_COOKIE_HEADER", default="ExpressPlayCookie")
# Faults the sandbox injects into token and record calls (sandbox/faults.py), e.g.
# "latency_ms=100,drop=0.05"; off when empty. Staff change them at run time on /sandbox/faults/.
SANDBOX_FAULTS = env("SANDBOX_FAULTS", default="")
