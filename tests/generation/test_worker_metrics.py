"""Worker metrics: a real worker process serves its job and batch metrics on a port."""

from __future__ import annotations

import socket
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from assay.generation.models import GenerationJob
from assay.generation.services import submit_generation
from tests.fixtures.workers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True),
              pytest.mark.timeout(240), pytest.mark.usefixtures("ci_uses_redis")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def scrape(port: int) -> dict[str, dict[tuple, float]]:
    """name → {sorted label items → value}; empty while the worker does not answer yet."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
            text = reply.read().decode()
    except OSError:
        return {}
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = (
                sample.value)
    return samples


def value(samples: dict, name: str, **labels: str) -> float | None:
    return samples.get(name, {}).get(tuple(sorted(labels.items())))


def test_a_worker_serves_job_and_batch_metrics(users, project, template, start_worker):
    jobs = [submit_generation(users["creator"], project=project, template="blurb",
                              variables={"product": f"Kite {i}"}, parameters={"seed": i})
            for i in range(3)]
    port = free_port()
    worker = start_worker(ASSAY_WORKER_METRICS_PORT=port)
    wait_for(lambda: all(GenerationJob.objects.get(pk=j.pk).is_terminal for j in jobs),
             message="the jobs to finish")
    assert {GenerationJob.objects.get(pk=j.pk).status for j in jobs} == {"succeeded"}
    samples = wait_for(lambda: (s := scrape(port)) and value(
        s, "assay_jobs_finished_total", queue="cpu", status="succeeded") == 3 and s,
        message="the finished jobs to be counted")
    job = {"queue": "cpu", "generator": "dummy-echo", "status": "succeeded"}
    assert value(samples, "assay_job_duration_seconds_count", **job) == 3
    assert value(samples, "assay_job_duration_seconds_sum", **job) >= 0
    batch = {"queue": "cpu", "generator": "dummy-echo"}
    batches = value(samples, "assay_batch_size_count", **batch)
    assert batches is not None and 1 <= batches <= 3
    assert value(samples, "assay_batch_size_sum", **batch) == 3  # each job in exactly one batch
    assert value(samples, "assay_batch_duration_seconds_count", **batch) == batches
    # The CPU is not an accelerator: nothing counted (as in the jobs' usage records).
    assert not samples.get("assay_accelerator_seconds_total")
    assert "process_cpu_seconds_total" in samples  # the default registry, process metrics too
    assert f"serving worker metrics on port {port}" in worker.log()


def test_no_port_no_server(users, project, template, start_worker):
    port = free_port()
    worker = start_worker(beat=False)
    job = submit_generation(users["creator"], project=project, template="blurb",
                            variables={"product": "Kite"})
    wait_for(lambda: GenerationJob.objects.get(pk=job.pk).is_terminal, message="the job")
    assert scrape(port) == {}
    assert "serving worker metrics" not in worker.log()
