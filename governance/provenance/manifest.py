"""What a manifest says about an asset: how it was made, checked and approved.

Builds the C2PA manifest definition (a dict c2pa's Builder takes) from the database:

- ``c2pa.actions.v2``: ``c2pa.created`` with digitalSourceType trainedAlgorithmicMedia
  and the generator as softwareAgent (plugin, model id and revision); for an output made
  from a parent asset (image-to-image, a brand style's reference image, the starting
  image of an image-to-video clip, the script asset of a speech) or an edited text,
  ``c2pa.opened`` on the parent ingredient then ``c2pa.edited``, described by what the
  parent was to it (``parent.role``).
- ``org.assay.governance``: the project, the prompt template version (id and SHA-256 of
  its text), the parameters that applied and the seed, the brand style by name
  (``generation.style``, from the job's ``style`` parameter), the SHA-256 of a spoken
  script the generator reported (``generation.script``), the check results for this
  exact version, and each approval decision (stage, role, reviewer identity, time,
  content hash decided on, and the reasons given to approve past a warning).

Audio and video carry the same manifest as images: the format only decides where c2pa
puts it (see ``formats``).

A parent that was never approved (a text edited while in review, an image used as an
init image) is recorded by ``record_definition``: how it was made, and no approvals.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import uuid
from importlib import metadata
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from assay.generation.models import GenerationJob
from assay.plugins.manager import get_plugins
from assay.studio.models import Asset
from governance.provenance import formats
from governance.provenance.labels import ASSERTION, COMPOSITE, PARENT_ID, SCHEMA, TRAINED
from governance.review.models import CheckResult, Review

IDENTITIES = ("pseudonym", "name")


def new_label() -> str:
    """A manifest label chosen before signing, so the row can record it without a read."""
    return f"urn:c2pa:{uuid.uuid4()}"


def _platform() -> dict[str, str]:
    try:
        version = metadata.version("assay")
    except metadata.PackageNotFoundError:
        version = "0"
    return {"name": "Assay", "version": version}


def reviewer_identity(user: Any) -> str:
    """The reviewer as published: a username, or a stable pseudonym (HMAC of the id)."""
    mode = settings.ASSAY_PROVENANCE_REVIEWER_IDENTITY
    if mode not in IDENTITIES:
        raise ImproperlyConfigured(f"ASSAY_PROVENANCE_REVIEWER_IDENTITY={mode!r}; use "
                                   "pseudonym or name.")
    if mode == "name":
        return user.get_username()
    digest = hmac.new(settings.SECRET_KEY.encode(), f"assay-reviewer:{user.pk}".encode(),
                      hashlib.sha256).hexdigest()
    return f"reviewer-{digest[:16]}"


def _originating_job(asset: Asset) -> GenerationJob | None:
    """The job that made this asset, or (for an edited text) its nearest ancestor's."""
    node: Asset | None = asset
    for _ in range(50):
        if node is None or node.job_id is not None:
            break
        node = node.parent
    return node.job if node is not None and node.job_id is not None else None


def model_facts(job: GenerationJob) -> dict[str, Any]:
    """Model id and revision (a local folder is named by its folder, never its path)."""
    ref = job.model_ref or {}
    source = str(ref.get("source") or "")
    local = source.startswith(("/", ".", "~"))
    model_id = ref.get("name") or (os.path.basename(source.rstrip("/")) if local else source)
    facts = {"id": model_id, "revision": ref.get("revision") or ""}
    if source and not local:
        facts["source"] = source
    if ref.get("license"):
        facts["license"] = ref["license"]
    return facts


def software_agent(job: GenerationJob) -> dict[str, Any]:
    """The generator as a C2PA softwareAgent, with its plugin and model."""
    return {"name": job.generator_id, "version": job.generator_version,
            "org.assay.plugin": job.plugin_name or job.generator_id,
            "org.assay.model": model_facts(job)}


