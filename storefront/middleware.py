"""The database going away answers 503 with a page (or, under /api/, a problem), never a 500 with a traceback.

A restarted or failed-over database makes any view raise OperationalError (no connection) or InterfaceError (a
kept connection found closed). That is an outage, not a bug: the customer reads that the shop is briefly
unavailable and when to try again, a client gets `Retry-After`, and the traceback is logged once, as a warning.
Nothing here touches the database: the page is rendered without a request, so no context processor runs.
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.log import log_response
from django.utils.translation import gettext as _

from api.problems import problem_body

# A database restart or failover takes seconds: a browser or client that honours this does not hammer it.
RETRY_AFTER = 10
# Where storefront/urls.py mounts the entitlement API, whose clients read problem details, not pages.
API_PREFIX = "/api/"


class DatabaseUnavailableMiddleware:
    """Turn a view's OperationalError or InterfaceError into a 503 with Retry-After."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None  # a bug: Django's 500 handler
        if request.path_info.startswith(API_PREFIX):
            body = problem_body(
                503, "database_unavailable", _("Bindery is briefly unavailable. Please try again shortly.")
            )
            response = JsonResponse(body, status=503, content_type="application/problem+json")
        else:
            page = render_to_string("503.html", {"retry_after": RETRY_AFTER})
            response = HttpResponse(page, status=503)
        response["Retry-After"] = str(RETRY_AFTER)
        # Logged here with the traceback, as a warning: Django would log this 503 again as an error otherwise
        # (log_response marks the response as logged).
        log_response(
            "Database unavailable, answered %s: %s",
            response.status_code,
            request.path,
            response=response,
            request=request,
            level="warning",
            exception=exception,
        )
        return response
