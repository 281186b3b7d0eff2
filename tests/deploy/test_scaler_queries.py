"""Each ScaledObject counts exactly its worker's queue, with the query the code defines,
and that query runs on the real schema (queued + running; see assay.generation.scaler)."""

from __future__ import annotations

import pytest
from django.db import connection

from assay.generation.scaler import depth_query
from tests.deploy.render import OVERLAYS, of_kind, pod_spec, render


def worker_queue(deployment: dict) -> str:
    """The queue a worker Deployment drains: its container's ``-Q`` argument."""
    container = pod_spec(deployment)["containers"][0]
    argv = [*container.get("command", []), *container.get("args", [])]
    return argv[argv.index("-Q") + 1]


def scaled_queries(overlay: str) -> list[tuple[str, str]]:
    """(queue, query) for every postgresql trigger in the overlay."""
    docs = render(overlay)
    deployments = {d["metadata"]["name"]: d for d in of_kind(docs, "Deployment")}
    found = []
    for scaled in of_kind(docs, "ScaledObject"):
        target = deployments[scaled["spec"]["scaleTargetRef"]["name"]]
        for trigger in scaled["spec"]["triggers"]:
            if trigger["type"] == "postgresql":
                found.append((worker_queue(target), trigger["metadata"]["query"]))
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_postgresql_trigger_counts_its_own_queue(overlay):
    queries = scaled_queries(overlay)
    assert queries, "no ScaledObject counts jobs in PostgreSQL"
    for queue, query in queries:
        assert query == depth_query(queue)


@pytest.mark.django_db
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_rendered_queries_run_on_the_schema(overlay, require_postgres):
    for _, query in scaled_queries(overlay):
        with connection.cursor() as cursor:
            cursor.execute(query)
            assert cursor.fetchone()[0] == 0  # an empty job table: nothing to scale for
