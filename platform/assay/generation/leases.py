"""Claiming a job for one worker, and keeping the claim alive while it runs.

A claim is a compare-and-set on the job row: queued → running, or, when the previous
holder's lease ran out (its worker was killed), running → running with a new token and
one more attempt. A second delivery of the same task finds the job claimed with a live
lease, or finished, and does nothing. The attempt cap stops a job that keeps killing its
worker.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone

from assay.audit.context import Actor, audit_context
from assay.audit.services import record
from assay.generation.choices import JobStatus
from assay.generation.dispatch import send_job
from assay.generation.drain import DRAIN
from assay.generation.models import GenerationJob
from assay.generation.transitions import transition

log = logging.getLogger(__name__)

WORKER_ACTOR = Actor.system("worker")


def _lease() -> timedelta:
    return timedelta(seconds=settings.ASSAY_JOB_LEASE_SECONDS)


def claim(job_id: str, worker: str) -> tuple[GenerationJob, str] | None:
    """Take the job for this worker; returns (job, claim token) or None when not ours."""
    job = GenerationJob.objects.filter(pk=job_id).first()
    if job is None:
        log.warning("job %s does not exist; dropping the message", job_id)
        return None
    now = timezone.now()
    token = uuid.uuid4().hex
    fields = {"claim_token": token, "claimed_by": worker[:200], "lease_expires_at": now + _lease(),
              "attempts": job.attempts + 1}
    with audit_context(correlation_id=job.correlation_id, actor=WORKER_ACTOR):
        if job.status == JobStatus.QUEUED:
            if not transition(job, JobStatus.RUNNING, started_at=now, **fields):
                return None
            record("studio.generation.started", target=job,
                   data={"attempt": job.attempts, "worker": worker})
            return job, token
        orphaned = (job.status == JobStatus.RUNNING and job.lease_expires_at is not None
                    and job.lease_expires_at < now)
        if not orphaned:
            return None  # a duplicate delivery: someone holds it, or it is finished
        previous = job.claimed_by
        if job.cancel_requested:
            if transition(job, JobStatus.CANCELLED, expected_token=job.claim_token,
                          finished_at=now):
                record("studio.generation.cancelled", target=job,
                       data={"while": "running", "note": "its worker stopped"})
            return None
        if job.attempts >= settings.ASSAY_JOB_MAX_ATTEMPTS:
            error = (f"The worker running this job stopped {job.attempts} times (last on "
                     f"{previous}); it was given up after {job.attempts} attempts. The job may "
                     "need more memory than the worker has.")
            if transition(job, JobStatus.FAILED, expected_token=job.claim_token,
                          finished_at=now, error=error):
                record("studio.generation.failed", target=job,
                       data={"attempts": job.attempts, "error": error})
            return None
        if not transition(job, JobStatus.RUNNING, expected_token=job.claim_token, **fields):
            return None
        record("studio.generation.started", target=job,
               data={"attempt": job.attempts, "worker": worker, "recovered_from": previous})
        return job, token


def claim_companions(job: GenerationJob, worker: str, *, limit: int, window: float
                     ) -> list[tuple[GenerationJob, str]]:
    """Claim up to ``limit`` more queued jobs that can share ``job``'s batched call.

    PostgreSQL only: ``SELECT … FOR UPDATE SKIP LOCKED`` lets several workers pick from
    the same queue of compatible jobs without waiting on each other or taking the same
    row. When some but fewer than ``limit`` are waiting (a burst is arriving), it keeps
    looking for up to ``window`` seconds, trading a little latency for a fuller batch;
    when none are waiting it returns at once, so a lone job never waits. Each companion gets its own
    claim token and attempt, exactly as if its own message had been delivered (that
    message, when it comes, finds the job claimed and does nothing).
    """
    if limit <= 0 or not job.batch_key or connection.vendor != "postgresql":
        return []
    claimed: list[tuple[GenerationJob, str]] = []
    deadline = time.monotonic() + window
    while True:
        with transaction.atomic():
            rows = list(
                GenerationJob.objects.select_for_update(skip_locked=True)
                .filter(status=JobStatus.QUEUED, batch_key=job.batch_key, cancel_requested=False)
                .order_by("queued_at")[: limit - len(claimed)]
            )
            now = timezone.now()
            for other in rows:
                token = uuid.uuid4().hex
                if transition(other, JobStatus.RUNNING, started_at=now, claim_token=token,
                              claimed_by=worker[:200], lease_expires_at=now + _lease(),
                              attempts=other.attempts + 1):
                    with audit_context(correlation_id=other.correlation_id, actor=WORKER_ACTOR):
                        record("studio.generation.started", target=other, data={
                            "attempt": other.attempts, "worker": worker,
                            "batched_with": str(job.pk)})
                    claimed.append((other, token))
        # Nothing compatible waiting: the queue is quiet, so waiting would only add latency.
        if not claimed or len(claimed) >= limit or time.monotonic() >= deadline:
            return claimed
        time.sleep(min(0.02, max(0.0, deadline - time.monotonic())))


def release(claims: list[tuple[str, str]]) -> set[str]:
    """Hand claimed running jobs back to the queue because this worker is stopping.

    Each job goes running → queued (its claim cleared, the attempt not counted: the job did
    nothing wrong) and is re-sent once the change commits, so another worker claims it at
    once rather than after the lease lapses. A job whose cancellation was asked for ends
    cancelled instead. Returns the ids this worker no longer holds.
    """
    released: set[str] = set()
    for job_id, token in claims:
        job = GenerationJob.objects.filter(pk=job_id, claim_token=token,
                                           status=JobStatus.RUNNING).first()
        if job is None:
            continue  # finished, or already someone else's
        worker = job.claimed_by
        with audit_context(correlation_id=job.correlation_id, actor=WORKER_ACTOR), \
                transaction.atomic():
            if job.cancel_requested:
                if transition(job, JobStatus.CANCELLED, expected_token=token,
                              finished_at=timezone.now()):
                    record("studio.generation.cancelled", target=job,
                           data={"while": "running", "note": "its worker was stopping"})
                    released.add(job_id)
                continue
            if transition(job, JobStatus.QUEUED, expected_token=token, claim_token="",
                          claimed_by="", lease_expires_at=None, started_at=None, progress=0,
                          last_sent_at=None, attempts=max(0, job.attempts - 1)):
                record("studio.generation.released", target=job,
                       data={"worker": worker, "why": "the worker was told to stop and its "
                             "grace period for the batch ran out"})
                transaction.on_commit(lambda pk=job.pk: send_job(pk))
                released.add(job_id)
    if released:
        log.warning("worker stopping: handed %d job(s) back to the queue: %s", len(released),
                    ", ".join(sorted(released)))
    return released


#: The heartbeat's connections show under this name in pg_stat_activity.
HEARTBEAT_APPLICATION_NAME = "assay-heartbeat"


def drop_broken_connection() -> bool:
    """Close this thread's database connection if the server dropped it; True if it did.

    Django notices a dead connection only when a query fails, and then keeps failing on
    the same wrapper. Closing it makes the next query open a fresh connection (or take a
    healthy one from the pool). A connection inside an atomic block is left alone: its
    transaction is lost anyway, and the block's owner rolls back.
    """
    if connection.connection is None or connection.in_atomic_block:
        return False
    try:
        usable = connection.is_usable()
    except Exception:  # noqa: BLE001 - a driver that cannot even answer is unusable
        usable = False
    if usable:
        return False
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - closing a dead socket may complain; it is closed
        connection.connection = None
    return True


class Heartbeat:
    """A background thread that owns all database traffic while a batch generates.

    Every ``interval`` it writes the progress the generator reported (kept in memory by
    :meth:`report`), reads the cancel flags, and every third of a lease extends the
    leases, so a model load or a long step cannot make a live job look abandoned. The
    generating thread itself never waits on the database.

    When the worker is stopping and its grace for the batch has run out (assay.generation.
    drain), the next tick hands the batch back instead (:func:`release`); ``released`` then
    names the jobs, and the generator's progress callback reports them cancelled so it
    stops early.

    A failed tick (the server terminated the connection, a failover, a network blip) never
    ends the thread: the connection is dropped, the next tick opens a new one and extends
    the leases at once, so a job outlives an outage shorter than about two thirds of a
    lease without another delivery taking it over.
    """

    def __init__(self, claims: list[tuple[str, str]], *, interval: float = 0.5) -> None:
        self.claims = claims  # (job id, claim token)
        self.interval = interval
        self.cancelled: set[str] = set()
        self.released: set[str] = set()  # handed back because the worker is stopping
        self.failures = 0  # ticks that failed since the last good one
        self.reconnects = 0  # connections replaced after a failure (for tests and logs)
        self._progress: dict[str, int] = {}
        self._written: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="assay-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def report(self, job_id: str, percent: int) -> None:
        """Remember a job's progress; written on the next tick (cheap, no I/O)."""
        self._progress[job_id] = percent

    def _run(self) -> None:
        close_old_connections()
        period = settings.ASSAY_JOB_LEASE_SECONDS / 3
        next_extend = time.monotonic() + period
        try:
            while not self._stop.wait(self.interval):
                extend = time.monotonic() >= next_extend
                if self.tick(extend=extend) and extend:
                    next_extend = time.monotonic() + period
                # A failed extension is retried on the next tick, not a period later.
        finally:
            self._release()

    def tick(self, *, extend: bool) -> bool:
        """One round trip, surviving a lost connection; True when it went through."""
        try:
            self._connect()
            self.poll(extend=extend)
        except Exception:  # noqa: BLE001 - never let a heartbeat failure end the heartbeat
            self.failures += 1
            if self.failures == 1:
                log.warning("heartbeat for %s failed; reconnecting", self._job_ids(),
                            exc_info=True)
            self._drop()
            return False
        if self.failures:
            log.info("heartbeat for %s is back after %d failed ticks", self._job_ids(),
                     self.failures)
            self.failures = 0
        return True

    def _job_ids(self) -> str:
        return ", ".join(job_id for job_id, _ in self.claims)

    def _connect(self) -> None:
        """Open a connection when there is none, named so operators can tell it apart."""
        if connection.connection is not None:
            return
        connection.ensure_connection()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('application_name', %s, false)",
                               [HEARTBEAT_APPLICATION_NAME])

    def _drop(self) -> None:
        """Forget the connection after a failure, so the next tick opens a fresh one."""
        if connection.connection is not None:
            self.reconnects += 1
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - a dead socket may refuse to close politely
            connection.connection = None

    def _release(self) -> None:
        """Hand the connection back without its name (a pool gives it to others next)."""
        if connection.connection is not None and connection.vendor == "postgresql":
            try:
                with connection.cursor() as cursor:
                    cursor.execute("RESET application_name")
            except Exception:  # noqa: BLE001 - a broken connection is discarded anyway
                log.debug("could not reset the heartbeat connection's name", exc_info=True)
        try:
            connection.close()
        except Exception:  # noqa: BLE001
            connection.connection = None

    def poll(self, *, extend: bool) -> None:
        """Write changed progress, read cancel flags, extend the leases when asked; hand
        the batch back once a stopping worker's grace has run out."""
        if self.released:
            return
        if DRAIN.overdue:
            self.released = release(self.claims) or {job_id for job_id, _ in self.claims}
            return
        mine = Q()
        for job_id, token in self.claims:
            mine |= Q(pk=job_id, claim_token=token)
        rows = GenerationJob.objects.filter(mine, status=JobStatus.RUNNING)
        for job_id, percent in list(self._progress.items()):
            if self._written.get(job_id) != percent:
                rows.filter(pk=job_id).update(progress=percent)
                self._written[job_id] = percent
        if extend:
            rows.update(lease_expires_at=timezone.now() + _lease())
        self.cancelled.update(
            str(pk) for pk in rows.filter(cancel_requested=True).values_list("pk", flat=True))
