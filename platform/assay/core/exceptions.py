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
