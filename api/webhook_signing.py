"""Standard Webhooks signatures (https://www.standardwebhooks.com/): the endpoint's secret, the three headers
a delivery carries, and the check a receiver makes (api/webhooks.py sends; README shows a receiver).

`webhook-signature` is `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed by the endpoint's
`whsec_<base64>` secret; while a rotated secret's grace period runs, a second signature by the previous one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from datetime import datetime
from typing import Any

from django.utils import timezone

from .models import WebhookEndpoint

SECRET_PREFIX = "whsec_"  # noqa: S105 - the form of a secret, not one


def secret_new() -> str:
    """Return a new signing secret in the Standard Webhooks form: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    # A `whsec_` secret's key is its base64 bytes; a secret made before (no prefix) keys by its characters.
    if secret.startswith(SECRET_PREFIX):
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    return secret.encode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """Return one signature, `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode()


def signing_secrets(endpoint: WebhookEndpoint, *, now: datetime | None = None) -> list[str]:
    """The secrets a delivery is signed with: the endpoint's, and its previous one until that one's grace ends."""
    now = now or timezone.now()
    previous = endpoint.previous_secret
    grace_ends = endpoint.previous_secret_expires_at
    return [endpoint.secret, *([previous] if previous and grace_ends and now < grace_ends else [])]


def signed_headers(
    endpoint: WebhookEndpoint, message_id: str, body: bytes, *, now: datetime | None = None
) -> dict[str, str]:
    """The three Standard Webhooks headers for `body`, signed with every secret in use (space-separated)."""
    timestamp = int(time.time())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            sign(secret, message_id, timestamp, body) for secret in signing_secrets(endpoint, now=now)
        ),
    }


def signature_valid(
    secret: str,
    headers: Any,  # any mapping, or anything a receiver was handed: malformed input answers False
    body: bytes,
    *,
    tolerance: int = 300,
    now: float | None = None,
    seen: set[str] | None = None,
) -> bool:
    """What a receiver does (and the tests): True when one of the `webhook-signature` signatures is this
    secret's over `webhook-id`, `webhook-timestamp` and `body`, the timestamp is within `tolerance` seconds,
    and (given the set of ids already `seen`, which it adds to) the id is new. False for anything malformed;
    never raises. `headers` is any mapping; names are matched without regard to case."""
    try:
        given = {str(name).lower(): str(value) for name, value in headers.items()}
        message_id, timestamp = given["webhook-id"], int(given["webhook-timestamp"])
        if abs((time.time() if now is None else now) - timestamp) > tolerance:
            return False
        if seen is not None and message_id in seen:
            return False  # a replay: each id is taken once
        expected = sign(secret, message_id, timestamp, body).encode()
        valid = any(
            hmac.compare_digest(expected, signature.encode())
            for signature in given["webhook-signature"].split(" ")
            if signature.startswith("v1,")
        )
    except (KeyError, ValueError, TypeError, AttributeError):  # binascii.Error is a ValueError
        return False
    if valid and seen is not None:
        seen.add(message_id)
    return valid
