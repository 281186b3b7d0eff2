"""The one place Assay's hooks are specified.

Every hook is typed and documented here and has a test named ``test_hook_<name>``. Call
hooks with keyword arguments only (pluggy's rule), and grow them by adding parameters:
implementations that do not take a new argument keep working.
"""

from __future__ import annotations

import pluggy

from assay.plugins.contracts import Check, Generator

PROJECT_NAME = "assay"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_generators() -> list[type[Generator]]:
    """Return the Generator subclasses this plugin provides.

    Each class needs a unique ``id``; a duplicate id from a second plugin is refused and
    reported on the plugin status page, the first registration wins.
    """


@hookspec
def register_checks() -> list[type[Check]]:
    """Return the Check subclasses this plugin provides (used by the review workflow)."""


@hookspec
def build_demo_models(models_dir: str, force: bool) -> list[str]:
    """Build this plugin's small local demo models under ``models_dir``; return their names.

    Called by ``manage.py build_demo_models`` (and so by ``make run`` and the tests).
    Must work offline, be idempotent (return at once when the model is up to date,
    unless ``force``), and never leave a half-built folder behind.
    """


@hookspec
def asset_approved(asset_id: str, project: str, sha256: str) -> None:
    """React to an asset version's final approval (after it is committed).

    Publishers push the approved asset onward here. An exception is logged and never
    undoes the approval.
    """
