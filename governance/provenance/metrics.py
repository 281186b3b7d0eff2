"""Signing failures as a Prometheus counter, served by the worker that signs.

Signing runs in Celery tasks (the approval's task and the sweeper), so the counter lives
in the worker's default registry, which ``ASSAY_WORKER_METRICS_PORT`` serves (see
assay.generation.metrics). A refusal is logged and retried by the sweeper; this counter
is what makes a run of them visible before anyone reads the logs.
"""

from __future__ import annotations

from prometheus_client import Counter

from assay.core.exceptions import AssayError

SIGNING_FAILURES = Counter(
    "assay_signing_failures", "Approved assets a signing attempt could not sign, by reason.",
    ("reason",))


def observe_signing_failure(exc: AssayError) -> None:
    """Count one refused signing; the reason is the error's code (a short fixed word)."""
    SIGNING_FAILURES.labels(reason=exc.code).inc()
