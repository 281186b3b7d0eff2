"""Job status values and the job state machine."""

from django.db import models


class JobStatus(models.TextChoices):
    """queued → running → succeeded | failed | cancelled; queued → cancelled; a stopping
    worker hands a running job back: running → queued."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


#: Every allowed move. A running job whose worker died is re-claimed as running →
#: running (a new attempt), which is why that self-move is listed; a worker told to stop
#: (SIGTERM) that cannot finish in time hands its jobs back as running → queued.
JOB_TRANSITIONS: dict[str, frozenset[str]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED}),
    JobStatus.RUNNING: frozenset({JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED,
                                  JobStatus.FAILED, JobStatus.CANCELLED}),
    JobStatus.SUCCEEDED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}

TERMINAL_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


def can_transition(current: str, target: str) -> bool:
    """True when the state machine allows ``current`` → ``target``."""
    return target in JOB_TRANSITIONS.get(current, frozenset())
