"""Secrets at rest: a text field that the database only ever holds encrypted.

Content keys and whole tokens (licence URLs carry them) are stored as Fernet tokens (AES-128-CBC with an
HMAC, from `cryptography`) under the keys in BINDERY_DATA_KEYS: the first encrypts, every one decrypts, so a
key is rotated by putting the new one first. A database dump, a backup or a read-only database user sees
ciphertext. An envelope from a KMS (or ExpressPlay's own key storage, `kid=^name`) can replace this later
behind the same field.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "enc1:"


@cache
def _cipher(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        # The demo's default: a key derived from SECRET_KEY (production sets BINDERY_DATA_KEYS; a check says so).
        keys = (
            base64.urlsafe_b64encode(
                hashlib.sha256(b"bindery-data-key:" + secret_key.encode()).digest()
            ).decode(),
        )
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "BINDERY_DATA_KEYS: each key must be a Fernet key (32 url-safe base64 bytes)"
        ) from exc


def cipher() -> MultiFernet:
    return _cipher(tuple(settings.BINDERY_DATA_KEYS), settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return PREFIX + cipher().encrypt(value.encode()).decode()


def decrypt(value: str) -> str:
    """Return the plain text of a stored value; a value stored before encryption is returned as it is."""
    if not value.startswith(PREFIX):
        return value
    try:
        return cipher().decrypt(value[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted: BINDERY_DATA_KEYS (or SECRET_KEY) changed without keeping "
            "the old key in the list."
        ) from exc


if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.expressions import Expression

    # The stubs make Field generic (the type set, the type got); Django's own class takes no parameters.
    _TextField = models.TextField[str, str]
else:
    _TextField = models.TextField


class EncryptedTextField(_TextField):
    """Plain text in Python, Fernet ciphertext in the database. Not for lookups: each encryption differs."""

    def from_db_value(
        self, value: str | None, expression: Expression, connection: BaseDatabaseWrapper
    ) -> str | None:
        return decrypt(value) if value else value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return encrypt(value) if value else value
