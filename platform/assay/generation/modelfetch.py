"""Downloading registered hub models into the Hugging Face cache, ahead of time.

Workers never reach the model hub (HF_HUB_OFFLINE=1): a hub model must already be in the
cache when a job loads it. The model-download Job runs ``manage.py fetch_models`` with the
hub reachable and HF_HOME on the model-cache volume that workers mount. The generators load
a hub id with ``from_pretrained(source, revision=revision)`` and no ``cache_dir``, so they
look in the same default cache (``$HF_HOME/hub``) at the same pinned revision that
``snapshot_download`` fills here: a commit is found under ``snapshots/<commit>``, a tag
through ``refs/<tag>``, which the download writes too.

Local-folder models need nothing: they are already files on a volume, pinned by hash.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from huggingface_hub import snapshot_download

from assay.generation.models import ModelSource, RegisteredModel

#: The values huggingface_hub reads as "on" for HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE.
_TRUE = {"1", "ON", "YES", "TRUE"}


@dataclass(frozen=True)
class FetchResult:
    """What happened to one registered model."""

    name: str
    source: str
    revision: str
    status: str  # "fetched", "would fetch", "skipped" or "failed"
    detail: str = ""


def hub_offline() -> bool:
    """True when the environment forbids the hub, read the way huggingface_hub reads it
    (either variable): downloading then cannot work, and saying so beats a retry loop."""
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.strip().upper() in _TRUE


def models_to_consider(names: Iterable[str] = ()) -> list[RegisteredModel]:
    """Every registered model, or only the named ones (unknown names raise KeyError, so a
    typo in the Job's arguments fails the Job instead of fetching nothing)."""
    wanted = sorted(set(names))
    query = RegisteredModel.objects.order_by("name")
    if not wanted:
        return list(query)
    found = list(query.filter(name__in=wanted))
    missing = set(wanted) - {m.name for m in found}
    if missing:
        raise KeyError(", ".join(sorted(missing)))
    return found


def fetch_model(model: RegisteredModel, *, dry_run: bool = False) -> FetchResult:
    """Download exactly the model's pinned revision into the Hugging Face cache.

    A local folder is skipped (it is not downloaded; it is pinned by its content hash).
    Any download error is caught and returned as ``failed`` so one bad model does not hide
    the others.
    """
    base = {"name": model.name, "source": model.source, "revision": model.revision}
    if model.source_kind != ModelSource.HUB:
        return FetchResult(**base, status="skipped", detail="local folder, nothing to fetch")
    if dry_run:
        return FetchResult(**base, status="would fetch")
    try:
        path = snapshot_download(repo_id=model.source, revision=model.revision)
    except Exception as exc:  # noqa: BLE001 - reported per model; the command exits 1
        return FetchResult(**base, status="failed", detail=f"{type(exc).__name__}: {exc}")
    return FetchResult(**base, status="fetched", detail=str(path))


def fetch_models(names: Iterable[str] = (), *, dry_run: bool = False) -> list[FetchResult]:
    """:func:`fetch_model` for every registered model (or the named ones), by name."""
    return [fetch_model(model, dry_run=dry_run) for model in models_to_consider(names)]
