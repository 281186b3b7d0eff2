"""What an asset's Content Credentials say, read back from the signed file, and what a
download hands out (which bytes, their hash and size, under a readable file name).

The panel on the asset page and ``GET /api/v1/assets/<id>/credentials/`` both call
:func:`credentials_for`; both downloads call :func:`attachment`. The facts of a signed
asset come from reading its signed file with the same verifier anyone's upload goes
through (``verify.verify_bytes``), never from the database alone, so what Assay shows is
what the file proves. Who approved is named from the review itself (the manifest may
carry pseudonyms, by ASSAY_PROVENANCE_REVIEWER_IDENTITY).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.text import slugify

from assay.studio.models import Asset
from governance.provenance import formats
from governance.provenance.credentials import trust_anchors_pem
from governance.provenance.downloads import asset_download, sidecar_response
from governance.provenance.models import SignedAsset
from governance.provenance.services import signed_version
from governance.provenance.verify import verify_bytes
from governance.review.choices import DecisionKind
from governance.review.models import Decision

__all__ = ("Approval", "Credentials", "Served", "attachment", "credentials_for",
           "download_name", "served", "sidecar_attachment")

#: Parents walked back to number a version and find its template (as lineage does).
_MAX_STEPS = 200
NOT_SIGNED = ("Not signed yet: Content Credentials are added to the file once this version "
              "is approved.")


@dataclass(frozen=True)
class Served:
    """The bytes a download of this asset hands out now."""

    filename: str
    media_type: str
    sha256: str
    size: int
    signed: bool
    sidecar_name: str | None = None


@dataclass(frozen=True)
class Approval:
    """One approving decision, as the review recorded it."""

    stage: str
    reviewer: str
    role: str
    decided_at: str
    overrides: list[dict[str, str]]


@dataclass
class Credentials:
    """The Content Credentials panel: signed or not, and what the signed file says."""

    signed: bool
    state: str  # trusted | valid | invalid | none (read back), or unsigned
    headline: str
    served: Served
    lines: list[str] = field(default_factory=list)
    signed_at: str | None = None
    signer: str | None = None
    model: dict[str, Any] | None = None
    generator: dict[str, Any] | None = None
    prompt: dict[str, Any] | None = None
    approvals: list[Approval] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    manifest_label: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (the REST ``credentials`` endpoint)."""
        return asdict(self)


def _walk(asset: Asset) -> tuple[int, Any]:
    """(version number, origin job): revisions walked back to the first version."""
    number, node, job = 1, asset, asset.job if asset.job_id else None
    for _ in range(_MAX_STEPS):
        if not node.is_revision or node.parent is None:
            break
        node = node.parent
        number += 1
        if job is None and node.job_id:
            job = node.job
    while job is None and node.parent_id and number < _MAX_STEPS:  # a hand-made chain
        node = node.parent
        job = node.job if node.job_id else None
    return number, job


def download_name(asset: Asset, media_type: str | None = None) -> str:
    """``<project>-<template>-v<version>[-<output>].<ext>``, e.g.
    ``launch-product-intro-v2.txt``: what a person can tell apart in a downloads folder."""
    number, job = _walk(asset)
    template = job.prompt_version.template.slug if job is not None else asset.kind
    stem = slugify(f"{asset.project.slug}-{template}") or "asset"
    if asset.index:
        stem += f"-v{number}-{asset.index + 1}"
    else:
        stem += f"-v{number}"
    return f"{stem}.{formats.extension(media_type or asset.media_type)}"


def served(asset: Asset, signed: SignedAsset | None = None, *,
           lookup: bool = True) -> Served:
    """Which bytes a download gives now: the signed copy once approved, else the stored
    ones (pass ``signed`` when already fetched; ``lookup=False``: known unsigned)."""
    row = signed if signed is not None or not lookup else signed_version(asset)
    name = download_name(asset)
    if row is None:
        return Served(filename=name, media_type=asset.media_type, sha256=asset.sha256,
                      size=asset.byte_size, signed=False)
    return Served(filename=name, media_type=asset.media_type, sha256=row.signed_sha256,
                  size=row.byte_size, signed=True,
                  sidecar_name=f"{name}.c2pa" if row.sidecar else None)


def attachment(asset: Asset) -> HttpResponse:
    """The download as a file to save, under its readable name (both faces call this)."""
    response = asset_download(asset)
    response["Content-Disposition"] = content_disposition_header(True, download_name(asset))
    return response


def sidecar_attachment(asset: Asset) -> HttpResponse | None:
    """A signed text's .c2pa sidecar under the text's name plus ``.c2pa``; None if none."""
    response = sidecar_response(asset)
    if response is not None:
        response["Content-Disposition"] = content_disposition_header(
            True, f"{download_name(asset)}.c2pa")
    return response


def _read(field_file: Any) -> bytes:
    with field_file.open("rb") as handle:
        return handle.read()


def _approvals(row: SignedAsset) -> list[Approval]:
    if row.review_id is None:
        return []
    decisions = (Decision.objects.filter(review_id=row.review_id,
                                         decision=DecisionKind.APPROVE)
                 .select_related("reviewer").order_by("created_at"))
    return [Approval(stage=d.stage_name, reviewer=d.reviewer.get_username(),
                     role=d.reviewer_role, decided_at=d.created_at.isoformat(),
                     overrides=[{"check_id": str(o.get("check_id", "")),
                                 "reason": str(o.get("reason", ""))}
                                for o in d.overrides or []])
            for d in decisions]


def credentials_for(asset: Asset) -> Credentials:
    """The panel's facts: read back from the signed file, or "not signed yet"."""
    row = signed_version(asset)
    file = served(asset, row, lookup=False)
    if row is None:
        return Credentials(signed=False, state="unsigned", headline=NOT_SIGNED, served=file)
    sidecar = _read(row.sidecar) if row.sidecar else None
    report = verify_bytes(_read(row.file), sidecar=sidecar, filename=file.filename,
                          anchors=trust_anchors_pem())
    summary = report.summary
    facts = summary if summary.get("trusted") else next(
        (v for k, v in summary.items() if k.startswith("claimed_by")), {})
    who = facts.get("signed_by") or {}
    return Credentials(
        signed=True, state=report.state, headline=report.headline, served=file,
        lines=report.lines, signed_at=facts.get("signed_at") or row.signed_at.isoformat(),
        signer=who.get("common_name") or row.certificate_subject or None,
        model=facts.get("model"), generator=facts.get("generator"),
        prompt=facts.get("prompt"), approvals=_approvals(row),
        history=facts.get("history") or [], manifest_label=report.manifest_label)
