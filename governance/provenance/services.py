"""Signing approved assets, re-signing derivatives, verifying uploaded files.

Every entry point (the Celery task, the sweeper, REST, management commands) calls these.
Credentials are checked before anything is written; the signed file is stored beside the
original (never over it); each signing and each verification is an audit event.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from assay.audit.context import Actor, audit_context, current
from assay.audit.models import AuditEvent
from assay.audit.services import record
from assay.core.exceptions import AssayError, Conflict, InvalidInput
from assay.studio.models import Asset
from governance.provenance import formats, manifest
from governance.provenance.credentials import (
    Credentials,
    init_dev_credentials,
    load_credentials,
    trust_anchors_pem,
    usable_credentials,
)
from governance.provenance.errors import FileTooLarge, SigningUnavailable, UnsupportedFormat
from governance.provenance.metrics import observe_signing_failure
from governance.provenance.models import SignedAsset, signed_folder
from governance.provenance.signing import Ingredient, SignedBytes, sign_bytes
from governance.provenance.verify import Report, verify_bytes
from governance.publishing.dispatch import queue_publications
from governance.review.choices import ReviewStatus
from governance.review.models import Review

log = logging.getLogger(__name__)
SIGNER = Actor.system("provenance")


@dataclass(frozen=True)
class Derived:
    """A transform's output: new bytes, their media type, and what was done (for the
    manifest's action, e.g. ``{"action": "c2pa.resized", "width": 512, "height": 512}``)."""

    data: bytes
    media_type: str
    description: dict[str, Any]


Transform = Callable[[bytes, str], Derived]


def init_signing(*, force: bool = False) -> list[str]:
    """Make or reuse the development CA and signing certificate; audited when it changes.

    Production sets ASSAY_SIGNING_CERT/KEY instead, and nothing is made.
    """
    if settings.ASSAY_SIGNING_CERT or settings.ASSAY_SIGNING_KEY:
        load_credentials()  # fails loudly when the configured files are unusable
        return []
    folder = Path(settings.ASSAY_SIGNING_DIR)
    changed = init_dev_credentials(folder, force=force)
    if changed:
        creds = load_credentials()
        record("provenance.credentials.created", data={
            "made": changed, "folder": str(folder), "certificate": creds.fingerprint,
            "not_after": creds.not_after.isoformat()})
    return changed


def signed_version(asset: Any) -> SignedAsset | None:
    """The signed copy of the asset's approved content, once it exists."""
    return SignedAsset.objects.filter(asset=asset, source_sha256=asset.sha256).first()


def _read(field: Any) -> bytes:
    with field.open("rb") as handle:
        return handle.read()


#: How many unapproved ancestors are recorded inside a child's ingredient, at most.
MAX_RECORDED_ANCESTORS = 50


def _parent_ingredient(parent: Any, creds: Credentials, anchors: str,
                       depth: int = 0) -> Ingredient:
    """The parent with its manifest, so its history and model travel with the child.

    An approved parent gives its signed file (a text, its sidecar store too). A parent
    never approved (a text edited while in review, an init image) is recorded now, with
    its own parent, in a manifest that says it was not approved; that manifest is not
    stored and lives on only inside the child. Bytes that no longer match the parent's
    hash go in bare: Assay never vouches for content it did not make.
    """
    signed = signed_version(parent)
    if signed is not None:
        return Ingredient(_read(signed.file), signed.format,
                          f"{parent.pk}.{formats.extension(signed.format)}",
                          _read(signed.sidecar) if signed.sidecar else None)
    data = parent.read_bytes()
    title = f"{parent.pk}.{formats.extension(parent.media_type)}"
    if not formats.can_sign(parent.media_type) or (
            hashlib.sha256(data).hexdigest() != parent.sha256):
        log.warning("parent %s goes into its child without a manifest", parent.pk)
        return Ingredient(data, parent.media_type, title)
    grandparent = (_parent_ingredient(parent.parent, creds, anchors, depth + 1)
                   if parent.parent_id and depth < MAX_RECORDED_ANCESTORS else None)
    definition = manifest.record_definition(parent, label=manifest.new_label(),
                                            signed_at=timezone.now())
    recorded = sign_bytes(data, parent.media_type, definition, creds, ingredient=grandparent,
                          thumbnails=settings.ASSAY_PROVENANCE_THUMBNAILS, anchors=anchors)
    return Ingredient(recorded.data, parent.media_type, title, recorded.sidecar)


