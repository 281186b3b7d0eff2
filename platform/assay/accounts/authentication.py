"""REST authentication with hashed, expiring, revocable tokens: ``Authorization: Bearer <token>``.

Every request looks the token up again, so a revocation or an expiry takes effect on the
very next call. A read-scope token is refused (403) on every unsafe method here, before
any view runs, so no endpoint can forget the check. Refused credentials count against the
caller's anonymous rate limit.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.permissions import SAFE_METHODS

from assay.accounts.choices import TokenScope
from assay.accounts.models import APIToken, token_digest
from assay.accounts.throttles import charge_failed_authentication
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
            self._refuse(request, "Send 'Authorization: Bearer <token>'.")
        token = (
            APIToken.objects.select_related("user")
            .filter(digest=token_digest(header[1]))
            .first()
        )
        if token is None:
            self._refuse(request, "Unknown API token.")
        if token.revoked_at is not None:
            self._refuse(request, "This API token was revoked.")
        if token.expires_at <= timezone.now():
            self._refuse(request, "This API token has expired; issue a new one.")
        if not token.user.is_active:
            self._refuse(request, "This user is inactive.")
        if token.scope == TokenScope.READ and request.method not in SAFE_METHODS:
            raise exceptions.PermissionDenied(
                f"This API token ({token.prefix}…) is read-only: it cannot {request.method}. "
                "Use a token with the write scope.")
        APIToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        # The middleware ran before DRF knew the user: name the token as the actor now.
        bind_actor(Actor.for_user(token.user, token=token))
        return token.user, token

    @staticmethod
    def _refuse(request: Any, message: str) -> NoReturn:
        """401 with ``message`` (or 429 once the caller's address tried too often)."""
        charge_failed_authentication(request)
        raise exceptions.AuthenticationFailed(message)

    def authenticate_header(self, request: Any) -> str:
        """Makes DRF answer 401 rather than 403 to unauthenticated calls."""
        return self.keyword
