"""The Celery queues Assay sends work to: one worker Deployment and one autoscaler each.

A queue exists because code sends to it: the default queue (checks, signing, sweeps, and
generators that need no accelerator) and each installed generator's own queue
(``gpu.text``, ``gpu.image``, ...). The Kubernetes manifests are checked against this list
(tests/deploy), so a new modality's queue cannot ship without a worker to drain it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from assay.plugins.contracts import Generator


def defined_queues(generators: Iterable[type[Generator]]) -> list[str]:
    """Every queue that work is sent to, given the installed generators, sorted."""
    queues = {settings.CELERY_TASK_DEFAULT_QUEUE}
    queues.update(entry["options"]["queue"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
                  if "queue" in entry.get("options", {}))
    queues.update(generator.queue for generator in generators)
    return sorted(queues)


def is_accelerator_queue(queue: str) -> bool:
    """GPU queues are named ``gpu.<modality>``; their workers run on the GPU node pool."""
    return queue.startswith("gpu.")
