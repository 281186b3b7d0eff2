"""Running claimed jobs: load the model through the cache, generate, store, finish.

``run_job`` is what the Celery task calls. Everything a job ends with (its assets, its
usage and its final status) is written in one transaction guarded by the claim token,
so a worker that lost its claim (it stalled past its lease and another delivery took
over) cannot store a second copy of the outputs.

Two kinds of failure end differently. An error the job raises itself (the generator
throws, the media storage refuses the output, a plugin hook fails) fails the job at
once with that error in words: running it again would fail the same way. Only a worker
that disappears (killed, out of memory) or a database that stays unreachable leaves the
job to its lease, so another delivery retries it, up to ASSAY_JOB_MAX_ATTEMPTS.
"""

from __future__ import annotations

import functools
import logging
import time
from contextlib import AbstractContextManager
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from assay.audit.context import audit_context
from assay.audit.services import record
from assay.generation.cache import ModelCache
from assay.generation.choices import JobStatus
from assay.generation.devices import DeviceChoice, choose_device, configure_cpu_threads
from assay.generation.dispatch import send_job
from assay.generation.drain import DRAIN
from assay.generation.leases import (
    WORKER_ACTOR,
    Heartbeat,
    claim,
    claim_companions,
    drop_broken_connection,
)
from assay.generation.metrics import observe_batch, observe_finished
from assay.generation.models import GenerationJob
from assay.generation.storage import StorageFailed, describe_error, store_outputs
from assay.generation.transitions import transition
from assay.plugins.contracts import (
    GenerationCancelled,
    GenerationRequest,
    Generator,
    ModelRef,
    Progress,
    RequestResult,
)
from assay.plugins.manager import Plugins, get_plugins

log = logging.getLogger(__name__)


class _LostClaim(Exception):
    """Another delivery owns the job now; roll back what this one was about to write."""


class JobProgress(Progress):
    """Hands progress to the heartbeat (which writes it) and reads the cancel flags it saw.

    Called from the generator's inner loop, so it never touches the database itself.
    """

    def __init__(self, claims: list[tuple[str, str]], heartbeat: Heartbeat) -> None:
        self.job_ids = [job_id for job_id, _ in claims]
        self.heartbeat = heartbeat

    def update(self, index: int, fraction: float) -> None:
        """Whole percentages; 100 is written with the outputs."""
        self.heartbeat.report(self.job_ids[index], max(0, min(99, int(fraction * 100))))

    def is_cancelled(self, index: int) -> bool:
        """True once the heartbeat saw the job's cancel flag, or handed the job back (the
        worker is stopping): either way the generator should stop working on it."""
        job_id = self.job_ids[index]
        return job_id in self.heartbeat.cancelled or job_id in self.heartbeat.released


@functools.cache
def worker_device() -> DeviceChoice:
    """This process's device, chosen once (and CPU threads set once)."""
    choice = choose_device(settings.ASSAY_DEVICE)
    if choice.device == "cpu":
        configure_cpu_threads(settings.ASSAY_TORCH_THREADS)
    return choice


@functools.cache
def model_cache() -> ModelCache:
    """This process's model cache."""
    return ModelCache(settings.ASSAY_MODEL_CACHE_MB * 1024 * 1024)


def run_job(job_id: str, *, worker: str) -> str | None:
    """Claim and run one job (plus compatible queued jobs, batched); returns its status.

    None means the job was not this delivery's to run (a duplicate, or already finished),
    or this worker is stopping: then the job is re-sent for another worker, untouched.
    """
    if DRAIN.active:
        send_job(job_id)
        return None
    claimed = claim(job_id, worker)
    if claimed is None:
        return None
    job, token = claimed
    batch = [claimed]
    generator_cls = get_plugins().generator(job.generator_id)
    if generator_cls is not None and generator_cls.max_batch_size > 1 and not DRAIN.active:
        limit = min(generator_cls.max_batch_size, settings.ASSAY_BATCH_MAX_JOBS) - 1
        batch += claim_companions(job, worker, limit=limit,
                                  window=settings.ASSAY_BATCH_WINDOW_MS / 1000)
    try:
        execute(batch)
    except (OperationalError, InterfaceError):
        raise  # the database is away: nothing can be recorded; the lease retries the job
    except Exception as exc:
        log.exception("running the batch starting with job %s failed", job.pk)
        for other, other_token in batch:
            _finish_failed(other, other_token, describe_error(exc), refresh=True)
    observe_finished(batch)
    job.refresh_from_db(fields=["status"])
    return job.status


