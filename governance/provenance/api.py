"""REST for provenance: verify any file, fetch a text asset's sidecar."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assay.audit.context import actor_for
from assay.core.exceptions import AssayError, InvalidInput, NotFound
from assay.studio.models import Asset
from governance.provenance.downloads import sidecar_response
from governance.provenance.errors import FileTooLarge
from governance.provenance.services import record_refused_verification, verify_file

#: Multipart framing on top of the file and sidecar themselves.
_ENVELOPE_BYTES = 64 * 1024


def _upload(request: Request, name: str, limit: int) -> bytes | None:
    upload = request.FILES.get(name)
    if upload is None:
        return None
    if upload.size > limit:
        raise FileTooLarge(f"The {name} is {upload.size:,} bytes; this server verifies up to "
                           f"{limit:,} (ASSAY_VERIFY_MAX_BYTES).")
    return upload.read()


class VerifyView(APIView):
    """``POST`` a file (and, for text, its ``sidecar``) as multipart; get a report."""

    parser_classes = (MultiPartParser,)

    def post(self, request: Request) -> Response:
        """200 with state trusted | valid | invalid | none, failures and a summary."""
        actor = actor_for(request.user)
        try:
            data, sidecar, name = self._uploads(request)
        except AssayError as exc:
            record_refused_verification(exc, actor=actor,
                                        size=int(request.META.get("CONTENT_LENGTH") or 0))
            raise
        return Response(verify_file(data, sidecar=sidecar, filename=name,
                                    actor=actor).as_dict())

    def _uploads(self, request: Request) -> tuple[bytes, bytes | None, str]:
        limit = settings.ASSAY_VERIFY_MAX_BYTES
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > 2 * limit + _ENVELOPE_BYTES:  # refuse before parsing the body
            raise FileTooLarge(f"The upload is {declared:,} bytes; this server verifies files "
                               f"up to {limit:,} (ASSAY_VERIFY_MAX_BYTES).")
        data = _upload(request, "file", limit)
        if data is None:
            raise InvalidInput("Upload the file to verify as multipart field `file` (and a "
                               "text's .c2pa sidecar as `sidecar`).",
                               errors={"file": ["this field is required"]})
        return data, _upload(request, "sidecar", limit), request.FILES["file"].name or ""


class AssetSidecarView(APIView):
    """The C2PA sidecar of a signed text asset."""

    def get(self, request: Request, asset_id: str) -> HttpResponse:
        """The .c2pa manifest store; 404 when the asset is not signed or is an image."""
        asset = Asset.objects.get_visible(request.user, asset_id, noun="asset")
        response = sidecar_response(asset)
        if response is None:
            raise NotFound("This asset has no sidecar: it is not signed yet (it is signed "
                           "once approved), or it is an image, whose credentials are inside "
                           "the file.")
        return response
