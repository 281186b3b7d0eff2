"""ASSAY_MEDIA_STORAGE picks the media storage; a wrong one is refused at start-up, in words.

The S3 case is exercised against moto's standalone server in
tests/provenance/test_s3_storage.py (the only S3 endpoint reachable here).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assay.core.storage_config import (
    FILE_BACKEND,
    MAX_ATTEMPTS,
    S3_BACKEND,
    media_storage,
)

REPO = Path(__file__).resolve().parents[2]
S3_VARS = ("ASSAY_S3_BUCKET", "ASSAY_S3_ENDPOINT_URL", "ASSAY_S3_REGION",
           "ASSAY_S3_ACCESS_KEY_ID", "ASSAY_S3_SECRET_ACCESS_KEY", "ASSAY_S3_LOCATION")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ASSAY_MEDIA_STORAGE", *S3_VARS):
        monkeypatch.delenv(name, raising=False)


def test_file_is_the_default_and_keeps_media_in_media_root():
    assert media_storage() == {"BACKEND": FILE_BACKEND}


def test_s3_objects_are_private_never_overwritten_and_calls_are_bounded(monkeypatch):
    monkeypatch.setenv("ASSAY_MEDIA_STORAGE", "S3")
    monkeypatch.setenv("ASSAY_S3_BUCKET", "assay-media")
    monkeypatch.setenv("ASSAY_S3_ENDPOINT_URL", "http://minio:9000")
    monkeypatch.setenv("ASSAY_S3_REGION", "eu-west-1")
    monkeypatch.setenv("ASSAY_S3_LOCATION", "/assay/prod/")
    storage = media_storage()
    options = storage["OPTIONS"]
    assert storage["BACKEND"] == S3_BACKEND
    assert options["bucket_name"] == "assay-media"
    assert options["endpoint_url"] == "http://minio:9000"
    assert options["region_name"] == "eu-west-1"
    assert options["location"] == "assay/prod"
    assert options["default_acl"] is None and options["querystring_auth"] is True
    assert options["file_overwrite"] is False
    # No key: the SDK's own chain (IRSA, workload identity, an instance role) is used.
    assert options["access_key"] is None and options["secret_key"] is None
    config = options["client_config"]
    assert config.connect_timeout and config.read_timeout
    assert config.retries["max_attempts"] == MAX_ATTEMPTS


def test_s3_keys_are_passed_through_when_both_are_set(monkeypatch):
    monkeypatch.setenv("ASSAY_MEDIA_STORAGE", "s3")
    monkeypatch.setenv("ASSAY_S3_BUCKET", "b")
    monkeypatch.setenv("ASSAY_S3_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("ASSAY_S3_SECRET_ACCESS_KEY", "secret")
    options = media_storage()["OPTIONS"]
    assert (options["access_key"], options["secret_key"]) == ("AKIDEXAMPLE", "secret")
    assert options["endpoint_url"] is None and options["region_name"] is None


@pytest.mark.parametrize("env,words", [
    ({"ASSAY_MEDIA_STORAGE": "gcs"}, "ASSAY_MEDIA_STORAGE='gcs' is not a media storage"),
    ({"ASSAY_MEDIA_STORAGE": "s3"}, "ASSAY_MEDIA_STORAGE=s3 needs ASSAY_S3_BUCKET"),
    ({"ASSAY_MEDIA_STORAGE": "s3", "ASSAY_S3_BUCKET": "b",
      "ASSAY_S3_ACCESS_KEY_ID": "AKIDEXAMPLE"}, "ASSAY_S3_SECRET_ACCESS_KEY go together"),
])
def test_a_wrong_storage_is_refused_in_words(monkeypatch, env, words):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=words):
        media_storage()


def test_the_refusal_comes_at_start_up():
    env = {**os.environ, "ASSAY_MEDIA_STORAGE": "s3", "ASSAY_S3_BUCKET": "",
           "DJANGO_SETTINGS_MODULE": "assay.settings"}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "ValueError: ASSAY_MEDIA_STORAGE=s3 needs ASSAY_S3_BUCKET" in result.stderr
