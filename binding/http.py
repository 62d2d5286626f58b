"""Request types for the type checker."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a view behind `login_required`: its user signed in, so `request.user` is a User.

    Only annotations use it (django-stubs' recipe); Django still passes its own HttpRequest.
    """

    user: User
