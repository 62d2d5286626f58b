"""Keep ExpressPlay secrets out of every log line and error report, whoever writes them, in every process.

The secrets: the customerAuthenticator (its configured values, plain or URL-encoded, wherever they appear, and
any value given as a `customerAuthenticator` parameter), content keys and tokens (values given as
`contentKey`, `key`, `ExpressPlayToken` or ClearKey's `"k"`, in URLs, forms, JSON and reprs, and a 32-hex
value shown right after such a name). Key ids and device ids are 32 hex too, but no secret: operators search
logs for them, so a bare 32-hex value is kept.

`configure` is Django's LOGGING_CONFIG. The web (`django.setup()`) and every Celery worker and beat
(bindery/celery.py) configure their logging through it, so the filter sits on every handler of every
process, and records that propagate from third-party loggers (urllib3, celery, kombu) pass it too.
"""

from __future__ import annotations

import logging
import logging.config
import re
from contextlib import suppress
from functools import cache
from pprint import pformat
from types import FrameType
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote, quote_plus

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

if TYPE_CHECKING:
    from django.http import HttpRequest, QueryDict

REDACTED = "***"
_NAMES = r"customer_?authenticator|content_?key|expressplay_?token|key"
# A name starts a word, or follows an encoded ? or & (a URL inside a URL).
_NAME = rf"(?:(?:\b|(?<=%3F)|(?<=%26))(?:{_NAMES})\b|(?<=[\"'])k(?=[\"']))"
# name=value, name%3Dvalue (a URL inside a URL), name: value, "name": "value", 'name': 'value', \"name\": ...
_NAMED_VALUE = re.compile(
    rf"(?P<name>{_NAME})(?P<sep>\\?[\"']?\s*(?:=|%3D|:)\s*\\?[\"']?)"
    r"(?P<value>(?:[^\s&;'\"<>()\[\]{}\\%,]|%(?!26)|,(?!\s))+)",
    re.IGNORECASE,
)
# A 32-hex value shown after its name with only spaces, quotes or markup between ("contentKey</td><td>…").
_NAMED_HEX = re.compile(
    rf"(?P<name>{_NAME})(?P<gap>(?:\s|<[^<>]{{0,40}}>|[:=\"'])+)[0-9a-f]{{32}}(?![0-9a-f])", re.IGNORECASE
)
_PLAIN = logging.Formatter()


@cache
def _secrets() -> tuple[str, ...]:
    from django.conf import settings

    values = {
        getattr(settings, "EXPRESSPLAY_CUSTOMER_AUTHENTICATOR", ""),
        getattr(settings, "SANDBOX_CUSTOMER_AUTHENTICATOR", ""),
    }
    forms = set()
    for value in filter(None, values):
        # "<customer id>,<32 hex>": the hex part is the secret, wherever it shows up alone.
        for part in {value, *(p for p in value.split(",") if len(p) >= 16)}:
            forms.update({part, quote(part, safe=""), quote(part), quote_plus(part)})
    return tuple(sorted(forms, key=len, reverse=True))


def redact(text: str) -> str:
    """Return `text` with every secret replaced by ***: configured authenticators, then named values."""
    for secret in _secrets():
        text = text.replace(secret, REDACTED)
    text = _NAMED_VALUE.sub(rf"\g<name>\g<sep>{REDACTED}", text)
    return _NAMED_HEX.sub(rf"\g<name>\g<gap>{REDACTED}", text)


