"""Turning generator outputs into Asset rows (and files) with their content hashes."""

from __future__ import annotations

import hashlib
import mimetypes

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from assay.audit.services import record
from assay.generation.models import GenerationJob
from assay.plugins.contracts import GeneratedOutput
from assay.studio.models import Asset
from assay.studio.models.assets import asset_upload_to


class StorageFailed(Exception):
    """The media storage refused an output (read-only, full, unreachable, denied).

    Raised instead of the storage's own error so the runtime can tell "the job's output
    could not be kept" (fail the job, in words) from "the worker died" (retry it).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def describe_error(exc: BaseException) -> str:
    """An error in words for a job's ``error``: no traceback and no server path.

    OS errors give their plain reason ("Read-only file system"), not the file name,
    because the job's JSON is shown to its creator.
    """
    if isinstance(exc, (ClientError, BotoCoreError)):  # some are OSErrors too
        return _describe_s3_error(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _describe_s3_error(exc: ClientError | BotoCoreError) -> str:
    """S3 errors without the endpoint, bucket or key that botocore puts in its messages
    (the operator finds those in the worker's log)."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"the media storage refused it ({error.get('Message') or error.get('Code')})"
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return "the media storage has no credentials to use"
    if isinstance(exc, BotoConnectionError | ReadTimeoutError):
        return "the media storage could not be reached"
    return f"the media storage failed ({type(exc).__name__})"


#: Extensions mimetypes gets wrong or not at all, depending on the machine's mime.types
#: (Python 3.11 knows only audio/x-wav, and names Ogg audio ".oga").
_EXTENSIONS = {"audio/wav": ".wav", "audio/ogg": ".ogg", "audio/mpeg": ".mp3"}


def _extension(media_type: str) -> str:
    bare = media_type.split(";")[0].strip().lower()
    return _EXTENSIONS.get(bare) or mimetypes.guess_extension(bare) or ".bin"


def store_outputs(job: GenerationJob, outputs: list[GeneratedOutput]) -> list[Asset]:
    """Store each output as an Asset of ``job`` (call inside the finishing transaction).

    Binary files are content-addressed: the same bytes land at the same path, so a
    retried finish that rolled back leaves no second copy behind.

    Raises:
        StorageFailed: the storage could not check or write a file, or a text is longer
            than ``ASSAY_MAX_TEXT_CHARS`` (the limit a hand-made revision has too).
    """
    assets: list[Asset] = []
    limit = settings.ASSAY_MAX_TEXT_CHARS
    for output in outputs:
        if output.data is None and len(output.text or "") > limit:
            # The creator reads this; the operator finds the limit in ASSAY_MAX_TEXT_CHARS.
            raise StorageFailed(f"the text is {len(output.text or ''):,} characters long, "
                                f"and at most {limit:,} can be kept")
    for index, output in enumerate(outputs):
        content = output.content_bytes()
        digest = hashlib.sha256(content).hexdigest()
        asset = Asset(
            project_id=job.project_id, job=job, index=index, kind=output.kind,
            media_type=output.media_type, byte_size=len(content), sha256=digest,
            width=output.width, height=output.height, metadata=_metadata(job, output),
            created_by_id=job.requested_by_id,
            # A regenerated revision is a new version of the asset it revises (the init
            # image of an image-to-image revision stays on the job); otherwise the output
            # derives from its init image, if any.
            parent_id=job.revision_of_id or job.parent_asset_id,
        )
        if output.data is None:
            asset.text = output.text or ""
        else:
            asset.file.name = _save_file(
                asset_upload_to(asset, f"output{_extension(output.media_type)}"), content)
            if output.poster:
                asset.metadata["poster"] = _save_file(
                    asset_upload_to(asset, "poster.png"), output.poster)
        asset.save()
        record("studio.asset.created", target=asset,
               data={"job": str(job.pk), "sha256": digest, "bytes": len(content)})
        assets.append(asset)
    return assets


def _metadata(job: GenerationJob, output: GeneratedOutput) -> dict:
    """The generator's metadata, plus ``revision_of`` when the job regenerates a version
    (what makes the output a *version* of its parent: ``Asset.is_revision``)."""
    metadata = dict(output.metadata or {})
    if job.revision_of_id:
        metadata["revision_of"] = str(job.revision_of_id)
    return metadata


def _save_file(name: str, content: bytes) -> str:
    """Write ``content`` under ``name`` unless those bytes are there already."""
    try:
        if not default_storage.exists(name):
            name = default_storage.save(name, ContentFile(content))
    except Exception as exc:  # noqa: BLE001 - every backend raises its own kinds
        raise StorageFailed(describe_error(exc)) from exc
    return name
