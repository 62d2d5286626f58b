"""Who is calling: an integrating client, by its API key (`Authorization: Api-Key <key>`)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework_api_key.permissions import KeyParser

from .models import ClientAPIKey


class ClientKeyAuthentication(authentication.BaseAuthentication):
    """djangorestframework-api-key's key, as an authentication (not only a permission), so that a missing,
    unknown, revoked or expired key answers 401 with a WWW-Authenticate header rather than 403, and the
    views find the client in `request.auth.client`."""

    keyword = KeyParser.keyword

    def authenticate(self, request):
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

    def authenticate_header(self, request):
        return self.keyword


class HasClientKey(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ClientAPIKey)


class ClientKeyScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes the key: `Authorization: Api-Key <key>`."""

    target_class = ClientKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`: a key of your client, made in Bindery's admin (API keys).",
        }
