"""REST for provenance: verify any file, fetch a text asset's sidecar."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assay.audit.context import actor_for
from assay.core.exceptions import AssayError, InvalidInput, NotFound
from assay.core.numbers import parse_whole
from assay.studio.models import Asset
from governance.provenance import formats
from governance.provenance.downloads import sidecar_response
from governance.provenance.errors import FileTooLarge
from governance.provenance.services import record_refused_verification, verify_file

#: Multipart framing on top of the file and sidecar themselves.
_ENVELOPE_BYTES = 64 * 1024


def _declared(request: Request) -> int:
    """The Content-Length the client declared (0 when absent or not a plain number)."""
    raw = str(request.META.get("CONTENT_LENGTH") or "")
    return max(parse_whole(raw) or 0, 0)


def _upload(request: Request, name: str, limit: int) -> bytes | None:
    upload = request.FILES.get(name)
    if upload is None:
        return None
    if upload.size > limit:
        raise FileTooLarge(f"The {name} is {upload.size:,} bytes; this server verifies up to "
                           f"{limit:,} (ASSAY_VERIFY_MAX_BYTES).")
    data = upload.read()
    if not data:
        raise InvalidInput(f"The uploaded `{name}` is empty (0 bytes): upload the file itself"
                           f"{'' if name == 'file' else ' (the .c2pa sidecar of the text)'}.",
                           errors={name: ["the file is empty"]})
    return data


class VerifyUploadSerializer(serializers.Serializer):
    """multipart/form-data: the file, and for text its sidecar."""

    file = serializers.FileField(help_text="The file to verify (up to ASSAY_VERIFY_MAX_BYTES; "
                                           "at most ASSAY_VERIFY_MAX_PARTS chunks, boxes or "
                                           "segments).")
    sidecar = serializers.FileField(required=False,
                                    help_text="For text and Markdown: the .c2pa sidecar "
                                              "that carries its Content Credentials.")


class FailureSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The C2PA validation status code.")
    meaning = serializers.CharField(help_text="What it means, in plain words.")
    explanation = serializers.CharField(help_text="The reader's own explanation.")


class VerifyReportSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["trusted", "valid", "invalid", "none"])
    headline = serializers.CharField()
    format = serializers.CharField(allow_null=True, help_text="The media type the bytes are.")
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    embedded = serializers.BooleanField(allow_null=True)
    manifest_label = serializers.CharField(allow_null=True)
    failures = FailureSerializer(many=True)
    summary = serializers.DictField(child=serializers.JSONField(),
                                    help_text="Signer, time, AI use, model, approvals; for an "
                                              "untrusted signer under 'claimed by an "
                                              "untrusted signer'.")
    lines = serializers.ListField(child=serializers.CharField())


class VerifyView(APIView):
    """``POST`` a file (and, for text, its ``sidecar``) as multipart; get a report."""

    parser_classes = (MultiPartParser,)

    @extend_schema(
        summary="What a file's Content Credentials say",
        request={"multipart/form-data": VerifyUploadSerializer},
        responses=VerifyReportSerializer,
        description="Any signed-in user. 400 for an empty file, text without its sidecar, "
                    "a damaged file, or one with more parts than ASSAY_VERIFY_MAX_PARTS "
                    "(code too_complex); 413 over ASSAY_VERIFY_MAX_BYTES; 415 for a format "
                    "C2PA cannot carry. Every request and refusal is audited.")
    def post(self, request: Request) -> Response:
        """200 with state trusted | valid | invalid | none, failures and a summary."""
        actor = actor_for(request.user)
        try:
            data, sidecar, name = self._uploads(request)
        except AssayError as exc:
            record_refused_verification(exc, actor=actor, size=_declared(request))
            raise
        return Response(verify_file(data, sidecar=sidecar, filename=name,
                                    actor=actor).as_dict())

    def _uploads(self, request: Request) -> tuple[bytes, bytes | None, str]:
        limit = settings.ASSAY_VERIFY_MAX_BYTES
        declared = _declared(request)
        if declared > 2 * limit + _ENVELOPE_BYTES:  # refuse before parsing the body
            raise FileTooLarge(f"The upload is {declared:,} bytes; this server verifies files "
                               f"up to {limit:,} (ASSAY_VERIFY_MAX_BYTES).")
        data = _upload(request, "file", limit)
        if data is None:
            raise InvalidInput("Upload the file to verify as multipart field `file` (and a "
                               "text's .c2pa sidecar as `sidecar`).",
                               errors={"file": ["this field is required"]})
        name = request.FILES["file"].name or ""
        sidecar = _upload(request, "sidecar", limit)
        if sidecar is None and formats.is_sidecar(formats.sniff(data, name) or ""):
            raise InvalidInput("This is text or Ogg audio: its Content Credentials are in a "
                               "separate .c2pa sidecar file. Upload it with the file as "
                               "multipart field `sidecar` (the asset's download has it at "
                               "/api/v1/assets/{id}/sidecar/).",
                               errors={"sidecar": ["required for text, Markdown and Ogg"]})
        return data, sidecar, name


class AssetSidecarView(APIView):
    """The C2PA sidecar of a signed text asset."""

    @extend_schema(summary="A signed text asset's .c2pa sidecar",
                   responses={(200, "application/c2pa"): OpenApiTypes.BINARY})
    def get(self, request: Request, asset_id: str) -> HttpResponse:
        """The .c2pa manifest store; 404 when the asset is not signed or embeds it."""
        asset = Asset.objects.get_visible(request.user, asset_id, noun="asset")
        response = sidecar_response(asset)
        if response is None:
            raise NotFound("This asset has no sidecar: it is not signed yet (it is signed "
                           "once approved), or its credentials are inside the file (images, "
                           "WAV, MP3, MP4).")
        return response
