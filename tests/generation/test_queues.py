"""The queues code sends to are known in one place, and every worker command drains them."""

from __future__ import annotations

import importlib.metadata

from assay.core.management.commands import serve_embedded
from assay.generation.queues import defined_queues, is_accelerator_queue
from assay.plugins.manager import build_plugins


def production_generators() -> list:
    """Generators of the installed distributions (group ``assay``), not the test plugin."""
    plugins = build_plugins(strict=True,
                            entry_points=importlib.metadata.entry_points(group="assay"))
    return list(plugins.generators.values())


def test_the_queues_are_the_default_queue_and_each_generators_own():
    queues = defined_queues(production_generators())
    assert queues == ["cpu", "gpu.image", "gpu.text"]
    assert [q for q in queues if is_accelerator_queue(q)] == ["gpu.image", "gpu.text"]


def test_the_embedded_worker_listens_on_every_queue():
    assert sorted(serve_embedded.QUEUES.split(",")) == defined_queues(production_generators())
