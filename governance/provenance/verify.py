"""Reading any file's Content Credentials and saying what they prove.

Trust comes from the development root (when present) and ASSAY_TRUST_ANCHORS, passed as
c2pa ``user_anchors`` (without anchors every self-made root reads as merely Valid).
Remote manifests and OCSP are never fetched: uploads are untrusted and the server must
not be made to call out.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import c2pa
from django.conf import settings

from governance.provenance import explain, formats, uploads
from governance.provenance.errors import UnreadableFile, UnsupportedFormat
from governance.provenance.summary import present, summarise

log = logging.getLogger(__name__)

STATES = {"Trusted": "trusted", "Valid": "valid", "Invalid": "invalid"}
SUPPORTED = ("PNG, JPEG, WebP, GIF, TIFF, AVIF, SVG, PDF, MP4, M4A, MP3, WAV, FLAC, and "
             "text, Markdown or Ogg audio with its .c2pa sidecar")


@dataclass
class Report:
    """The answer to "what do this file's Content Credentials say?"."""

    state: str  # trusted | valid | invalid | none
    headline: str
    format: str | None
    sha256: str
    size: int
    embedded: bool | None = None
    manifest_label: str | None = None
    failures: list[dict[str, str]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def read_context(anchors: str) -> c2pa.Context:
    """Reader settings: the given trust anchors, no network."""
    config: dict[str, Any] = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
    if anchors:
        config["trust"] = {"user_anchors": anchors}
    return c2pa.Context.from_dict(config)


def _failures(results: dict[str, Any]) -> list[dict[str, str]]:
    items = list((results.get("activeManifest") or {}).get("failure", []))
    for delta in results.get("ingredientDeltas") or []:
        items += (delta.get("validationDeltas") or {}).get("failure", [])
    return [{"code": f.get("code", ""), "meaning": explain.meaning(f.get("code", ""),
                                                                   f.get("explanation", "")),
             "explanation": f.get("explanation", "")} for f in items]


def _read(data: bytes, media_type: str | None, sidecar: bytes | None,
          ctx: c2pa.Context) -> tuple[dict[str, Any] | None, bool | None]:
    """(manifest store, embedded?) or (None, None) without a manifest; never a 500."""
    try:
        reader = c2pa.Reader.try_create(media_type, io.BytesIO(data), sidecar, ctx)
        if reader is None:
            return None, None
        with reader:
            return json.loads(reader.json()), reader.is_embedded()
    except c2pa.C2paError.NotSupported:
        raise UnsupportedFormat(
            f"Content Credentials cannot be read from this kind of file"
            f"{f' ({media_type})' if media_type else ''}. Supported: {SUPPORTED}.") from None
    except c2pa.C2paError as exc:
        if sidecar is not None and isinstance(exc, c2pa.C2paError.Verify | c2pa.C2paError.Decoding):
            raise UnreadableFile(f"The sidecar is not a C2PA manifest store ({exc}).",
                                 errors={"sidecar": ["not a .c2pa manifest store"]}) from None
        detail = str(exc)
    except Exception as exc:  # a damaged file must never become a server error
        log.warning("unexpected error reading a %s upload: %r", media_type, exc)
        detail = type(exc).__name__
    raise UnreadableFile(
        f"The file could not be read as {media_type or 'a known format'}; it may be "
        f"truncated or damaged ({detail}).", errors={"file": ["unreadable"]})


def verify_bytes(data: bytes, *, sidecar: bytes | None = None, filename: str = "",
                 anchors: str = "") -> Report:
    """Validate ``data`` (and its sidecar, for text) against ``anchors``.

    Raises:
        UnsupportedFormat: not a format C2PA reads.
        UnreadableFile: a known format that cannot be parsed (truncated), or a sidecar
            that is not a manifest store.
        TooComplex: more parts (chunks, boxes…) than ASSAY_VERIFY_MAX_PARTS.
    """
    media_type = formats.sniff(data, filename)
    uploads.check_parts(data, media_type, settings.ASSAY_VERIFY_MAX_PARTS)  # before c2pa
    base = Report(state="none", headline=explain.HEADLINES["none"], format=media_type,
                  sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    if media_type in formats.SIDECAR and sidecar is None:
        base.headline = (explain.NO_SIDECAR if media_type.startswith("text/")
                         else explain.NO_SIDECAR_AUDIO)
        return base
    with read_context(anchors) as ctx:
        store, embedded = _read(data, media_type, sidecar, ctx)
    if store is None:
        return base
    state = STATES.get(store.get("validation_state", ""), "invalid")
    summary, lines = present(state, summarise(store))
    return Report(state=state, headline=explain.HEADLINES[state], format=media_type,
                  sha256=base.sha256, size=base.size, embedded=embedded,
                  manifest_label=store.get("active_manifest"),
                  failures=_failures(store.get("validation_results") or {}),
                  summary=summary, lines=lines)