def _lock_content(project_id: int, source_sha256: str) -> None:
    """Serialise every signing of one content in one project, until the transaction ends.

    All assets with these bytes share a folder (``signed_folder``), so their rows are
    locked together, in key order. Under the lock no other signer is writing there, which
    is what makes sweeping the folder's strays safe.
    """
    list(Asset.objects.select_for_update().filter(project_id=project_id, sha256=source_sha256)
         .order_by("pk").values_list("pk", flat=True))


def _sweep_strays(project_id: int, source_sha256: str) -> int:
    """Delete files in the content's folder that no signed row names: left by a signer
    killed after writing its files and before committing its row. Call under the lock."""
    storage = SignedAsset._meta.get_field("file").storage
    folder = signed_folder(project_id, source_sha256)
    try:
        _, names = storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError):
        return 0
    kept = {name for pair in SignedAsset.objects.filter(
        project_id=project_id, source_sha256=source_sha256).values_list("file", "sidecar")
        for name in pair if name}
    strays = [f"{folder}/{name}" for name in names if f"{folder}/{name}" not in kept]
    for path in strays:
        storage.delete(path)
    if strays:
        log.warning("removed %d signed file(s) a stopped signer left in %s", len(strays), folder)
    return len(strays)


def _store(row: SignedAsset, signed: SignedBytes, audit: tuple[str, dict[str, Any]]
           ) -> SignedAsset:
    """Write the files, then the row and its audit event, under the content's lock.

    A twin that got there first wins (its row is returned, these files are not written);
    a killed signer's leftovers are swept before writing. Should the row still be refused,
    only this signing's own files (unique names) are removed.
    """
    with transaction.atomic():
        _lock_content(row.project_id, row.source_sha256)
        existing = SignedAsset.objects.filter(asset=row.asset,
                                              source_sha256=row.source_sha256).first()
        if existing is not None:
            return existing
        _sweep_strays(row.project_id, row.source_sha256)
        ext = formats.extension(row.format)
        row.file.save(f"signed.{ext}", ContentFile(signed.data), save=False)
        if signed.sidecar is not None:
            row.sidecar.save(f"signed.{ext}.c2pa", ContentFile(signed.sidecar), save=False)
        try:
            with transaction.atomic():
                row.save(force_insert=True)
                with audit_context(actor=SIGNER):
                    record(audit[0], target=row.asset, project_id=row.project_id,
                           data={**audit[1], "signed": str(row.pk),
                                 "signed_sha256": row.signed_sha256,
                                 "manifest": row.manifest_label, "format": row.format,
                                 "embedded": row.embedded,
                                 "certificate": row.certificate_fingerprint})
                if audit[0] == "provenance.asset.signed":  # publishers, once it commits
                    transaction.on_commit(partial(queue_publications, str(row.pk),
                                                  current().correlation_id))
        except IntegrityError:
            for field in (row.file, row.sidecar):
                if field:
                    field.storage.delete(field.name)
            return SignedAsset.objects.get(asset=row.asset, source_sha256=row.source_sha256)
    return row


def sign_asset(asset: Any, review: Review) -> SignedAsset:
    """Sign the approved version of ``asset`` with a manifest of its approval record.

    Idempotent per (asset, content hash): a second call returns the first signature.

    Raises:
        Conflict: the review is not this version's final approval, or the stored bytes no
            longer match the approved hash.
        UnsupportedFormat: a media type Assay does not sign.
        SigningUnavailable: no valid signing certificate (nothing is written then).
    """
    if (review.asset_id != asset.pk or review.status != ReviewStatus.APPROVED
            or review.content_sha256 != asset.sha256):
        raise Conflict("Only an approved asset version is signed, with its own approval.")
    existing = signed_version(asset)
    if existing is not None:
        return existing
    if not formats.can_sign(asset.media_type):
        raise UnsupportedFormat(f"Assay does not sign {asset.media_type} files yet.")
    creds = usable_credentials()
    data = asset.read_bytes()
    if hashlib.sha256(data).hexdigest() != asset.sha256:
        raise Conflict("The stored file no longer matches the approved SHA-256; not signed.")
    anchors = trust_anchors_pem()
    ingredient = _parent_ingredient(asset.parent, creds, anchors) if asset.parent_id else None
    label, now = manifest.new_label(), timezone.now()
    definition = manifest.asset_definition(asset, review, label=label, signed_at=now)
    signed = sign_bytes(data, asset.media_type, definition, creds, ingredient=ingredient,
                        thumbnails=settings.ASSAY_PROVENANCE_THUMBNAILS, anchors=anchors)
    row = SignedAsset(
        asset=asset, project_id=asset.project_id, review=review,
        format=formats.base_type(asset.media_type), embedded=signed.sidecar is None,
        source_sha256=asset.sha256, signed_sha256=signed.sha256, byte_size=len(signed.data),
        manifest_label=label, certificate_fingerprint=creds.fingerprint,
        certificate_subject=creds.subject[:300], signed_at=now)
    return _store(row, signed, ("provenance.asset.signed", {
        "review": review.pk, "source_sha256": asset.sha256,
        "parent": str(asset.parent_id) if asset.parent_id else None}))