class RedactSecretsFilter(logging.Filter):
    """Redact secrets from a record's message (its arguments included), exception text and stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text once set: the traceback is formatted here, once, and redacted.
            record.exc_text = _PLAIN.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def redact_every_handler() -> None:
    """Put one RedactSecretsFilter on every handler of every logger that has none yet (Django's own
    handlers, and any a library attached before logging was configured)."""
    redactor = RedactSecretsFilter()
    known = list(logging.root.manager.loggerDict.values())
    loggers = [logging.root, *(logger for logger in known if isinstance(logger, logging.Logger))]
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, RedactSecretsFilter) for f in handler.filters):
                handler.addFilter(redactor)


def configure(config: dict[str, Any]) -> None:
    """Apply a dictConfig (Django's LOGGING), then redact every handler: LOGGING_CONFIG's function."""
    logging.config.dictConfig(config)
    redact_every_handler()


# --- Error reports (Django's technical 500 page, and the report mailed to ADMINS) ---------------------------


class _Shown:
    """A value as an error report shows it: its redacted pprint."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _secret_name(name: str) -> bool:
    return bool(re.fullmatch(rf"(?:{_NAMES})", name, re.IGNORECASE))


class SecretsReporterFilter(SafeExceptionReporterFilter):
    """Hide secrets in error reports, with DEBUG on too: a debug page is an error page that echoes the request.

    Parameters, variables and settings named like a secret (Django's AUTH, KEY, TOKEN, …, and contentKey,
    customerAuthenticator, key, ExpressPlayToken) are starred. Every other value is redacted, of the secrets
    `redact` knows and of the values the request sent under a secret's name (so a view's local
    `given = POST["customerAuthenticator"]` shows as ***).
    """

    def is_active(self, request: HttpRequest | None) -> bool:
        return True

    def redact(self, request: HttpRequest | None, text: str) -> str:
        """Return `text` redacted, and without the values `request` sent under a secret's name."""
        text = redact(text)
        for value in _request_secrets(request):
            text = text.replace(value, REDACTED)
        return text

    def cleanse_setting(self, key: int | str, value: Any) -> Any:
        if isinstance(key, str) and _secret_name(key):
            return self.cleansed_substitute
        cleansed = super().cleanse_setting(key, value)
        return redact(cleansed) if isinstance(cleansed, str) else cleansed

    def cleansed_params(self, request: HttpRequest | None, params: QueryDict) -> QueryDict:
        """Return a copy of a QueryDict (GET or POST) with secret-named values starred, the rest redacted."""
        cleansed = params.copy()
        for name in cleansed:
            if _secret_name(name):
                cleansed.setlist(name, [self.cleansed_substitute])
            else:
                cleansed.setlist(name, [self.redact(request, str(v)) for v in cleansed.getlist(name)])
        return cleansed

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        post = super().get_post_parameters(request)
        # The stubs say dict; Django returns the request's QueryDict (or a copy of it) whenever it has a body.
        return self.cleansed_params(request, cast("QueryDict", post)) if hasattr(post, "setlist") else post

    def get_cleansed_multivaluedict(self, request: HttpRequest, multivaluedict: QueryDict) -> QueryDict:
        cleansed = super().get_cleansed_multivaluedict(request, multivaluedict)
        return self.cleansed_params(request, cleansed) if hasattr(cleansed, "setlist") else cleansed

    def get_safe_request_meta(self, request: HttpRequest) -> dict[str, Any]:
        return {
            name: self.redact(request, value) if isinstance(value, str) else value
            for name, value in super().get_safe_request_meta(request).items()
        }

    # Django's returns an ItemsView; its templates only iterate the pairs, which a list of them does too.
    def get_traceback_frame_variables(  # type: ignore[override]
        self, request: HttpRequest | None, tb_frame: FrameType
    ) -> list[tuple[str, Any]]:
        shown = []
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            if not (isinstance(value, str) and value == self.cleansed_substitute):
                value = self._shown(request, name, value)
            shown.append((name, value))
        return shown

    def _shown(self, request: HttpRequest | None, name: str, value: Any) -> _Shown | str:
        if _secret_name(name):
            return self.cleansed_substitute
        cleansed = self.cleanse_setting("", value) if isinstance(value, dict | list | tuple) else value
        try:
            return _Shown(self.redact(request, pformat(cleansed)))
        except Exception as exc:  # a broken __repr__ must not break the error report
            return _Shown(f"<{type(exc).__name__} while showing {name}>")


def _request_secrets(request: HttpRequest | None) -> list[str]:
    values: set[str] = set()
    for method in ("GET", "POST"):
        with suppress(Exception):  # an unreadable body: Django's own report says so
            params: QueryDict | None = getattr(request, method, None)
            if not params:
                continue
            for name in filter(_secret_name, params):
                values.update(v for v in params.getlist(name) if len(v) >= 8)
    forms = {form for value in values for form in (value, quote(value, safe=""), quote_plus(value))}
    return sorted(forms, key=len, reverse=True)


class SecretsExceptionReporter(ExceptionReporter):
    """Django's error report with the request's URL and query and the exception texts redacted as well."""

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        if not isinstance(self.filter, SecretsReporterFilter):
            return data
        if self.request is not None:
            data["request_GET_items"] = self.filter.cleansed_params(self.request, self.request.GET).items()
        for key in ("request_insecure_uri", "exception_value", "exception_notes"):
            if isinstance(data.get(key), str):
                data[key] = self.filter.redact(self.request, data[key])
        for frame in data.get("frames", []):
            if frame.get("exc_cause") is not None:
                frame["exc_cause"] = self.filter.redact(self.request, str(frame["exc_cause"]))
        return data
