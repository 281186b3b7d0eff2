"""Signing bytes with c2pa: no database, no storage, so the bench can time it alone.

Thumbnails are off unless ASSAY_PROVENANCE_THUMBNAILS: they dominate signing time and
add up to 1 MB per file (STACK-NOTES).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any

import c2pa

from governance.provenance import formats
from governance.provenance.credentials import Credentials
from governance.provenance.errors import SigningUnavailable
from governance.provenance.labels import PARENT_ID


@dataclass(frozen=True)
class Ingredient:
    """The file a new one was made from (its own manifest, if any, travels along)."""

    data: bytes
    media_type: str
    title: str


@dataclass(frozen=True)
class SignedBytes:
    """What signing produced: the file to hand out and, for text, its sidecar."""

    data: bytes
    sidecar: bytes | None
    sha256: str


def _context(thumbnails: bool) -> c2pa.Context:
    return c2pa.Context.from_dict({
        "builder": {"thumbnail": {"enabled": thumbnails}},
        "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
    })


def sign_bytes(data: bytes, media_type: str, definition: dict[str, Any], creds: Credentials,
               *, ingredient: Ingredient | None = None, thumbnails: bool = False
               ) -> SignedBytes:
    """Sign ``data``: embedded for images, a no-embed sidecar bound to the bytes for text.

    Raises:
        SigningUnavailable: c2pa refused (e.g. an unreachable timestamp authority).
    """
    media_type = formats.base_type(media_type)
    sidecar = formats.is_sidecar(media_type)
    out = io.BytesIO()
    try:
        info = c2pa.C2paSignerInfo(creds.alg, creds.chain_pem, creds.key_pem, creds.tsa_url)
        with _context(thumbnails) as ctx, c2pa.Signer.from_info(info) as signer, \
                c2pa.Builder(definition, context=ctx) as builder:
            if sidecar:
                builder.set_no_embed()
            if ingredient is not None:
                builder.add_ingredient(
                    {"title": ingredient.title, "relationship": "parentOf",
                     "label": PARENT_ID}, formats.base_type(ingredient.media_type),
                    io.BytesIO(ingredient.data))
            manifest = builder.sign(signer, media_type, io.BytesIO(data), out)
    except c2pa.C2paError as exc:
        raise SigningUnavailable(f"C2PA signing failed: {exc}") from exc
    signed = data if sidecar else out.getvalue()
    return SignedBytes(signed, manifest if sidecar else None,
                       hashlib.sha256(signed).hexdigest())
