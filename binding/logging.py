"""A logging filter that keeps ExpressPlay secrets out of every log line, whoever wrote it."""

import logging
from functools import cache
from urllib.parse import quote


@cache
def _secrets() -> tuple[str, ...]:
    from django.conf import settings

    values = {
        getattr(settings, "EXPRESSPLAY_CUSTOMER_AUTHENTICATOR", ""),
        getattr(settings, "SANDBOX_CUSTOMER_AUTHENTICATOR", ""),
    }
    forms = set()
    for value in filter(None, values):
        forms.update({value, quote(value, safe=""), quote(value)})
    return tuple(sorted(forms, key=len, reverse=True))


class RedactSecretsFilter(logging.Filter):
    """Replace the customerAuthenticator (plain or URL-encoded) with *** in the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        redacted = message
        for secret in _secrets():
            redacted = redacted.replace(secret, "***")
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
