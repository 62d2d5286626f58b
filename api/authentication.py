"""Who is calling: an integrating client, by its API key (`Authorization: Api-Key <key>`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework_api_key.models import AbstractAPIKey
from rest_framework_api_key.permissions import KeyParser

from .models import Client, ClientAPIKey

if TYPE_CHECKING:  # DRF imports this module while rest_framework.views is still loading: types only
    from drf_spectacular.openapi import AutoSchema
    from rest_framework.request import Request
    from rest_framework.views import APIView


class ClientKeyAuthentication(authentication.BaseAuthentication):
    """djangorestframework-api-key's key, as an authentication (not only a permission), so that a missing,
    unknown, revoked or expired key answers 401 with a WWW-Authenticate header rather than 403, and the
    views find the client in `request.auth.client`."""

    keyword = KeyParser.keyword

    def authenticate(self, request: Request) -> tuple[AnonymousUser, AbstractAPIKey] | None:
        key = KeyParser().get(request)
        if key is None:
            return None
        try:
            api_key = ClientAPIKey.objects.get_from_key(key)
        except ClientAPIKey.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("This API key is unknown or has been revoked.")) from None
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed(_("This API key has expired."))
        return AnonymousUser(), api_key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class HasClientKey(permissions.BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(request.auth, ClientAPIKey)


def request_key(request: Request) -> ClientAPIKey | None:
    """The caller's API key, or None: ClientKeyAuthentication is the API's one authentication class (the
    stubs type `request.auth` as DRF's own Token)."""
    return cast("ClientAPIKey | None", request.auth)


def request_client(request: Request) -> Client:
    """The calling client, in a view that HasClientKey let in (so `request.auth` is a ClientAPIKey)."""
    return cast(ClientAPIKey, request.auth).client


# drf-spectacular's extension registry is an untyped __init_subclass__, run by merely subclassing it.
class ClientKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """How the OpenAPI schema describes the key: `Authorization: Api-Key <key>`."""

    target_class = ClientKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`: a key of your client, made in Bindery's admin (API keys).",
        }
