"""The publishers the plugins registered (``register_publishers``), by id.

Collected here rather than by the plugin manager: only this app uses them, and a
publisher that returns something else is skipped with a warning, never a crash of the
signing that triggered it.
"""

from __future__ import annotations

import logging

from assay.plugins.contracts import Publisher
from assay.plugins.manager import get_plugins

log = logging.getLogger(__name__)


def publishers() -> dict[str, type[Publisher]]:
    """Every registered Publisher subclass by its id (the first registration wins)."""
    found: dict[str, type[Publisher]] = {}
    for result in get_plugins().pm.hook.register_publishers():
        for cls in result or ():
            if not (isinstance(cls, type) and issubclass(cls, Publisher)
                    and getattr(cls, "id", "")):
                log.warning("register_publishers returned %r, not a Publisher with an id", cls)
            elif cls.id in found and found[cls.id] is not cls:
                log.warning("publisher id %r registered twice; the first one is kept", cls.id)
            else:
                found[cls.id] = cls
    return found
