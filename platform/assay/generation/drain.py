"""A worker told to stop: claim nothing more, then finish or hand back the batch in hand.

Kubernetes stops a pod with SIGTERM and kills it when the termination grace period ends.
Celery's warm shutdown already stops taking messages and waits for the running task; this
module adds the part Celery cannot know: a generation batch may take longer than the pod
has left. ``begin`` is called from Celery's ``worker_shutting_down`` signal (in the process
that runs the job: workers use the solo pool). From then on the worker claims nothing new,
and once ASSAY_WORKER_DRAIN_SECONDS have passed with the batch still running, the
heartbeat hands its jobs back to the queue (running → queued) and re-sends them, so
another worker starts them at once instead of after the lease runs out.
"""

from __future__ import annotations

import threading
import time


class Drain:
    """Whether this process is stopping, and whether its grace for the batch is spent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deadline: float | None = None

    def begin(self, seconds: float) -> None:
        """Start draining; the batch in hand may run ``seconds`` more (the first call wins)."""
        with self._lock:
            if self._deadline is None:
                self._deadline = time.monotonic() + max(0.0, seconds)

    def reset(self) -> None:
        """Forget a drain (tests reuse one process)."""
        with self._lock:
            self._deadline = None

    @property
    def active(self) -> bool:
        """True once the worker was told to stop: claim nothing more."""
        return self._deadline is not None

    @property
    def overdue(self) -> bool:
        """True once the batch in hand has used up its grace: hand it back."""
        deadline = self._deadline
        return deadline is not None and time.monotonic() >= deadline


#: This process's drain state (one worker per process).
DRAIN = Drain()
