"""Signing bytes with c2pa: no database, no storage, so the bench can time it alone.

Thumbnails are off unless ASSAY_PROVENANCE_THUMBNAILS: they dominate signing time and
add up to 1 MB per file (STACK-NOTES).

An ingredient's validation is signed into the new manifest, so signing validates it with
the same trust anchors that verification uses: otherwise every Assay-signed parent would
be recorded, for good, as ``signingCredential.untrusted`` inside a Trusted child.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any

import c2pa

from governance.provenance import formats
from governance.provenance.credentials import Credentials
from governance.provenance.errors import SigningUnavailable
from governance.provenance.labels import PARENT_ID


@dataclass(frozen=True)
class Ingredient:
    """The file a new one was made from (its own manifest, if any, travels along).

    ``manifest_store`` is the ``.c2pa`` sidecar of a text ingredient, whose manifest is
    not inside its bytes.
    """

    data: bytes
    media_type: str
    title: str
    manifest_store: bytes | None = None


@dataclass(frozen=True)
class SignedBytes:
    """What signing produced: the file to hand out and, for text, its sidecar."""

    data: bytes
    sidecar: bytes | None
    sha256: str


#: The resource name a text ingredient's manifest store is added under.
_STORE_RESOURCE = "parent.c2pa"


def _context(thumbnails: bool, anchors: str) -> c2pa.Context:
    config: dict[str, Any] = {
        "builder": {"thumbnail": {"enabled": thumbnails}},
        "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
    }
    if anchors:
        config["trust"] = {"user_anchors": anchors}
    return c2pa.Context.from_dict(config)


def _add_ingredient(builder: c2pa.Builder, ingredient: Ingredient, ctx: c2pa.Context) -> None:
    """Add the parentOf ingredient; a text's sidecar store travels as its manifest.

    c2pa validates an embedded manifest itself (with ``ctx``'s anchors). A sidecar store
    cannot be passed as the ingredient's stream, so it is read here with the same context
    and added as the ingredient's ``manifest_data`` with those validation results.
    """
    media_type = formats.base_type(ingredient.media_type)
    spec: dict[str, Any] = {"title": ingredient.title, "relationship": "parentOf",
                            "label": PARENT_ID}
    if ingredient.manifest_store is not None:
        with c2pa.Reader(media_type, io.BytesIO(ingredient.data), ingredient.manifest_store,
                         ctx) as reader:
            store = json.loads(reader.json())
        builder.add_resource(_STORE_RESOURCE, io.BytesIO(ingredient.manifest_store))
        spec.update(active_manifest=store.get("active_manifest"),
                    validation_results=store.get("validation_results") or {},
                    manifest_data={"format": formats.SIDECAR_TYPE,
                                   "identifier": _STORE_RESOURCE})
    builder.add_ingredient(spec, media_type, io.BytesIO(ingredient.data))


def sign_bytes(data: bytes, media_type: str, definition: dict[str, Any], creds: Credentials,
               *, ingredient: Ingredient | None = None, thumbnails: bool = False,
               anchors: str = "") -> SignedBytes:
    """Sign ``data``: embedded where c2pa can (images, audio, video), else a no-embed
    sidecar bound to the bytes (text, Ogg).

    ``anchors`` (PEM roots) are the ones verification trusts: the ingredient's validation,
    signed into the manifest, is made with them.

    Raises:
        SigningUnavailable: c2pa refused (e.g. an unreachable timestamp authority).
    """
    media_type = formats.base_type(media_type)
    sidecar = formats.is_sidecar(media_type)
    out = io.BytesIO()
    try:
        info = c2pa.C2paSignerInfo(creds.alg, creds.chain_pem, creds.key_pem, creds.tsa_url)
        with _context(thumbnails, anchors) as ctx, c2pa.Signer.from_info(info) as signer, \
                c2pa.Builder(definition, context=ctx) as builder:
            if sidecar:
                builder.set_no_embed()
            if ingredient is not None:
                _add_ingredient(builder, ingredient, ctx)
            manifest = builder.sign(signer, media_type, io.BytesIO(data), out)
    except c2pa.C2paError as exc:
        raise SigningUnavailable(f"C2PA signing failed: {exc}") from exc
    signed = data if sidecar else out.getvalue()
    return SignedBytes(signed, manifest if sidecar else None,
                       hashlib.sha256(signed).hexdigest())
