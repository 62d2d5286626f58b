"""The sandbox's simulated DRM device identity.

A real DRM client proves its device identity inside the licence request. In the browser, ClearKey has
none, so each device keeps a WebCrypto ECDSA P-256 key and signs its licence requests:

    X-Sandbox-Device-Key        base64 of the public key (SubjectPublicKeyInfo DER)
    X-Sandbox-Device-Time       Unix seconds, as a decimal string
    X-Sandbox-Device-Nonce      32 random hex characters, new for every request
    X-Sandbox-Device-Signature  base64 of the raw 64-byte r‖s ECDSA-SHA256 signature over
                                body bytes + b"\n" + the time string + b"\n" + the nonce

device_id = the first 32 hex characters of SHA-256(DER public key). Like a real DRM client's licence
challenge, a signed request is good once: the licence server refuses a nonce it has seen (-4908).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
import time
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from .errors import SandboxError

KEY_HEADER = "X-Sandbox-Device-Key"
TIME_HEADER = "X-Sandbox-Device-Time"
SIGNATURE_HEADER = "X-Sandbox-Device-Signature"
NONCE_HEADER = "X-Sandbox-Device-Nonce"
NONCE = re.compile(r"[0-9a-f]{32}")
STAMP = re.compile(r"[0-9]{1,12}")


def device_id_for(public_der: bytes) -> str:
    """Return the device_id of a public key in SubjectPublicKeyInfo DER form."""
    return hashlib.sha256(public_der).hexdigest()[:32]


def signed_message(body: bytes, timestamp: str, nonce: str) -> bytes:
    return body + b"\n" + timestamp.encode() + b"\n" + nonce.encode()


def verify_device(
    headers: Mapping[str, str], body: bytes, *, max_skew: int, now: float | None = None
) -> tuple[str, str]:
    """Return (device_id, nonce) proven by the request's identity headers; raise SandboxError(-4001) if unproven.

    The caller refuses a nonce it has seen before (a replayed request).
    """
    key_b64, stamp, nonce, sig_b64 = (
        headers.get(h) for h in (KEY_HEADER, TIME_HEADER, NONCE_HEADER, SIGNATURE_HEADER)
    )
    if not (key_b64 and stamp and nonce and sig_b64):
        raise SandboxError(-4001, "the licence request carries no device identity")
    if not STAMP.fullmatch(stamp) or not NONCE.fullmatch(nonce):
        raise SandboxError(-4001, "unreadable device identity")
    try:
        der = base64.b64decode(key_b64, validate=True)
        signature = base64.b64decode(sig_b64, validate=True)
        public_key = serialization.load_der_public_key(der)
        moment = int(stamp)
    except (ValueError, binascii.Error, TypeError, UnsupportedAlgorithm) as exc:
        raise SandboxError(-4001, "unreadable device identity") from exc
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name != "secp256r1":
        raise SandboxError(-4001, "device key is not ECDSA P-256")
    if len(signature) != 64:
        raise SandboxError(-4001, "device signature is not 64 bytes")
    if abs((time.time() if now is None else now) - moment) > max_skew:
        raise SandboxError(-4001, "device clock is too far from the licence server's")
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    try:
        public_key.verify(
            encode_dss_signature(r, s), signed_message(body, stamp, nonce), ec.ECDSA(hashes.SHA256())
        )
    except (InvalidSignature, ValueError) as exc:
        raise SandboxError(-4001, "device signature does not verify") from exc
    return device_id_for(der), nonce


class SimulatedDevice:
    """A device key held in Python, signing as the browser's device identity does (tests, benchmarks)."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey | None = None):
        self.private_key = private_key or ec.generate_private_key(ec.SECP256R1())
        self.public_der = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.device_id = device_id_for(self.public_der)

    def headers(
        self, body: bytes, *, timestamp: int | None = None, nonce: str | None = None
    ) -> dict[str, str]:
        """Return the identity headers for a licence request with `body` (a fresh nonce unless given)."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or secrets.token_hex(16)
        der_sig = self.private_key.sign(signed_message(body, stamp, nonce), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der_sig)
        size = (self.private_key.curve.key_size + 7) // 8
        raw = r.to_bytes(size, "big") + s.to_bytes(size, "big")
        return {
            KEY_HEADER: base64.b64encode(self.public_der).decode(),
            TIME_HEADER: stamp,
            NONCE_HEADER: nonce,
            SIGNATURE_HEADER: base64.b64encode(raw).decode(),
        }