def execute(batch: list[tuple[GenerationJob, str]]) -> None:
    """Run claimed jobs that share a generator and model in one call, then finish each.

    Every job ends succeeded, failed or cancelled on its own: a cancelled job in a batch
    ends cancelled while the others succeed.
    """
    first = batch[0][0]
    generator_cls = get_plugins().generator(first.generator_id)
    if generator_cls is None:
        for job, token in batch:
            _finish_failed(job, token, f"The generator {job.generator_id!r} is not installed "
                           "on this worker (check `manage.py plugins`).")
        return
    claims = [(str(job.pk), token) for job, token in batch]
    started = time.perf_counter()
    try:
        requests = [_request(job) for job, _ in batch]
        with Heartbeat(claims) as heartbeat:
            device = worker_device()
            generator = model_cache().get(generator_cls, ModelRef.from_dict(first.model_ref),
                                          device.device, device.dtype)
            gen_started = time.perf_counter()
            results = generator.generate(requests, JobProgress(claims, heartbeat))
            gen_seconds = time.perf_counter() - gen_started
    except GenerationCancelled:
        if heartbeat.released:
            return  # handed back: another worker runs these jobs now
        for job, token in batch:
            _finish_cancelled(job, token)
        return
    except Exception as exc:
        log.exception("batch of %d starting with job %s failed", len(batch), first.pk)
        for job, token in batch:
            _finish_failed(job, token, describe_error(exc))
        return
    if heartbeat.released:
        log.info("batch starting with job %s finished after it was handed back; another "
                 "worker's run counts, these outputs are dropped", first.pk)
        return
    if len(results) != len(batch):
        for job, token in batch:
            _finish_failed(job, token, f"The generator returned {len(results)} results for "
                           f"{len(batch)} requests (a plugin bug).")
        return
    wall = time.perf_counter() - started
    # The connection sat idle while the model ran; the server may have closed it since.
    drop_broken_connection()
    cancelled = set(GenerationJob.objects.filter(
        pk__in=[job.pk for job, _ in batch], cancel_requested=True).values_list("pk", flat=True))
    for (job, token), result in zip(batch, results, strict=True):
        if result.cancelled or job.pk in cancelled:
            _finish_cancelled(job, token)
            continue
        usage = _usage(result, wall=wall, generate=gen_seconds / len(batch),
                       device=device.device, batch_size=len(batch))
        _finish_output(job, token, result, usage, generator)
    observe_batch(first, len(batch), gen_seconds, device.device)


def _request(job: GenerationJob) -> GenerationRequest:
    inputs: dict[str, bytes] = {}
    if job.parent_asset_id:
        parent = job.parent_asset
        inputs["script" if parent.kind == "text" else "init_image"] = parent.read_bytes()
    return GenerationRequest(job_id=str(job.pk), prompt=job.rendered_prompt,
                             parameters=dict(job.parameters), seed=int(job.seed), inputs=inputs)


def _usage(result: RequestResult, *, wall: float, generate: float, device: str,
           batch_size: int) -> dict[str, Any]:
    """Counters for one job; a batch's model time is shared out evenly among its jobs."""
    usage: dict[str, Any] = dict(result.usage)
    usage["outputs"] = len(result.outputs)
    usage["images"] = sum(1 for o in result.outputs if o.kind == "image")
    usage["wall_seconds"] = round(wall, 4)
    usage["generate_seconds"] = round(generate, 4)
    usage["accelerator_seconds"] = round(generate, 4) if device != "cpu" else 0.0
    usage["device"] = device
    usage["batch_size"] = batch_size
    return usage


