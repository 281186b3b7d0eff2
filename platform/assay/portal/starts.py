"""Where a new generation starts from: the links other pages make to the generation form.

* ``?from_job=<job>`` ("generate again"): that job's prompt version, generator, variables,
  settings, seed and starting image; ``&edit=1`` ("duplicate and edit") the same without
  the seed, so the result differs;
* ``&revise=<asset>`` (alone, or with ``from_job``): the job makes a new version of that
  asset, which goes to review (``revision_of`` of the submission service);
* ``?parent_asset=<asset>`` ("use as starting image"): an image version whose generator
  takes a starting image (the one that made the image, with its variables, if it can),
  and the image itself; a text asset starts a speech prompt that reads it aloud (the
  text is the script, and the audio's parent);
* ``?prompt_version=`` / ``?generator=`` always win: they are what the person chose last
  (the form writes them into the address, so Back and reload come back to them).

Everything is looked up through ``visible_to`` and within the project, so a link to
something the user cannot see starts a blank form (with a notice), never a leak.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from assay.generation.models import GenerationJob
from assay.portal.forms import VAR_PREFIX, first_version_of
from assay.studio.models import Asset, Project, PromptTemplate

__all__ = ("Start", "start_from", "visible_asset")


@dataclass
class Start:
    """What the form shows first (values the user typed later override all of it)."""

    version: Any = None
    generator: str | None = None
    carried: dict[str, str] = field(default_factory=dict)
    #: An earlier job's settings, applied only while its own generator is chosen.
    parameters: dict[str, Any] | None = None
    parameters_for: str | None = None
    parent: Asset | None = None
    revision: Asset | None = None
    notices: list[str] = field(default_factory=list)


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def visible_asset(user: Any, project: Project, ref: Any, *, kind: str | None = None
                  ) -> Asset | None:
    """An asset of ``project`` the user may see (of ``kind``, if given), or None."""
    key = _uuid(ref)
    if key is None:
        return None
    assets = Asset.objects.visible_to(user).filter(project=project, pk=key)
    if kind:
        assets = assets.filter(kind=kind)
    return assets.select_related("job__prompt_version__template").first()


def _visible_job(user: Any, project: Project, ref: Any) -> GenerationJob | None:
    key = _uuid(ref)
    if key is None:
        return None
    return (GenerationJob.objects.visible_to(user).filter(project=project, pk=key)
            .select_related("parent_asset").first())


def start_from(user: Any, project: Project, templates: list[PromptTemplate],
               query: Mapping[str, str]) -> Start:
    """Read the link's parameters into a :class:`Start` (see the module docstring)."""
    start = Start()
    revision = visible_asset(user, project, query.get("revise"))
    if query.get("revise") and revision is None:
        start.notices.append("The asset to revise was not found, so this makes a new asset.")
    start.revision = revision
    job = _visible_job(user, project, query.get("from_job"))
    if query.get("from_job") and job is None:
        start.notices.append("The earlier generation in the link was not found, so the form "
                             "starts from the prompt's own settings.")
    if job is None and revision is not None and revision.job_id:
        job = revision.job
    if job is not None:
        start.version, start.generator = job.prompt_version_id, job.generator_id
        start.carried = {VAR_PREFIX + k: str(v) for k, v in (job.variables or {}).items()}
        if query.get("edit") != "1":
            start.carried["seed"] = str(job.seed)
        start.parameters, start.parameters_for = dict(job.parameters or {}), job.generator_id
        if job.parent_asset_id and job.parent_asset is not None:
            start.parent = job.parent_asset
    if query.get("parent_asset"):
        parent = visible_asset(user, project, query["parent_asset"])
        if parent is None or parent.kind not in ("image", "text"):
            start.notices.append("The starting image was not found (or is not an image), so "
                                 "this starts from nothing.")
        elif parent.kind == "text":
            start.parent = parent
            if job is None:
                spoken = first_version_of(templates, "audio")
                start.version = spoken.pk if spoken is not None else None
        else:
            start.parent = parent
            if job is None:
                made_with = parent.job.prompt_version if parent.job_id else None
                if made_with is None or made_with.modality != "image":
                    made_with = first_version_of(templates, "image")
                elif parent.job.variables:  # same prompt: start from what it was about
                    start.carried = {VAR_PREFIX + k: str(v)
                                     for k, v in parent.job.variables.items()}
                start.version = made_with.pk if made_with is not None else None
    if query.get("prompt_version") or query.get("version"):
        start.version = query.get("prompt_version") or query.get("version")
    if query.get("generator"):
        start.generator = query["generator"]
    return start
