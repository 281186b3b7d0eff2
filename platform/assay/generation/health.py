"""System health for admins: database, broker, queue depths and the workers seen.

One read for the portal's "System health" screen and ``GET /api/v1/health/``; it goes
further than ``/readyz`` (which only says up or down, for probes). Queue depths come from
the broker itself: ``LLEN`` on each queue's lists for Redis, a count of message files for
the folder broker of the embedded mode; any other broker says "unknown". Workers are read
from the job table, not by pinging them (a ping waits for every worker that might answer):
a worker is seen when it holds a running job's lease or finished a job recently.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Count, Max, Q
from django.utils import timezone
from kombu.exceptions import ChannelError

from assay.celery import app
from assay.generation.choices import JobStatus
from assay.generation.models import GenerationJob
from assay.plugins.manager import get_plugins

#: Workers that finished a job within this window are listed as seen.
SEEN_WITHIN = dt.timedelta(hours=24)
#: Transports whose queue depth the broker can tell cheaply.
_COUNTABLE = {"redis": "Redis", "rediss": "Redis", "filesystem": "folder broker"}


@dataclass
class Check:
    """One component: reachable or not, and why not in words."""

    ok: bool
    summary: str
    problem: str = ""


@dataclass
class QueueDepth:
    """Messages waiting on one Celery queue (None: the broker cannot say)."""

    name: str
    waiting: int | None


@dataclass
class WorkerSeen:
    """A worker as the job table shows it."""

    name: str
    running: int
    lease_expires_at: dt.datetime | None
    lease_lapsed: bool
    last_finished_at: dt.datetime | None


@dataclass
class SystemHealth:
    """Everything the health screen and its REST twin show."""

    database: Check
    broker: Check
    broker_kind: str
    queues: list[QueueDepth] = field(default_factory=list)
    workers: list[WorkerSeen] = field(default_factory=list)
    queued_jobs: int = 0

    @property
    def ok(self) -> bool:
        """Database and broker both answer."""
        return self.database.ok and self.broker.ok


def known_queues() -> list[str]:
    """The default queue and every queue a registered generator runs on."""
    names = {app.conf.task_default_queue or "celery"}
    names.update(cls.queue for cls in get_plugins().generators.values())
    return sorted(names)


def _database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return Check(False, "The database does not answer.", f"{type(exc).__name__}: {exc}")
    return Check(True, "The database answers.")


def _transport() -> str:
    url = str(app.conf.broker_url or "")
    return url.split("://", 1)[0].split("+", 1)[0] if "://" in url else url


def _broker(queues: list[str]) -> tuple[Check, list[QueueDepth]]:
    kind = _transport()
    depths = [QueueDepth(name, None) for name in queues]
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            if kind in _COUNTABLE:
                channel = conn.default_channel
                for depth in depths:
                    depth.waiting = _waiting(channel, depth.name)
    except Exception as exc:
        return Check(False, "The broker does not answer: queued work waits in the "
                            "database until it is back.", f"{type(exc).__name__}: {exc}"), depths
    return Check(True, "The broker answers."), depths


def _waiting(channel: Any, queue: str) -> int:
    """Messages on ``queue``: a passive declare asks the broker without creating it."""
    try:
        return int(channel.queue_declare(queue=queue, passive=True).message_count)
    except ChannelError:
        return 0  # Redis drops an empty queue's list: nothing waits


def _workers(now: dt.datetime) -> list[WorkerSeen]:
    running = Q(status=JobStatus.RUNNING)
    rows = (GenerationJob.objects.exclude(claimed_by="")
            .filter(running | Q(finished_at__gte=now - SEEN_WITHIN))
            .values("claimed_by")
            .annotate(running=Count("id", filter=running),
                      lease=Max("lease_expires_at", filter=running),
                      last_finished=Max("finished_at"))
            .order_by("claimed_by"))
    return [WorkerSeen(name=row["claimed_by"], running=row["running"],
                       lease_expires_at=row["lease"],
                       lease_lapsed=bool(row["lease"] and row["lease"] < now),
                       last_finished_at=row["last_finished"]) for row in rows]


def system_health(now: dt.datetime | None = None) -> SystemHealth:
    """Probe the database and broker, count queued messages, list the workers seen."""
    now = now or timezone.now()
    database = _database()
    broker, depths = _broker(known_queues())
    health = SystemHealth(database=database, broker=broker,
                          broker_kind=_COUNTABLE.get(_transport(), "other"), queues=depths)
    if database.ok:
        health.workers = _workers(now)
        health.queued_jobs = GenerationJob.objects.filter(status=JobStatus.QUEUED).count()
    return health
