"""Validation of token requests, parameter by parameter, with ExpressPlay's error codes.

The order of the checks follows ExpressPlay's parameter tables (research/expressplay-api.md, sections 2-5):
authentication first, then key material, then restrictions, then the DRM's own parameters.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Collection, Mapping
from datetime import datetime

from .errors import SandboxError
from .tokens import TokenClaims

MAX_LIFETIME = 30 * 24 * 3600
MAX_PLAY_SECONDS = MAX_LIFETIME * 12  # a year of play window is the most the sandbox takes
HEX32 = re.compile(r"[0-9a-fA-F]{32}")
HEX = re.compile(r"[0-9a-fA-F]*")
# ASCII digits only: str.isdigit() is also true for superscripts and other scripts, which int() refuses.
DIGITS = re.compile(r"[0-9]{1,12}")
SIGNED_DIGITS = re.compile(r"-?[0-9]{1,12}")
OPL_PARAMS = (
    "analogVideoOPL",
    "compressedDigitalAudioOPL",
    "compressedDigitalVideoOPL",
    "uncompressedDigitalAudioOPL",
    "uncompressedDigitalVideoOPL",
)
# The device restriction as the device-binding document spells it. Names are case-sensitive and the sandbox
# reads exactly one (SANDBOX_DEVICE_ID_PARAM): any other spelling is an unknown parameter, ignored like every
# other, so a misspelt restriction yields an unbound token, the silent failure a lenient ExpressPlay would give.
DEVICE_ID_PARAM = "deviceid"


def error_format(params: Mapping[str, str]) -> str:
    """Return the requested error format; raise -3004 (answered in HTML) for an unknown one."""
    value = params.get("errorFormat", "html")
    if value not in ("html", "json"):
        raise SandboxError(-3004)
    return value


def check_authenticator(params: Mapping[str, str], expected: str) -> None:
    """Raise -2017 when no customerAuthenticator is given, -2018 when it is not `expected`.

    Compared in constant time: a comparison that stops at the first differing character tells a caller,
    through the time it takes, how much of a guess is right. Bytes, since compare_digest refuses non-ASCII str.
    """
    given = params.get("customerAuthenticator")
    if not given:
        raise SandboxError(-2017)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise SandboxError(-2018)


LATEST = 100 * 365 * 24 * 3600  # no time further than a century away is meant


def parse_time(value: str, *, now: int, code: int) -> int:
    """Return Unix seconds for an RFC 3339 UTC time ending in Z, or +seconds from now (within a century)."""
    if value.startswith("+"):
        if not DIGITS.fullmatch(value[1:]) or int(value[1:]) > LATEST:
            raise SandboxError(code, "relative time must be +seconds, at most a century")
        return now + int(value[1:])
    if not value.endswith("Z") or not value.isascii() or len(value) > 40:
        raise SandboxError(code, "time must be RFC 3339 UTC ending in Z")
    try:
        moment = int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except (ValueError, OverflowError, OSError) as exc:
        raise SandboxError(code, "unreadable time") from exc
    if not 0 <= moment <= now + LATEST:
        raise SandboxError(code, "time out of range")
    return moment


def _int_in(params: Mapping[str, str], name: str, low: int, high: int, code: int) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not SIGNED_DIGITS.fullmatch(value) or not low <= int(value) <= high:
        raise SandboxError(code, f"{name} must be {low} to {high}")
    return int(value)


def _key(params: Mapping[str, str], drm: str) -> tuple[str, str]:
    kid = params.get("kid")
    if not kid:
        raise SandboxError(-4018)
    if kid.startswith("^"):
        # ^name refers to ExpressPlay Key Storage, which the sandbox does not emulate.
        raise SandboxError(-4019, "the sandbox has no key storage; send contentKey")
    if not HEX.fullmatch(kid):
        raise SandboxError(-4022)
    if len(kid) < 32:
        raise SandboxError(-4020)
    if len(kid) > 32:
        raise SandboxError(-4021)
    if "kek" in params or "ek" in params:
        if drm == "pr" and "contentKey" in params:
            raise SandboxError(-5007)
        raise SandboxError(-4024, "the sandbox does not accept wrapped keys")
    key = params.get("contentKey")
    if not key:
        raise SandboxError(-4019, "no contentKey and no key storage")
    if not HEX32.fullmatch(key):
        raise SandboxError(-2027)
    return kid.lower(), key.lower()


def _restrictions(params: Mapping[str, str], now: int) -> tuple[int, str]:
    expires = now + MAX_LIFETIME
    if "expirationTime" in params:
        expires = parse_time(params["expirationTime"], now=now, code=-2002)
        if expires <= now or expires > now + MAX_LIFETIME:
            raise SandboxError(-2002, "must be in the future and at most 30 days away")
    cookie = params.get("cookie", "")
    if len(cookie) > 32 or not cookie.isprintable():
        raise SandboxError(-2033)
    return expires, cookie


def _device_id(params: Mapping[str, str], drm: str, binding_drms: Collection[str], name: str) -> str:
    value = params.get(name)
    if value is None:
        return ""
    if drm not in binding_drms:
        raise SandboxError({"wv": -7002, "fp": -6008}.get(drm, -5005))
    if not HEX32.fullmatch(value):
        raise SandboxError(-5004)
    return value.lower()


def _rights(params: Mapping[str, str], now: int) -> dict:
    rights_type = params.get("rightsType")
    if rights_type is None:
        raise SandboxError(-2020)
    if rights_type not in ("BuyToOwn", "Rental"):
        raise SandboxError(-2021)
    rights: dict = {"rights_type": rights_type}
    if rights_type == "Rental":
        if "rental.periodEndTime" not in params:
            raise SandboxError(-2022)
        rights["period_end"] = parse_time(params["rental.periodEndTime"], now=now, code=-2022)
        if "rental.playDuration" in params:
            value = params["rental.playDuration"]
            if not DIGITS.fullmatch(value) or not 0 < int(value) <= MAX_PLAY_SECONDS:
                raise SandboxError(-2025)
            rights["play_duration"] = int(value)
    return rights


def _general_flags_0000(params: Mapping[str, str]) -> None:
    """Widevine and FairPlay: generalFlags, if given, must be `0000`, "the only allowed value" (sections 3
    and 5). Both error tables list -5003 "Invalid general flags" for it."""
    flags = params.get("generalFlags")
    if flags is not None and flags != "0000":
        raise SandboxError(-5003, "0000 is the only allowed value")


def _playready(params: Mapping[str, str], now: int) -> dict:
    """PlayReady (section 4): rightsType with rental.*, the five OPLs, unknownOutputBehavior, generalFlags."""
    extra = _rights(params, now)
    for name in OPL_PARAMS:
        if name not in params:
            raise SandboxError(-5006, name)
        _int_in(params, name, 0, 999, -2034)
    behaviour = params.get("unknownOutputBehavior")
    if behaviour is not None and behaviour not in ("Allow", "Disallow", "SDOnly"):
        raise SandboxError(-5001)
    flags = params.get("generalFlags")
    if flags is not None and not re.fullmatch(r"[0-9a-fA-F]{8}", flags):
        raise SandboxError(-5003)
    return extra


def _widevine(params: Mapping[str, str]) -> dict:
    """Widevine (section 3): securityLevel, hdcpOutputControl, licenseDuration, generalFlags.

    Widevine has no rightsType and no rental.* parameters: like every parameter not in its table they are
    ignored, so a rental asked in PlayReady's terms yields a token without any limit, as it would from
    ExpressPlay. Widevine's own limit is licenseDuration, seconds of playback from its start (omitted:
    unlimited); the rights endpoint counts it from the first licence it granted for the token.
    """
    if "securityLevel" not in params:
        raise SandboxError(-7003)
    _int_in(params, "securityLevel", 1, 5, -7004)
    if "hdcpOutputControl" not in params:
        raise SandboxError(-7006)
    _int_in(params, "hdcpOutputControl", 0, 5, -7006)
    duration = _int_in(params, "licenseDuration", 1, MAX_PLAY_SECONDS, -7007)
    _general_flags_0000(params)
    return {"license_duration": duration}


def _fairplay(params: Mapping[str, str]) -> dict:
    """FairPlay (section 5): iv (required), rentalDuration, generalFlags. No rightsType, no OPLs.

    rentalDuration is seconds, default 0, and 0 means no rental limit. ExpressPlay's table does not say when
    the seconds start; FairPlay Streaming counts a rental from the first delivery of the key, so the rights
    endpoint counts them from the first licence it granted for the token, exactly as Widevine's
    licenseDuration (and refuses after it with -4903). The token keeps the claim as asked, 0 included.
    `kid` is optional in the table; the sandbox still needs it, since a ClearKey request names key ids.
    """
    if not HEX32.fullmatch(params.get("iv", "")):
        raise SandboxError(-6003)
    rental = params.get("rentalDuration", "0")
    if not DIGITS.fullmatch(rental) or int(rental) > MAX_PLAY_SECONDS:
        raise SandboxError(-6007, "rentalDuration must be whole seconds")
    _general_flags_0000(params)
    return {"rental_duration": int(rental)}


def token_claims(
    drm: str,
    params: Mapping[str, str],
    *,
    binding_drms: Collection[str],
    device_id_param: str = DEVICE_ID_PARAM,
    now: int | None = None,
) -> TokenClaims:
    """Return the claims of a valid token request for `drm` ("pr", "wv" or "fp"); raise SandboxError.

    Each DRM reads its own parameter table only (research/expressplay-api.md sections 3-5); the device
    restriction is read from `device_id_param` only; parameters a DRM does not document are ignored.
    """
    now = int(time.time()) if now is None else now
    kid, key = _key(params, drm)
    expires, cookie = _restrictions(params, now)
    if drm == "pr":
        extra = _playready(params, now)
    elif drm == "wv":
        extra = _widevine(params)
    elif drm == "fp":
        extra = _fairplay(params)
    else:
        raise ValueError(f"unknown DRM {drm!r}")
    device_id = _device_id(params, drm, binding_drms, device_id_param)
    return TokenClaims(
        drm=drm, kid=kid, key=key, expires=expires, issued=now, cookie=cookie, device_id=device_id, **extra
    )
