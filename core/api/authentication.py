"""``Authorization: Bearer keel_…``: personal API tokens (``core.tokens``). A read-only token
is refused (403) on every unsafe method here, before any view runs, so no view can forget the
scope. DRF's ``Token <key>`` stays accepted while clients move over (README)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS

from core import tokens
from core.choices import TokenScope


class BearerTokenAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as 'Authorization: Bearer keel_…' (one value, no spaces)."
            )
        try:
            key = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Not a Keel API token.") from None
        try:
            token = tokens.authenticate_key(key, ip=request.META.get("REMOTE_ADDR"))
        except tokens.TokenRefused as refused:
            raise exceptions.AuthenticationFailed(str(refused)) from None
        if token.scope == TokenScope.READ and request.method not in SAFE_METHODS:
            raise exceptions.PermissionDenied(
                "This API token is read-only: create a read-and-write token to change data."
            )
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """The personal tokens in the OpenAPI schema (``http`` / ``bearer``)."""

    target_class = "core.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (keel_…) from Account → API tokens.",
        }