def applied_parameters(job: GenerationJob) -> dict[str, Any]:
    """The job's parameters that took effect (no ``strength`` on a text-to-image job).

    Asks the generator's schema; a generator no longer installed keeps them all.
    """
    generator = get_plugins().generator(job.generator_id)
    params = dict(job.parameters or {})
    if generator is None:
        return params
    return generator.applied_parameters(params, with_inputs=job.parent_asset_id is not None)


def style_name(job: GenerationJob | None) -> str | None:
    """The brand style the job was made in (its ``style`` parameter), if any.

    Recorded apart from the parameters, which keep only what the generator's schema
    applied: the style shaped the prompt and the reference image before the generator ran.
    """
    style = (job.parameters or {}).get("style") if job is not None else None
    return style[:200] if isinstance(style, str) and style.strip() else None


def _generation(job: GenerationJob, asset: Asset) -> dict[str, Any]:
    version = job.prompt_version
    data: dict[str, Any] = {
        "job": str(job.pk),
        "generator": job.generator_id, "generator_version": job.generator_version,
        "plugin": job.plugin_name, "model": model_facts(job),
        "prompt": {"template": version.template.slug, "version_id": version.pk,
                   "version": version.number, "text_sha256": version.text_sha256},
        "parameters": applied_parameters(job), "seed": job.seed,
    }
    style = style_name(job)
    if style is not None:
        data["style"] = style
    script = (asset.metadata or {}).get("script")
    if isinstance(script, str) and script:
        data["script"] = {"sha256": hashlib.sha256(script.encode()).hexdigest(),
                          "characters": len(script)}
    return data


def parent_role(asset: Asset, job: GenerationJob | None) -> str:
    """What the parent asset was to this one, in the words the manifest uses."""
    parent = asset.parent
    if asset.job_id is None:
        return "edited"
    if (asset.metadata or {}).get("revision_of"):
        return "previous_version"
    if parent.kind == "text" and asset.kind in ("audio", "video"):
        return "script"
    if parent.kind == "image" and asset.kind == "video":
        return "starting_image"
    if parent.kind == "image" and style_name(job) is not None:
        return "style_reference"
    return "init_image"


_MADE_FROM = {
    "previous_version": "Regenerated by a model as a new version of the parent",
    "script": "Generated by a model from the parent script (text-to-speech)",
    "starting_image": "Generated by a model from the parent starting image (image-to-video)",
    "init_image": "Generated by a model from the parent (image-to-image)",
}


def _checks(asset: Asset) -> list[dict[str, Any]]:
    return [{"check_id": r.check_id, "check_version": r.check_version, "status": r.status,
             "severity": r.severity}
            for r in CheckResult.objects.filter(asset=asset, content_sha256=asset.sha256)
            .order_by("check_id")]


def _approvals(review: Review) -> list[dict[str, Any]]:
    mode = settings.ASSAY_PROVENANCE_REVIEWER_IDENTITY
    return [{"stage": d.stage_name, "stage_index": d.stage_index,
             "reviewer_role": d.reviewer_role, "reviewer": reviewer_identity(d.reviewer),
             "reviewer_identity": mode, "decision": d.decision,
             "decided_at": d.created_at.isoformat(), "content_sha256": d.content_sha256,
             "overrides": [{"check_id": str(o.get("check_id", "")),
                            "reason": str(o.get("reason", ""))} for o in d.overrides or []]}
            for d in review.decisions.select_related("reviewer").order_by("created_at")]