def sign_approved(asset_id: str, review_id: int) -> SignedAsset | None:
    """The task's entry: sign if the review is still this asset's approval; None if not.

    Refusals are logged, not raised: the sweeper tries again once they are fixed.
    """
    review = Review.objects.select_related("asset__project", "asset__parent").filter(
        pk=review_id, asset_id=asset_id).first()
    if review is None or review.status != ReviewStatus.APPROVED:
        log.info("not signing asset %s: review %s is not an approval", asset_id, review_id)
        return None
    try:
        return sign_asset(review.asset, review)
    except (SigningUnavailable, UnsupportedFormat, Conflict) as exc:
        log.error("asset %s was not signed: %s", asset_id, exc)
        observe_signing_failure(exc)
        return None


def approval_correlation_id(review: Review) -> str | None:
    """The correlation id of the approval (its audit event), so a late signing joins it."""
    return (AuditEvent.objects.filter(action="review.asset.approved",
                                      target_type=review.asset._meta.label_lower,
                                      target_id=str(review.asset_id))
            .order_by("-id").values_list("correlation_id", flat=True).first())


def sweep_unsigned(limit: int = 100) -> int:
    """Sign approvals whose signing task was lost (broker down); returns how many."""
    stale = timezone.now() - timedelta(seconds=settings.ASSAY_SWEEP_STALE_SECONDS)
    signed = SignedAsset.objects.filter(asset=OuterRef("asset"),
                                        source_sha256=OuterRef("content_sha256"))
    pending = (Review.objects.filter(status=ReviewStatus.APPROVED, finished_at__lt=stale)
               .exclude(Exists(signed)).select_related("asset__project", "asset__parent")
               .order_by("finished_at")[:limit])
    done = 0
    for review in pending:
        if not formats.can_sign(review.asset.media_type):
            continue
        try:
            with audit_context(correlation_id=approval_correlation_id(review)):
                sign_asset(review.asset, review)
            done += 1
        except SigningUnavailable as exc:
            log.error("signing sweep stopped: %s", exc)
            observe_signing_failure(exc)
            break
        except Conflict as exc:
            log.error("asset %s was not signed: %s", review.asset_id, exc)
            observe_signing_failure(exc)
    return done


