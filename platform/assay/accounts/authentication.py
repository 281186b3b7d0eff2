"""REST authentication with hashed, expiring tokens: ``Authorization: Bearer <token>``."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions

from assay.accounts.models import APIToken, token_digest
from assay.audit.context import Actor, bind_actor


class APITokenAuthentication(authentication.BaseAuthentication):
    """Looks the token up by digest; refuses expired or revoked ones with a clear message."""

    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[Any, APIToken] | None:
        """Return (user, token) or None when no bearer token was sent."""
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send 'Authorization: Bearer <token>'.")
        token = (
            APIToken.objects.select_related("user")
            .filter(digest=token_digest(header[1]))
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown API token.")
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API token was revoked.")
        if token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed("This API token has expired; issue a new one.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("This user is inactive.")
        APIToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        # The middleware ran before DRF knew the user: name the token as the actor now.
        bind_actor(Actor.for_user(token.user, token=token))
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        """Makes DRF answer 401 rather than 403 to unauthenticated calls."""
        return self.keyword