def governance(asset: Asset, review: Review | None, job: GenerationJob | None,
               signed_at: dt.datetime) -> dict[str, Any]:
    """The ``org.assay.governance`` assertion's data.

    Without a review (a parent recorded for its history) it says ``approved: false`` and
    carries no ``approvals`` key, so a summary never reads it as an approval record.
    """
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "asset": {"id": str(asset.pk), "kind": asset.kind, "media_type": asset.media_type,
                  "sha256": asset.sha256},
        "project": {"slug": asset.project.slug, "name": asset.project.name},
        "generation": _generation(job, asset) if job is not None else None,
        "checks": _checks(asset),
        "approved": review is not None,
        "review": None,
        "signed_at": signed_at.isoformat(),
    }
    if review is not None:
        data["review"] = {"id": review.pk, "approved_at": (review.finished_at or signed_at)
                          .isoformat(), "stages": [s["name"] for s in review.stages]}
        data["approvals"] = _approvals(review)
    if asset.parent_id is not None:
        data["parent"] = {"asset": str(asset.parent_id), "sha256": asset.parent.sha256,
                          "kind": asset.parent.kind, "role": parent_role(asset, job),
                          "edited_by_person": asset.job_id is None}
    return data


def actions(asset: Asset, job: GenerationJob | None) -> list[dict[str, Any]]:
    """Created from nothing, or opened from the parent and edited (by a model or a person)."""
    agent = software_agent(job) if job is not None else None
    if asset.parent_id is None:
        created: dict[str, Any] = {"action": "c2pa.created", "digitalSourceType": TRAINED,
                                   "description": "Generated by a model in Assay"}
        if agent:
            created["softwareAgent"] = agent
        return [created]
    edited: dict[str, Any] = {"action": "c2pa.edited"}
    if asset.job_id is not None:
        role = parent_role(asset, job)
        made = (f"Generated by a model from the reference image of the brand style "
                f"'{style_name(job)}' (image-to-image)" if role == "style_reference"
                else _MADE_FROM[role])
        edited.update(digitalSourceType=TRAINED, softwareAgent=agent, description=made)
    else:
        edited.update(digitalSourceType=COMPOSITE,
                      description="A person edited the generated parent in Assay")
    return [{"action": "c2pa.opened", "parameters": {"ingredientIds": [PARENT_ID]}}, edited]


def asset_definition(asset: Asset, review: Review | None, *, label: str,
                     signed_at: dt.datetime) -> dict[str, Any]:
    """The manifest definition for an approved asset version (``review`` its approval).

    With ``review=None`` it records an unapproved parent, so that a child's ingredient
    carries the parent's history and model (see ``record_definition``).
    """
    job = _originating_job(asset)
    return {
        "label": label,
        "title": f"{asset.pk}.{formats.extension(asset.media_type)}",
        "claim_generator_info": [_platform()],
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": actions(asset, job)}},
            {"label": ASSERTION, "data": governance(asset, review, job, signed_at)},
        ],
    }


def record_definition(asset: Asset, *, label: str, signed_at: dt.datetime) -> dict[str, Any]:
    """A manifest for a parent that was never approved: how it was made, no approvals."""
    return asset_definition(asset, None, label=label, signed_at=signed_at)


def derivative_definition(*, asset_id: str, project_slug: str, parent_label: str,
                          parent_sha256: str, transform: dict[str, Any], title: str,
                          label: str, signed_at: dt.datetime) -> dict[str, Any]:
    """A re-signed derivative: opened from the signed parent, then the transform.

    The approvals stay in the parent's manifest, which travels as the ingredient.
    """
    step = {"action": transform.get("action", "c2pa.edited"),
            "softwareAgent": _platform(),
            "parameters": {k: v for k, v in transform.items() if k != "action"}}
    return {
        "label": label, "title": title, "claim_generator_info": [_platform()],
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": [
                {"action": "c2pa.opened", "parameters": {"ingredientIds": [PARENT_ID]}},
                step]}},
            {"label": ASSERTION, "data": {
                "schema": SCHEMA, "asset": {"id": asset_id}, "project": {"slug": project_slug},
                "derived_from": {"manifest": parent_label, "sha256": parent_sha256},
                "transform": transform, "signed_at": signed_at.isoformat()}},
        ],
    }
