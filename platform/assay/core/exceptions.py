"""Domain errors raised by services and turned into HTTP answers at the edges.

Services never return HTTP responses; they raise one of these. The REST exception
handler, the portal views and management commands each render them their own way, so
the same refusal reads the same everywhere.
"""

from __future__ import annotations


class AssayError(Exception):
    """Base of every refusal a user can act on."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}

    def as_dict(self) -> dict[str, object]:
        """JSON body for the API: a sentence plus per-field messages."""
        body: dict[str, object] = {"detail": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


class InvalidInput(AssayError):
    """The request is malformed or out of bounds; the message says what to fix."""

    status_code = 400
    code = "invalid"


class NotPermitted(AssayError):
    """The user is known but their role does not allow this."""

    status_code = 403
    code = "forbidden"


class NotFound(AssayError):
    """Nothing by that name that this user can see (never says whether it exists)."""

    status_code = 404
    code = "not_found"


class Conflict(AssayError):
    """The object is not in a state that allows this (e.g. cancelling a finished job)."""

    status_code = 409
    code = "conflict"


class InvalidTransition(Conflict):
    """A status change that the state machine does not allow."""

    code = "invalid_transition"


class QuotaExceeded(AssayError):
    """A submission would take a team, project or user past a monthly quota (HTTP 429).

    ``quota`` names the quota (scope, metric, limit, used, resets_at); ``retry_after``
    is the number of seconds until it resets, sent as the Retry-After header.
    """

    status_code = 429
    code = "quota_exceeded"

    def __init__(self, message: str, *, quota: dict[str, object], retry_after: int) -> None:
        super().__init__(message, errors={"quota": [message]})
        self.quota = quota
        self.retry_after = retry_after

    def as_dict(self) -> dict[str, object]:
        """The sentence, plus the quota's details under ``errors.quota``."""
        return {"detail": self.message, "code": self.code, "errors": {"quota": self.quota}}
