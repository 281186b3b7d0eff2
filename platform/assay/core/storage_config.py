"""The media storage Django uses for assets, signed files and sidecars, from the settings.

``ASSAY_MEDIA_STORAGE=file`` keeps media in ``MEDIA_ROOT`` (a local folder, or a
ReadWriteMany volume shared by web and worker pods); ``s3`` keeps it in an S3-compatible
bucket through django-storages. Either way every read and write goes through the storage
API (``open``/``save``/``exists``/``listdir``/``delete``), never a filesystem path, so the
code is the same for both (tests/core/test_no_local_media.py keeps it so).

Objects are private: no ACL is set (the bucket's own policy rules, which should block
public access), and Assay hands bytes out only through its permission-checked download
views. ``url()`` would give a short-lived presigned link, but nothing calls it.
"""

from __future__ import annotations

from typing import Any

from botocore.config import Config

from assay.conf import env

FILE_BACKEND = "django.core.files.storage.FileSystemStorage"
S3_BACKEND = "storages.backends.s3.S3Storage"
KINDS = ("file", "s3")

#: Small timeouts and few retries: a job whose output cannot be kept fails in words
#: (generation.storage.StorageFailed) within seconds instead of hanging its worker.
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 30
MAX_ATTEMPTS = 3
#: What a presigned URL would live for (nothing in Assay hands one out).
PRESIGNED_SECONDS = 300
#: Reads of larger objects spill from memory to a temporary file.
MAX_MEMORY_BYTES = 16 * 1024 * 1024


def media_storage() -> dict[str, Any]:
    """The ``STORAGES["default"]`` entry for ``ASSAY_MEDIA_STORAGE``.

    Raises:
        ValueError: an unknown kind, or ``s3`` without ``ASSAY_S3_BUCKET`` (refused at
            start-up rather than at the first job's output).
    """
    kind = env("ASSAY_MEDIA_STORAGE").strip().lower()
    if kind not in KINDS:
        raise ValueError(f"ASSAY_MEDIA_STORAGE={kind!r} is not a media storage; use file "
                         "(MEDIA_ROOT, a local folder or a ReadWriteMany volume) or s3")
    if kind == "file":
        return {"BACKEND": FILE_BACKEND}
    return {"BACKEND": S3_BACKEND, "OPTIONS": s3_options()}


def s3_options() -> dict[str, Any]:
    """django-storages options from the ``ASSAY_S3_*`` settings.

    Empty credentials are left to the SDK's own chain (IRSA, workload identity, an
    instance role), so a cluster need not hold a key at all.
    """
    bucket = env("ASSAY_S3_BUCKET").strip()
    if not bucket:
        raise ValueError("ASSAY_MEDIA_STORAGE=s3 needs ASSAY_S3_BUCKET, the bucket that "
                         "keeps assets, signed files and sidecars")
    access_key = env("ASSAY_S3_ACCESS_KEY_ID").strip()
    secret_key = env("ASSAY_S3_SECRET_ACCESS_KEY").strip()
    if bool(access_key) != bool(secret_key):
        raise ValueError("ASSAY_S3_ACCESS_KEY_ID and ASSAY_S3_SECRET_ACCESS_KEY go together: "
                         "set both, or neither to use the SDK's credential chain")
    return {
        "bucket_name": bucket,
        "endpoint_url": env("ASSAY_S3_ENDPOINT_URL").strip() or None,
        "region_name": env("ASSAY_S3_REGION").strip() or None,
        "access_key": access_key or None,
        "secret_key": secret_key or None,
        "location": env("ASSAY_S3_LOCATION").strip().strip("/"),
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": PRESIGNED_SECONDS,
        "file_overwrite": False,
        "max_memory_size": MAX_MEMORY_BYTES,
        "client_config": client_config(),
    }


def client_config() -> Config:
    """botocore's client settings: SigV4, bounded connect/read waits and retries."""
    return Config(signature_version="s3v4", connect_timeout=CONNECT_TIMEOUT_SECONDS,
                  read_timeout=READ_TIMEOUT_SECONDS,
                  retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"})
