"""The rendered manifests' containers as processes on this machine.

For each container of each workload: the image's own ENV (from its Dockerfile's last
stage), then the container's environment as Kubernetes would build it (envFrom and env,
ConfigMaps from the same rendered overlay), with secrets replaced by test values and every
path under one of the pod's volume mounts moved into a temporary folder. The command's
executable is looked up on the image's PATH, whose /opt/venv/bin is this virtual
environment's bin folder, and the working directory is the repository (the image's /app).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.deploy.dockerfiles import DOCKERFILES, REPO, env_of, stages
from tests.deploy.render import of_kind, pod_spec

VENV_BIN = Path(sys.executable).parent
IMAGE_VENV_BIN = "/opt/venv/bin"
IMAGE_WORKDIR = "/app"
#: Mounts that are the same on this machine (tmpfs-like scratch space).
SHARED_MOUNTS = ("/tmp", "/dev/shm")


@dataclass
class Container:
    overlay: str
    workload: str  # Kind/name
    name: str
    init: bool
    spec: dict[str, Any]
    pod: dict[str, Any]
    docs: list[dict[str, Any]]

    @property
    def id(self) -> str:
        return f"{self.overlay}:{self.workload}:{self.name}"

    @property
    def argv(self) -> list[str]:
        return [str(a) for a in self.spec.get("command", []) + self.spec.get("args", [])]

    @property
    def dockerfile(self) -> Path:
        """Dockerfile.gpu for the assay-gpu image, else Dockerfile."""
        repo_and_name = self.spec["image"].split("@")[0].rsplit(":", 1)[0]
        return DOCKERFILES["gpu" if repo_and_name.endswith("-gpu") else "cpu"]

    def mounts(self) -> list[str]:
        return [m["mountPath"] for m in self.spec.get("volumeMounts", [])]


def containers(overlay: str, docs: list[dict[str, Any]]) -> list[Container]:
    """Every container and init container of every workload in the overlay."""
    found: list[Container] = []
    for doc in docs:
        pod = pod_spec(doc)
        if pod is None:
            continue
        workload = f"{doc['kind']}/{doc['metadata']['name']}"
        for key, init in (("initContainers", True), ("containers", False)):
            for spec in pod.get(key, []):
                found.append(Container(overlay, workload, spec["name"], init, spec, pod, docs))
    return found


def _config_map(docs: list[dict[str, Any]], name: str) -> dict[str, str]:
    for doc in of_kind(docs, "ConfigMap"):
        if doc["metadata"]["name"] == name:
            return dict(doc.get("data", {}))
    raise AssertionError(f"no ConfigMap {name} in the rendered overlay")


def image_env(dockerfile: Path) -> dict[str, str]:
    """The image's ENV with this machine's PATH behind the virtual environment."""
    env = env_of(stages(dockerfile)[-1])
    path = env.get("PATH", "$PATH").replace(IMAGE_VENV_BIN, str(VENV_BIN))
    env["PATH"] = path.replace("${PATH}", "/usr/bin:/bin").replace("$PATH", "/usr/bin:/bin")
    return env


def resolve_env(container: Container, secrets: Callable[[str], str | None],
                remap: Callable[[str], str]) -> dict[str, str]:
    """The process environment for ``container``.

    ``secrets(key)`` gives the test value for a secretKeyRef key (None: no test value; an
    optional key is then left out, a required one fails). ``remap`` moves container paths.
    """
    env = image_env(container.dockerfile)
    spec = container.spec
    for source in spec.get("envFrom", []):
        if "configMapRef" in source:
            data = _config_map(container.docs, source["configMapRef"]["name"])
            env.update({source.get("prefix", "") + k: v for k, v in data.items()})
        else:
            raise AssertionError(f"{container.id}: envFrom {source} has no test values")
    for item in spec.get("env", []):
        name = item["name"]
        if "value" in item:
            env[name] = str(item["value"])
            continue
        ref = item.get("valueFrom", {})
        if "configMapKeyRef" in ref:
            key_ref = ref["configMapKeyRef"]
            data = _config_map(container.docs, key_ref["name"])
            if key_ref["key"] in data:
                env[name] = data[key_ref["key"]]
            elif not key_ref.get("optional"):
                raise AssertionError(f"{container.id}: {name} needs missing key "
                                     f"{key_ref['key']} of ConfigMap {key_ref['name']}")
        elif "secretKeyRef" in ref:
            key_ref = ref["secretKeyRef"]
            value = secrets(key_ref["key"])
            if value is not None:
                env[name] = value
            elif not key_ref.get("optional"):
                raise AssertionError(f"{container.id}: no test value for secret key "
                                     f"{key_ref['key']} ({name})")
        elif "fieldRef" in ref:
            env[name] = f"test-{ref['fieldRef']['fieldPath'].replace('.', '-')}"
        elif "resourceFieldRef" in ref:
            env[name] = "1"
        else:
            raise AssertionError(f"{container.id}: {name} has an unknown valueFrom {ref}")
    return {k: remap(v) for k, v in env.items()}


def path_remapper(container: Container, root: Path,
                  extra: dict[str, Path] | None = None) -> Callable[[str], str]:
    """Moves values under one of the container's mounts (and /app) to this machine: each
    mount becomes a folder under ``root``, ``extra`` maps image paths no mount covers (the
    static files collected at build time, the image's own var folder), the rest of /app is
    the repository."""
    moved = {m: root / m.strip("/").replace("/", "__") for m in container.mounts()
             if m not in SHARED_MOUNTS}
    for image_path, folder in (extra or {}).items():
        moved.setdefault(image_path, folder)
    for folder in moved.values():
        folder.mkdir(parents=True, exist_ok=True)

    def remap(value: str) -> str:
        for mount in sorted(moved, key=len, reverse=True):
            if value == mount or value.startswith(mount.rstrip("/") + "/"):
                return str(moved[mount]) + value[len(mount.rstrip("/")):]
        if value == IMAGE_WORKDIR or value.startswith(IMAGE_WORKDIR + "/"):
            return str(REPO) + value[len(IMAGE_WORKDIR):]
        return value

    return remap
