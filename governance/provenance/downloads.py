"""Handing out the signed copy of an approved asset instead of the unsigned original."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpResponse
from django.urls import reverse

from governance.provenance.services import signed_version


def signed_response(asset: Any) -> HttpResponse | None:
    """The signed file with its hash and where its credentials are; None until signed."""
    signed = signed_version(asset)
    if signed is None:
        return None
    response = FileResponse(signed.file.open("rb"), content_type=asset.media_type)
    response["Digest"] = f"sha-256={signed.signed_sha256}"
    response["X-Content-SHA256"] = signed.signed_sha256
    response["X-Approved-SHA256"] = asset.sha256
    response["X-Content-Credentials"] = (
        "embedded" if signed.embedded
        else f"sidecar; url={reverse('api:asset-sidecar', args=[asset.pk])}")
    return response


def sidecar_response(asset: Any) -> HttpResponse | None:
    """The text's .c2pa sidecar, bound to its exact bytes; None when it has none."""
    signed = signed_version(asset)
    if signed is None or not signed.sidecar:
        return None
    response = FileResponse(signed.sidecar.open("rb"), content_type="application/c2pa",
                            as_attachment=True, filename=f"{asset.pk}.c2pa")
    response["X-Content-Credentials-For"] = signed.signed_sha256
    return response
