"""One registry of action codes: a code cannot be recorded before it is registered.

Codes are dotted (``studio.generation.submitted``): app, object, past-tense verb. The
label is what auditors read; the description says when the event is written.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Action:
    """A registered action code."""

    code: str
    label: str
    description: str


_ACTIONS: dict[str, Action] = {}


def register(code: str, label: str, description: str) -> Action:
    """Register an action code; registering the same code twice with other text fails."""
    if code.count(".") < 2 or code != code.lower() or " " in code:
        raise ValueError(f"action code {code!r} must be dotted lower case: app.object.verb")
    action = Action(code, label, description)
    existing = _ACTIONS.get(code)
    if existing is not None and existing != action:
        raise ValueError(f"action code {code!r} is already registered differently")
    _ACTIONS[code] = action
    return action


def get(code: str) -> Action:
    """The registered action, or KeyError naming the unknown code."""
    try:
        return _ACTIONS[code]
    except KeyError:
        raise KeyError(f"unregistered audit action {code!r}; add it to an actions module") from None


def find(code: str) -> Action | None:
    """The registered action, or None (old events may carry codes no longer registered)."""
    return _ACTIONS.get(code)


def all_actions() -> list[Action]:
    """Every registered action, sorted by code."""
    return sorted(_ACTIONS.values(), key=lambda a: a.code)
