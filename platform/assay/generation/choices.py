"""Job status values and the job state machine."""

from django.db import models


class JobStatus(models.TextChoices):
    """queued → running → succeeded | failed | cancelled; queued → cancelled."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


#: Every allowed move. A running job whose worker died is re-claimed as running →
#: running (a new attempt), which is why that self-move is listed.
JOB_TRANSITIONS: dict[str, frozenset[str]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED}),
    JobStatus.RUNNING: frozenset(
        {JobStatus.RUNNING, JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}
    ),
    JobStatus.SUCCEEDED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}

TERMINAL_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


def can_transition(current: str, target: str) -> bool:
    """True when the state machine allows ``current`` → ``target``."""
    return target in JOB_TRANSITIONS.get(current, frozenset())
