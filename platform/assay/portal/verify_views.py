"""The "Verify a file" page: anyone signed in uploads a file and reads its Content
Credentials in words.

The work is the verify service's (``governance.provenance.services.verify_file``, which
``POST /api/v1/provenance/verify/`` calls too): it sniffs the format from the bytes,
bounds the reader's work, validates against the trust anchors and audits every request
and refusal. This page only reads the upload within the same limits, calls it, and shows
the report through ``verify_words``; raw codes stay in a "Details" fold. A refusal (too
large, damaged, unsupported, text without its sidecar) is the service's message with its
4xx status, never a 500.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from assay.audit.context import actor_for
from assay.core.exceptions import AssayError, InvalidInput
from assay.core.numbers import parse_whole
from assay.portal.verify_words import describe
from governance.provenance import formats
from governance.provenance.errors import FileTooLarge
from governance.provenance.services import record_refused_verification, verify_file
from governance.provenance.verify import SUPPORTED

#: Multipart framing on top of the file and its sidecar (as the REST endpoint allows).
_ENVELOPE_BYTES = 64 * 1024


class VerifyForm(forms.Form):
    """The file and, for text, its sidecar; the service checks everything else."""

    file = forms.FileField(label="File to check", allow_empty_file=True)
    sidecar = forms.FileField(label="Its Content Credentials file (.c2pa), for text only",
                              required=False, allow_empty_file=True)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        limit = filesizeformat(settings.ASSAY_VERIFY_MAX_BYTES)
        self.fields["file"].help_text = (
            f"An image (PNG, JPEG, WebP, GIF, TIFF, AVIF, SVG), a PDF, audio, video or a text "
            f"file, up to {limit}. Nothing is kept: the file is read, checked and discarded.")
        self.fields["sidecar"].help_text = (
            "Text keeps its Content Credentials in a separate .c2pa file, downloaded with it. "
            "Images carry them inside the file: leave this empty.")


def _declared(request: HttpRequest) -> int:
    return max(parse_whole(str(request.META.get("CONTENT_LENGTH") or "")) or 0, 0)


def _read(upload: UploadedFile | None, name: str, limit: int) -> bytes | None:
    """The upload's bytes, refusing an oversized or empty one in words."""
    if upload is None:
        return None
    what = "file" if name == "file" else "Content Credentials file"
    if upload.size is not None and upload.size > limit:
        raise FileTooLarge(f"The {what} is {filesizeformat(upload.size)}; this server checks "
                           f"files up to {filesizeformat(limit)}.")
    data = upload.read()
    if not data:
        raise InvalidInput(f"The {what} you chose is empty (0 bytes). Choose the file itself.",
                           errors={name: ["the file is empty"]})
    return data


def _page(request: HttpRequest, form: VerifyForm, *, status: int = 200, **extra: object
          ) -> HttpResponse:
    return render(request, "portal/verify.html", {"form": form, **extra}, status=status)


@csrf_exempt  # CSRF is checked in _verify, AFTER the size: Django's check reads the body
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The upload form; after an upload, what the file's Content Credentials say."""
    if request.method == "POST":
        ceiling = 2 * settings.ASSAY_VERIFY_MAX_BYTES + _ENVELOPE_BYTES
        declared = _declared(request)
        if declared > ceiling:  # refused before the body is read (not audited: no CSRF yet)
            return _page(request, VerifyForm(), status=413, refusal=(
                f"The upload is {filesizeformat(declared)}; this server checks files up to "
                f"{filesizeformat(settings.ASSAY_VERIFY_MAX_BYTES)}."))
        return _verify(request)
    return _page(request, VerifyForm())


@csrf_protect
def _verify(request: HttpRequest) -> HttpResponse:
    form = VerifyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form, status=400)
    actor = actor_for(request.user)
    limit = settings.ASSAY_VERIFY_MAX_BYTES
    upload = form.cleaned_data["file"]
    name = upload.name or ""
    try:
        data = _read(upload, "file", limit)
        sidecar = _read(form.cleaned_data.get("sidecar"), "sidecar", limit)
        kind = formats.sniff(data or b"", name) or ""
        if sidecar is None and formats.is_sidecar(kind):
            what = "an Ogg audio file" if kind == "audio/ogg" else "a text file"
            raise InvalidInput(
                f"This is {what}: its Content Credentials are in a separate .c2pa file "
                "(the “Content Credentials” download next to it). Choose it under "
                "“Its Content Credentials file” and check again.",
                errors={"sidecar": ["required for text and Ogg audio"]})
    except AssayError as exc:
        record_refused_verification(exc, actor=actor, size=upload.size, filename=name)
        return _refused(request, form, exc)
    try:
        report = verify_file(data or b"", sidecar=sidecar, filename=name, actor=actor)
    except AssayError as exc:  # audited by the service
        return _refused(request, form, exc)
    return _page(request, VerifyForm(), verdict=describe(report), filename=name)


def _in_words(exc: AssayError) -> str:
    """The refusal as the page says it (the service's own message, which names settings
    and media types for API clients, goes in the Details fold)."""
    limit = filesizeformat(settings.ASSAY_VERIFY_MAX_BYTES)
    if exc.code == "too_large":
        return f"The file is larger than the {limit} this server checks."
    if exc.code == "too_complex":
        return ("This file is built from far more parts than ordinary files are, so it was "
                "not read. Save it again from the program that made it and check the new "
                "file.")
    if exc.code == "unsupported_type":
        return f"Content Credentials cannot be read from this kind of file. {SUPPORTED} can."
    if exc.code == "unreadable" and "sidecar" in exc.errors:
        return ("The Content Credentials file is not a .c2pa file. Choose the one that was "
                "downloaded with the text.")
    if exc.code == "unreadable":
        return ("The file could not be read: it may be cut short or damaged. Download it "
                "again and check the new copy.")
    return exc.message


def _refused(request: HttpRequest, form: VerifyForm, exc: AssayError) -> HttpResponse:
    """The refusal on the form, in words, with its 4xx status."""
    return _page(request, form, status=exc.status_code, refusal=_in_words(exc),
                 refusal_detail=f"{exc.code}: {exc.message}")
