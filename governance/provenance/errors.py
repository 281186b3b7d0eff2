"""Refusals specific to signing and verifying, rendered like every other AssayError."""

from __future__ import annotations

from assay.core.exceptions import AssayError, InvalidInput


class SigningUnavailable(AssayError):
    """No usable signing credentials (missing, unreadable, expired or not yet valid).

    Raised before any file is written: an asset is never signed with a certificate a
    reader would reject.
    """

    status_code = 503
    code = "signing_unavailable"


class FileTooLarge(AssayError):
    """An upload over ASSAY_VERIFY_MAX_BYTES."""

    status_code = 413
    code = "too_large"


class UnsupportedFormat(AssayError):
    """A file type C2PA cannot carry or Assay cannot read."""

    status_code = 415
    code = "unsupported_type"


class UnreadableFile(InvalidInput):
    """The bytes claim a format but cannot be parsed (truncated or damaged)."""

    code = "unreadable"


class MediaUnavailable(AssayError):
    """The media storage (MEDIA_ROOT or the S3 bucket) could not hand out a file.

    A download answers 503 in words rather than a 500: the request was fine, the storage
    is away (unreachable, denied, the object missing). The operator finds why in the log.
    """

    status_code = 503
    code = "media_unavailable"
