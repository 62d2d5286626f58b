"""Errors as RFC 9457 problem details (`application/problem+json`), never a stack trace.

Every answer carries `type`, `title`, `status` and `detail`; bad input adds `errors` (field → messages); an
ExpressPlay failure adds `expressplay_code` and `expressplay_meaning`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, TypedDict

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.response import Response

if TYPE_CHECKING:  # django-stubs-ext comes with the type stubs (dev only); spectacular's generator is heavy
    from django_stubs_ext import StrOrPromise
    from drf_spectacular.generators import SchemaGenerator
    from rest_framework.request import Request

logger = logging.getLogger(__name__)

PROBLEM_BASE = "https://bindery.example/problems/"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = gettext_lazy("The request conflicts with what exists.")


class ExpressPlayProblem(exceptions.APIException):
    """A problem that may carry ExpressPlay's code and its meaning (answered as expressplay_code/_meaning)."""

    def __init__(
        self,
        detail: StrOrPromise | None = None,
        code: str | None = None,
        *,
        expressplay_code: int | None = None,
        meaning: str = "",
    ) -> None:
        super().__init__(detail, code)
        self.expressplay_code = expressplay_code
        self.meaning = meaning


class Unprocessable(ExpressPlayProblem):
    """The request is well formed, but the binding refuses it (device limit, not registered, …)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "refused"
    default_detail = gettext_lazy("The request cannot be carried out.")


class Unavailable(ExpressPlayProblem):
    """ExpressPlay could not be reached, or answered a passing server error: the same call may work soon."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "unavailable"
    default_detail = gettext_lazy(
        "ExpressPlay is not answering right now. Nothing is lost: try again shortly."
    )
    retry_after = 30  # seconds


class TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = gettext_lazy("The request body is too large.")


TITLES = {
    400: gettext_lazy("Bad request"),
    401: gettext_lazy("Not authenticated"),
    403: gettext_lazy("Forbidden"),
    404: gettext_lazy("Not found"),
    405: gettext_lazy("Method not allowed"),
    406: gettext_lazy("Not acceptable"),
    409: gettext_lazy("Conflict"),
    413: gettext_lazy("Content too large"),
    415: gettext_lazy("Unsupported media type"),
    422: gettext_lazy("Refused"),
    429: gettext_lazy("Too many requests"),
    503: gettext_lazy("Service unavailable"),
}


class ProblemExtra(TypedDict, total=False):
    """What a problem may add to the four members every one has."""

    errors: Any  # field → messages: a ValidationError's detail, as DRF gives it
    expressplay_code: int
    expressplay_meaning: str


class ProblemBody(ProblemExtra):
    type: str
    title: str
    status: int
    detail: str


def problem_body(
    status_code: int, code: str, detail: StrOrPromise, *, extra: ProblemExtra | None = None
) -> ProblemBody:
    return {
        "type": PROBLEM_BASE + code.replace("_", "-"),
        "title": str(TITLES.get(status_code, gettext_lazy("Error"))),
        "status": status_code,
        "detail": str(detail),
        **(extra or ProblemExtra()),
    }


def problem(
    status_code: int, code: str, detail: StrOrPromise, *, extra: ProblemExtra | None = None
) -> Response:
    body = problem_body(status_code, code, detail, extra=extra)
    return Response(body, status=status_code, content_type="application/problem+json")


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception handler, answering problem details."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, RequestDataTooBig):  # over DATA_UPLOAD_MAX_MEMORY_SIZE, before the parser sees it
        exc = TooLarge()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: Django's 500 handler (logged, no detail shown)
    extra: ProblemExtra = {}
    detail: str
    if isinstance(exc, exceptions.ValidationError):
        extra["errors"] = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        detail = _("The request has invalid fields: see errors.")
    elif isinstance(exc.detail, (list, dict)):
        extra["errors"] = exc.detail
        detail = _("The request could not be processed: see errors.")
    else:
        detail = exc.detail
    if isinstance(exc, ExpressPlayProblem) and exc.expressplay_code is not None:
        extra["expressplay_code"] = exc.expressplay_code
        extra["expressplay_meaning"] = exc.meaning
    codes = exc.get_codes()
    response = problem(
        exc.status_code, codes if isinstance(codes, str) else exc.default_code, detail, extra=extra
    )
    # DRF's Throttled sets `wait` in __init__ (seconds, or None); the stubs leave the attribute out.
    wait: float | None = getattr(exc, "wait", None) if isinstance(exc, exceptions.Throttled) else None
    if wait is not None:
        response["Retry-After"] = str(int(wait) + 1)
    if isinstance(exc, Unavailable):
        response["Retry-After"] = str(exc.retry_after)
    if auth_header := getattr(exc, "auth_header", None):  # set by DRF's view on a 401 (NotAuthenticated, …)
        response["WWW-Authenticate"] = auth_header
    return response


PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"description": "Field → messages, for bad input."},
        "expressplay_code": {"type": "integer", "description": "When ExpressPlay refused: its code."},
        "expressplay_meaning": {"type": "string", "description": "What that code means."},
    },
    "required": ["type", "title", "status", "detail"],
}
DOCUMENTED = {
    "400": "Bad input (see errors)",
    "401": "No API key, or an unknown, revoked or expired one",
    "404": "Not found among your own records",
    "405": "Method not allowed",
    "406": "Not acceptable",
    "413": "The body is larger than API_MAX_BODY_BYTES",
    "415": "Unsupported media type",
    "429": "Too many calls for this key (see Retry-After)",
    "503": "Briefly unavailable: the database or ExpressPlay is away (see Retry-After)",
}
WRITES = {"409": "Conflicts with what exists", "422": "Refused by the binding (the detail says why)"}


def document_problems(
    result: dict[str, Any], generator: SchemaGenerator, request: Request | None, public: bool
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every operation may answer problem details for these statuses."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            answers = {**DOCUMENTED, **(WRITES if method in ("post", "patch", "delete", "put") else {})}
            for code, description in answers.items():
                operation.setdefault("responses", {}).setdefault(
                    code,
                    {
                        "description": description,
                        "content": {
                            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                        },
                    },
                )
    return result
