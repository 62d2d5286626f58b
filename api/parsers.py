"""The API's JSON parser: bodies bounded in size and in nesting, refused with problem details (400 / 413).

DRF's JSONParser reads a body of any length and hands it to `json.loads`, which recurses once per level: a
body nested a thousand deep raises RecursionError, a 500 on every JSON endpoint. Here the body is read up to
API_MAX_BODY_BYTES (by Content-Length first, then by what actually arrives, for a chunked body), and its
nesting is measured before it is parsed, skipping what is inside strings.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from .problems import TooLarge

# A JSON string (escapes included) or one bracket: strings are skipped whole, so "[[[" inside one is not nesting.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_OPENING = frozenset(b"[{")


def nesting_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in `body` (0 for a scalar), without parsing it."""
    depth = deepest = 0
    for match in _TOKENS.finditer(body):
        first = match.group()[0]
        if first in _OPENING:
            depth += 1
            deepest = max(deepest, depth)
        elif first != ord('"'):
            depth -= 1
    return deepest


class BoundedJSONParser(JSONParser):
    """JSONParser, refusing a body over API_MAX_BODY_BYTES (413) or nested deeper than API_MAX_JSON_DEPTH (400)."""

    def parse(
        self,
        stream: IO[Any] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        limit = settings.API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise TooLarge(_("The request body is larger than %(limit)s bytes.") % {"limit": limit})
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise TooLarge(_("The request body is larger than %(limit)s bytes.") % {"limit": limit})
        if nesting_depth(body) > settings.API_MAX_JSON_DEPTH:
            raise ParseError(
                _("The JSON is nested deeper than %(depth)s levels.") % {"depth": settings.API_MAX_JSON_DEPTH}
            )
        return super().parse(io.BytesIO(body), media_type, parser_context)
