"""A browser's device key: the WebCrypto ECDSA P-256 key the page keeps (non-extractable, in IndexedDB) in
every mode, and the proofs it signs with it (decision 0013).

A proof is {"key": base64 SPKI DER, "signature": base64 raw r‖s (64 bytes, as WebCrypto signs)} over a message
Bindery chose. At registration the page proves the key over the attempt's correlation value, which is handed
out once; Bindery keeps the key with the registration and its device. A Bindery-bound Play then proves the
same key over a one-time challenge.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

MAX_KEY_B64 = 400  # a P-256 SPKI is 91 bytes (124 in base64)


class IdentityInvalid(Exception):
    """A proof that does not verify, or is not one; the message says why (for the operator)."""


@dataclass(frozen=True)
class Proof:
    key: str  # base64 SPKI DER
    signature: str  # base64 r‖s

    @classmethod
    def from_fields(cls, key: object, signature: object) -> Proof:
        if not isinstance(key, str) or not isinstance(signature, str) or not key or not signature:
            raise IdentityInvalid("no device key proof")
        if len(key) > MAX_KEY_B64 or len(signature) > 200:
            raise IdentityInvalid("device key proof too long")
        return cls(key=key, signature=signature)


def registration_message(cookie_value: str) -> bytes:
    return f"bindery-register\n{cookie_value}".encode()


def play_message(challenge: str) -> bytes:
    return f"bindery-play\n{challenge}".encode()


def key_fingerprint(key_b64: str) -> str:
    """Return the first 32 hex characters of SHA-256 of a device key (SPKI DER): how admin names a key."""
    try:
        return hashlib.sha256(base64.b64decode(key_b64, validate=True)).hexdigest()[:32]
    except (ValueError, binascii.Error):
        return ""


def proof_verify(proof: Proof, message: bytes, *, expected_key: str | None = None) -> str:
    """Return the proof's key (base64 SPKI) when its signature over `message` verifies, and the key is
    `expected_key` when one is given; raise IdentityInvalid otherwise."""
    try:
        der = base64.b64decode(proof.key, validate=True)
        signature = base64.b64decode(proof.signature, validate=True)
        public_key = serialization.load_der_public_key(der)
    except (ValueError, binascii.Error, TypeError, UnsupportedAlgorithm) as exc:
        raise IdentityInvalid("unreadable device key") from exc
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name != "secp256r1":
        raise IdentityInvalid("device key is not ECDSA P-256")
    if len(signature) != 64:
        raise IdentityInvalid("device signature is not 64 bytes")
    canonical = base64.b64encode(der).decode()
    if expected_key is not None and canonical != expected_key:
        raise IdentityInvalid("signed with another device key")
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    try:
        public_key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError) as exc:
        raise IdentityInvalid("device signature does not verify") from exc
    return canonical
