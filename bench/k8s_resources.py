"""What each overlay asks of the cluster: CPU, memory and GPUs, requested and limited,
at the autoscalers' minimum and at their maximum (printed, never asserted).

    .venv/bin/python bench/k8s_resources.py

Renders k8s/overlays/<dev|prod> offline (kubectl kustomize, as the tests do). A pod counts
as Kubernetes schedules it: the larger of its largest init container and the sum of its
containers. Replicas come from the autoscaler that owns each Deployment (HPA
minReplicas/maxReplicas, KEDA minReplicaCount/maxReplicaCount), else spec.replicas.
Jobs run once, beside the steady state, and are listed apart.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the renderer lives with the deploy tests

from tests.deploy.render import OVERLAYS, of_kind, pod_spec, render  # noqa: E402

GPU = "nvidia.com/gpu"
_SUFFIXES = {"m": Decimal("0.001"), "k": Decimal(10) ** 3, "M": Decimal(10) ** 6,
             "G": Decimal(10) ** 9, "T": Decimal(10) ** 12, "Ki": Decimal(2) ** 10,
             "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30, "Ti": Decimal(2) ** 40}


def quantity(value: str | int | float) -> Decimal:
    """A Kubernetes quantity ("500m", "2", "12Gi") as a number (cores, bytes, devices)."""
    text = str(value)
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if text.endswith(suffix):
            return Decimal(text[: -len(suffix)]) * _SUFFIXES[suffix]
    return Decimal(text)


@dataclass
class Amounts:
    """CPU (cores), memory (bytes) and GPUs, requested and limited."""

    cpu_request: Decimal = Decimal(0)
    cpu_limit: Decimal = Decimal(0)
    memory_request: Decimal = Decimal(0)
    memory_limit: Decimal = Decimal(0)
    gpu_request: Decimal = Decimal(0)
    gpu_limit: Decimal = Decimal(0)

    def scaled(self, pods: int) -> Amounts:
        """These amounts for ``pods`` pods."""
        return Amounts(**{name: value * pods for name, value in self.__dict__.items()})

    def add(self, other: Amounts) -> None:
        """Add ``other`` in place."""
        for name, value in other.__dict__.items():
            setattr(self, name, getattr(self, name) + value)


def _container_amounts(container: dict[str, Any]) -> Amounts:
    resources = container.get("resources", {})
    limits = resources.get("limits", {})
    # Extended resources (GPUs) are requested at their limit when no request is written.
    requests = {**({GPU: limits[GPU]} if GPU in limits else {}), **resources.get("requests", {})}
    return Amounts(quantity(requests.get("cpu", 0)), quantity(limits.get("cpu", 0)),
                   quantity(requests.get("memory", 0)), quantity(limits.get("memory", 0)),
                   quantity(requests.get(GPU, 0)), quantity(limits.get(GPU, 0)))


def pod_amounts(spec: dict[str, Any]) -> Amounts:
    """One pod's effective amounts: max(largest init container, sum of containers)."""
    total = Amounts()
    for container in spec.get("containers", []):
        total.add(_container_amounts(container))
    for init in spec.get("initContainers", []):
        amounts = _container_amounts(init)
        for name, value in amounts.__dict__.items():
            setattr(total, name, max(getattr(total, name), value))
    return total


@dataclass
class Workload:
    """One Deployment or Job: its pod's amounts and how many pods it runs."""

    kind: str
    name: str
    pod: Amounts
    min_pods: int
    max_pods: int


def _replica_bounds(docs: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    bounds: dict[str, tuple[int, int]] = {}
    for hpa in of_kind(docs, "HorizontalPodAutoscaler"):
        spec = hpa["spec"]
        bounds[spec["scaleTargetRef"]["name"]] = (spec.get("minReplicas", 1), spec["maxReplicas"])
    for scaled in of_kind(docs, "ScaledObject"):
        spec = scaled["spec"]
        bounds[spec["scaleTargetRef"]["name"]] = (spec.get("minReplicaCount", 0),
                                                 spec.get("maxReplicaCount", 100))
    return bounds


def workload_list(docs: list[dict[str, Any]]) -> list[Workload]:
    """Every Deployment and Job with its pod's amounts and pod counts."""
    bounds = _replica_bounds(docs)
    found = []
    for doc in [*of_kind(docs, "Deployment"), *of_kind(docs, "Job")]:
        name = doc["metadata"]["name"]
        if doc["kind"] == "Job":
            low = high = doc["spec"].get("parallelism", 1)
        else:
            replicas = doc["spec"].get("replicas", 1)
            low, high = bounds.get(name, (replicas, replicas))
        found.append(Workload(doc["kind"], name, pod_amounts(pod_spec(doc) or {}), low, high))
    return found


@dataclass
class Totals:
    """The steady state (Deployments) at minimum and maximum pods, and the one-off Jobs."""

    at_min: Amounts = field(default_factory=Amounts)
    at_max: Amounts = field(default_factory=Amounts)
    jobs: Amounts = field(default_factory=Amounts)


def totals(docs: list[dict[str, Any]]) -> Totals:
    """Sum an overlay's rendered objects."""
    result = Totals()
    for workload in workload_list(docs):
        if workload.kind == "Job":
            result.jobs.add(workload.pod.scaled(workload.max_pods))
        else:
            result.at_min.add(workload.pod.scaled(workload.min_pods))
            result.at_max.add(workload.pod.scaled(workload.max_pods))
    return result


def _cells(amounts: Amounts) -> list[str]:
    gib = Decimal(2) ** 30
    return [f"{amounts.cpu_request:.2f}/{amounts.cpu_limit:.2f}",
            f"{amounts.memory_request / gib:.1f}/{amounts.memory_limit / gib:.1f}",
            f"{amounts.gpu_request:.0f}/{amounts.gpu_limit:.0f}"]


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
             for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def report(overlay: str) -> str:
    """The overlay's table: each workload per pod, then the totals."""
    docs = render(overlay)
    rows = [["workload", "pods min..max", "cpu req/lim per pod", "GiB req/lim per pod",
             "gpu req/lim per pod"]]
    for workload in workload_list(docs):
        rows.append([f"{workload.kind}/{workload.name}",
                     f"{workload.min_pods}..{workload.max_pods}", *_cells(workload.pod)])
    result = totals(docs)
    rows.append(["TOTAL at minimum (Deployments)", "", *_cells(result.at_min)])
    rows.append(["TOTAL at maximum (Deployments)", "", *_cells(result.at_max)])
    rows.append(["Jobs, once (migrate, fetch-models)", "", *_cells(result.jobs)])
    return f"overlay {overlay} (cpu in cores, memory in GiB; requests/limits)\n{_table(rows)}"


def main() -> None:
    """Print both overlays' tables."""
    print("\n\n".join(report(overlay) for overlay in OVERLAYS))


if __name__ == "__main__":
    main()
