"""Publishing a Celery task without ever failing the caller when the broker is down.

Every producer in Assay (jobs, checks, signing) writes its row first and has a sweeper
that re-sends what was lost, so a failed publish is logged and reported, never raised.
"""

from __future__ import annotations

import logging
from typing import Any

from assay.celery import app

log = logging.getLogger(__name__)


def send_task(name: str, args: list[Any], *, queue: str) -> bool:
    """Send task ``name`` to ``queue`` without retries; False (and a warning) on failure."""
    try:
        app.send_task(name, args=args, queue=queue, retry=False)
    except Exception as exc:  # kombu OperationalError, redis errors: the sweeper retries
        log.warning("could not send %s%s to the broker (%s); a sweeper will retry",
                    name, args, exc)
        return False
    return True
