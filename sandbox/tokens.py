"""Sandbox tokens: opaque, tamper-proof, and the content key inside is encrypted.

A token is base64url(version ‖ nonce ‖ AES-256-GCM(claims JSON)). GCM both hides the content key and makes
any change to the token fail to open, which the rights endpoint reports as -4010 "Invalid token".
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from dataclasses import asdict, dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = b"\x01"
_AAD = b"bindery-sandbox-token"


class TokenInvalid(Exception):
    pass


@dataclass(frozen=True)
class TokenClaims:
    drm: str
    kid: str
    key: str = field(repr=False)
    expires: int  # Unix seconds
    issued: int
    rights_type: str = ""
    period_end: int | None = None
    play_duration: int | None = None  # PlayReady rental.playDuration
    license_duration: int | None = None  # Widevine licenseDuration
    rental_duration: int | None = None  # FairPlay rentalDuration (0: no limit)
    cookie: str = ""
    device_id: str = ""
    jti: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def play_window(self) -> tuple[str, int] | None:
        """The seconds of playback the token allows from its first licence, with the parameter that set
        them, in the DRM's own terms; None for no limit."""
        for name, seconds in (
            ("rental.playDuration", self.play_duration),
            ("licenseDuration", self.license_duration),
            ("rentalDuration", self.rental_duration),
        ):
            if seconds:
                return name, seconds
        return None


def _aead(secret: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"bindery-sandbox-token-v1").derive(
        secret.encode()
    )
    return AESGCM(key)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(claims: TokenClaims, secret: str) -> str:
    """Return the opaque token for `claims`."""
    nonce = os.urandom(12)
    plaintext = json.dumps(asdict(claims), separators=(",", ":")).encode()
    return b64url(_VERSION + nonce + _aead(secret).encrypt(nonce, plaintext, _AAD))


def open_token(token: str, secret: str) -> TokenClaims:
    """Return the claims of `token`; raise TokenInvalid if it was altered, truncated or not ours."""
    try:
        raw = b64url_decode(token.strip())
    except (ValueError, TypeError) as exc:
        raise TokenInvalid("not base64url") from exc
    if len(raw) < 1 + 12 + 16 or raw[:1] != _VERSION:
        raise TokenInvalid("not a sandbox token")
    try:
        plaintext = _aead(secret).decrypt(raw[1:13], raw[13:], _AAD)
        return TokenClaims(**json.loads(plaintext))
    except (InvalidTag, ValueError, TypeError) as exc:
        raise TokenInvalid("signature check failed") from exc