def _job_scope(job: GenerationJob) -> AbstractContextManager[object]:
    """Events about a job carry the correlation id of the request that submitted it."""
    return audit_context(correlation_id=job.correlation_id, actor=WORKER_ACTOR)


def _announce_assets(plugins: Plugins, asset_ids: list[str]) -> None:
    """The ``assets_stored`` hook after the storing commit; a failing listener (e.g. the
    broker is down for the checks) is logged: the review sweeper re-queues its work."""
    try:
        plugins.pm.hook.assets_stored(asset_ids=asset_ids)
    except Exception:
        log.exception("an assets_stored hook failed for %s", asset_ids)


def _finish_output(job: GenerationJob, token: str, result: RequestResult,
                   usage: dict[str, Any], generator: Generator) -> str:
    """Store a finished job's outputs; an error doing so fails the job, in words.

    A connection lost while finishing is retried once on a fresh one (the outputs are
    fine, and the claim token keeps the retry from storing twice); a database that stays
    away propagates, leaving the job to its lease.
    """
    for attempt in (1, 2):
        try:
            return _finish_succeeded(job, token, result, usage, generator.model_info())
        except StorageFailed as exc:
            log.error("job %s: could not store its output: %s", job.pk, exc.reason,
                      exc_info=True)
            return _finish_failed(job, token, f"Could not store the output: {exc.reason}.",
                                  refresh=True)
        except (OperationalError, InterfaceError):
            if attempt == 2:
                raise
            log.warning("job %s lost its database connection while finishing; retrying",
                        job.pk, exc_info=True)
            drop_broken_connection()
            job.refresh_from_db()
        except Exception as exc:
            log.exception("job %s could not be finished", job.pk)
            return _finish_failed(job, token, f"Could not finish the job: "
                                  f"{describe_error(exc)}", refresh=True)
    raise AssertionError("unreachable")  # pragma: no cover


def _finish_succeeded(job: GenerationJob, token: str, result: RequestResult,
                      usage: dict[str, Any], model_info: dict[str, Any]) -> str:
    plugins = get_plugins()
    try:
        with _job_scope(job), transaction.atomic():
            assets = store_outputs(job, result.outputs)
            if not transition(job, JobStatus.SUCCEEDED, expected_token=token, progress=100,
                              finished_at=timezone.now(), usage=usage,
                              model_ref={**job.model_ref, **model_info}):
                raise _LostClaim
            plugins.pm.hook.generation_succeeded(job=job)  # usage, in this transaction
            record("studio.generation.succeeded", target=job, data={
                "assets": [{"id": str(a.pk), "sha256": a.sha256} for a in assets],
                "usage": usage,
            })
            ids = [str(a.pk) for a in assets]
            transaction.on_commit(lambda: _announce_assets(plugins, ids))
    except _LostClaim:
        log.warning("job %s was taken over by another delivery; outputs discarded", job.pk)
        return job.status
    return JobStatus.SUCCEEDED


def _finish_failed(job: GenerationJob, token: str, error: str, *, refresh: bool = False
                   ) -> str:
    """Fail the job with ``error`` unless it already finished or is no longer ours.

    ``refresh`` re-reads the row first, after a finish that rolled back (the in-memory
    job may say succeeded although the database never did).
    """
    with _job_scope(job), transaction.atomic():
        if refresh:
            job.refresh_from_db()
        if job.is_terminal or job.claim_token != token:
            return job.status
        if transition(job, JobStatus.FAILED, expected_token=token, finished_at=timezone.now(),
                      error=error[:4000]):
            record("studio.generation.failed", target=job, data={"error": error[:4000]})
    return job.status


def _finish_cancelled(job: GenerationJob, token: str) -> str:
    with _job_scope(job), transaction.atomic():
        if transition(job, JobStatus.CANCELLED, expected_token=token,
                      finished_at=timezone.now()):
            record("studio.generation.cancelled", target=job, data={"while": "running"})
    return job.status