def derive_signed(source: SignedAsset, transform: Transform) -> SignedAsset:
    """Transform a signed file and sign the result with the source as its parentOf
    ingredient, so the approval history survives the edit.

    Idempotent: the same transform of the same source returns the same row.
    """
    if not source.embedded:
        raise InvalidInput("Text carries its credentials in a sidecar; edit it as a new "
                           "version and have that approved instead.")
    parent_bytes = _read(source.file)
    derived = transform(parent_bytes, source.format)
    if not formats.can_sign(derived.media_type) or formats.is_sidecar(derived.media_type):
        raise UnsupportedFormat(f"Assay does not sign derived {derived.media_type} files.")
    source_sha = hashlib.sha256(derived.data).hexdigest()
    if source_sha == source.asset.sha256:
        raise InvalidInput("The transform returned the approved bytes unchanged.")
    existing = SignedAsset.objects.filter(asset_id=source.asset_id,
                                          source_sha256=source_sha).first()
    if existing is not None:
        return existing
    creds = usable_credentials()
    label, now = manifest.new_label(), timezone.now()
    asset = source.asset
    definition = manifest.derivative_definition(
        asset_id=str(asset.pk), project_slug=asset.project.slug,
        parent_label=source.manifest_label, parent_sha256=source.signed_sha256,
        transform=derived.description, label=label, signed_at=now,
        title=f"{asset.pk}-{source_sha[:8]}.{formats.extension(derived.media_type)}")
    signed = sign_bytes(derived.data, derived.media_type, definition, creds,
                        ingredient=Ingredient(parent_bytes, source.format,
                                              f"{asset.pk}.{formats.extension(source.format)}"),
                        thumbnails=settings.ASSAY_PROVENANCE_THUMBNAILS,
                        anchors=trust_anchors_pem())
    row = SignedAsset(
        asset=asset, project_id=source.project_id, review=source.review, parent=source,
        transform=derived.description, format=formats.base_type(derived.media_type),
        embedded=True, source_sha256=source_sha, signed_sha256=signed.sha256,
        byte_size=len(signed.data), manifest_label=label,
        certificate_fingerprint=creds.fingerprint, certificate_subject=creds.subject[:300],
        signed_at=now)
    return _store(row, signed, ("provenance.asset.derived", {
        "from": str(source.pk), "transform": derived.description,
        "source_sha256": source_sha}))


#: Still images a signed copy can be resized from (their Pillow format names).
RESIZABLE = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}


def resizer(width: int, height: int) -> Transform:
    """A transform that resizes an image to width × height in its own format."""
    def _resize(data: bytes, media_type: str) -> Derived:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            resized = image.resize((width, height), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            resized.save(out, RESIZABLE[media_type], **({"quality": 92}
                                                           if media_type != "image/png" else {}))
        return Derived(out.getvalue(), media_type,
                       {"action": "c2pa.resized", "width": width, "height": height})
    return _resize


def resize_signed(asset: Any, width: int, height: int) -> SignedAsset:
    """A signed, resized copy of a signed image (e.g. a web rendition)."""
    if not all(isinstance(v, int) and 1 <= v <= 8192 for v in (width, height)):
        raise InvalidInput("width and height must be whole numbers from 1 to 8192.")
    source = signed_version(asset)
    if source is None:
        raise Conflict("This asset has no signed version yet (it is signed once approved).")
    if source.format not in RESIZABLE or asset.kind != "image":
        raise UnsupportedFormat(f"Only still PNG, JPEG and WebP images are resized; this "
                                f"asset is {asset.kind} ({source.format}).")
    return derive_signed(source, resizer(width, height))


def verify_file(data: bytes, *, sidecar: bytes | None = None, filename: str = "",
                actor: Actor | None = None) -> Report:
    """Verify any file's Content Credentials; the request and its outcome are audited.

    Raises:
        FileTooLarge: over ASSAY_VERIFY_MAX_BYTES.
        UnsupportedFormat, UnreadableFile: see ``verify.verify_bytes``.
    """
    limit = settings.ASSAY_VERIFY_MAX_BYTES
    digest = hashlib.sha256(data).hexdigest()
    try:
        if len(data) > limit or (sidecar is not None and len(sidecar) > limit):
            raise FileTooLarge(f"The file is larger than the {limit:,} bytes this server "
                               "verifies (ASSAY_VERIFY_MAX_BYTES).")
        report = verify_bytes(data, sidecar=sidecar, filename=filename,
                              anchors=trust_anchors_pem())
    except (FileTooLarge, UnsupportedFormat, InvalidInput) as exc:
        record_refused_verification(exc, actor=actor, size=len(data), sha256=digest,
                                    filename=filename, sidecar=sidecar is not None)
        raise
    record("provenance.file.verified", actor=actor, data={
        "outcome": report.state, "sha256": report.sha256, "size": report.size,
        "format": report.format, "manifest": report.manifest_label,
        "failures": [f["code"] for f in report.failures], "sidecar": sidecar is not None,
        "filename": filename[:200]})
    return report


def record_refused_verification(exc: AssayError, *, actor: Actor | None, size: int | None,
                                filename: str = "", sha256: str = "",
                                sidecar: bool = False) -> None:
    """A verification request that was refused (too large, unreadable…) is audited too."""
    record("provenance.file.verified", actor=actor, reason=exc.message, data={
        "outcome": exc.code, "sha256": sha256, "size": size, "sidecar": sidecar,
        "filename": filename[:200]})
