"""The queues code sends to are known in one place, and every worker command drains them."""

from __future__ import annotations

from assay.core.management.commands import serve_embedded
from assay.generation.queues import defined_queues, is_accelerator_queue
from tests.conftest import production_generators


def test_the_queues_are_the_default_queue_and_each_generators_own():
    queues = defined_queues(production_generators())
    assert queues == ["cpu", "gpu.audio", "gpu.image", "gpu.text", "gpu.video"]
    assert [q for q in queues if is_accelerator_queue(q)] == [
        "gpu.audio", "gpu.image", "gpu.text", "gpu.video"]


def test_the_embedded_worker_listens_on_every_queue():
    assert sorted(serve_embedded.QUEUES.split(",")) == defined_queues(production_generators())
