"""The one place Assay's hooks are specified.

Every hook is typed and documented here and has a test named ``test_hook_<name>``. Call
hooks with keyword arguments only (pluggy's rule), and grow them by adding parameters:
implementations that do not take a new argument keep working.
"""

from __future__ import annotations

from typing import Any

import pluggy

from assay.plugins.contracts import Check, Generator, Publisher

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
def register_publishers() -> list[type[Publisher]]:
    """Return the Publisher subclasses this plugin provides (approved, signed assets go
    onward through them).

    Each class needs a unique ``id``. The platform calls a publisher from a Celery task per
    (asset, destination) once the signing has committed, never inside it, and keeps the
    delivery log, retries with backoff and audit events for it.
    """


@hookspec
def build_demo_models(models_dir: str, force: bool) -> list[str]:
    """Build this plugin's small local demo models under ``models_dir``; return their names.

    Called by ``manage.py build_demo_models`` (and so by ``make run`` and the tests).
    Must work offline, be idempotent (return at once when the model is up to date,
    unless ``force``), and never leave a half-built folder behind.
    """


@hookspec
def asset_approved(asset_id: str, project: str, sha256: str, review_id: int,
                   correlation_id: str) -> None:
    """React to an asset version's final approval (after it is committed).

    The one approval event: provenance signs here and publishers push the approved asset
    onward. An exception is logged and never undoes the approval.

    .. versionchanged:: issue 9
        ``review_id`` and ``correlation_id`` (the approving request's, so follow-up work
        joins it in the audit log) were added; implementations may ignore them.
    """


@hookspec
def generation_submitting(user: Any, project: Any, generator: type[Generator],
                          parameters: dict[str, Any]) -> None:
    """Check a generation inside the transaction that inserts its job; raise to refuse it.

    Raise an ``AssayError`` (e.g. ``QuotaExceeded``) to refuse: nothing is written. Row
    locks taken here are held until the job row commits (quotas rely on that).
    """


@hookspec
def generation_succeeded(job: Any) -> None:
    """Record what a job used, inside the transaction that marks it succeeded.

    An exception rolls the whole finish back, so the job, its assets and what it used
    are stored together or not at all.
    """


@hookspec
def assets_stored(asset_ids: list[str]) -> None:
    """React to assets a finished job stored (after that transaction commits).

    The review app queues the checks here. An exception is logged; the assets stay.
    """
