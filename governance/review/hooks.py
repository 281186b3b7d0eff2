"""The review app as a built-in plugin of the generation domain: checks start when a
finished job's assets are stored (``ASSAY_BUILTIN_PLUGINS``)."""

from __future__ import annotations

from assay import hookimpl
from governance.review.dispatch import queue_checks


@hookimpl
def assets_stored(asset_ids: list[str]) -> None:
    """Queue one check task per stored asset (the sweeper re-queues what a broker lost)."""
    queue_checks(asset_ids)
