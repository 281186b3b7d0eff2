"""`manage.py fetch_models`: hub models at their pinned revision, local folders skipped.

No model hub is reachable here, so ONLY ``huggingface_hub.snapshot_download`` is replaced
(where assay.generation.modelfetch looks it up) by a recorder: everything else — the
registry rows, the offline check, the command's output and exit status — is the real code.
"""

from __future__ import annotations

from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

# Imported here, under the suite's HF_HUB_OFFLINE=1: huggingface_hub reads the variable
# once, at its first import, so a first import inside the ``online`` fixture would leave
# the whole test process online (and change what later tests build).
from assay.generation import modelfetch  # noqa: F401
from assay.generation.models import ModelSource, RegisteredModel

pytestmark = pytest.mark.django_db

DOWNLOAD = "assay.generation.modelfetch.snapshot_download"


@pytest.fixture
def models(tmp_path):
    def add(name, kind, source, revision):
        return RegisteredModel.objects.create(name=name, generator_id="text-transformers",
                                              source_kind=kind, source=source,
                                              revision=revision, license="apache-2.0")
    return {
        "qwen": add("qwen-small", ModelSource.HUB, "org/qwen-small", "0123abcd" * 5),
        "sd": add("sd-turbo", ModelSource.HUB, "org/sd-turbo", "v1.0"),
        "local": add("local-tiny", ModelSource.LOCAL, str(tmp_path), "sha256-ab"),
    }


@pytest.fixture
def online(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)


def run(*args):
    out = StringIO()
    call_command("fetch_models", *args, stdout=out)
    return out.getvalue()


def test_each_hub_model_is_fetched_at_its_exact_revision(models, online):
    with mock.patch(DOWNLOAD, return_value="/cache/snap") as download:
        out = run()
    assert sorted(c.kwargs.items() for c in download.call_args_list) == sorted([
        {"repo_id": "org/qwen-small", "revision": "0123abcd" * 5}.items(),
        {"repo_id": "org/sd-turbo", "revision": "v1.0"}.items(),
    ])
    lines = out.splitlines()
    assert len(lines) == 3
    assert f"fetched: qwen-small (org/qwen-small @ {'0123abcd' * 5})" in out
    assert "fetched: sd-turbo (org/sd-turbo @ v1.0)" in out
    assert "skipped: local-tiny" in out and "local folder" in out


def test_name_limits_the_run(models, online):
    with mock.patch(DOWNLOAD, return_value="/cache/snap") as download:
        out = run("--name", "sd-turbo")
    assert [c.kwargs["repo_id"] for c in download.call_args_list] == ["org/sd-turbo"]
    assert out.count("\n") == 1
    with mock.patch(DOWNLOAD) as download, pytest.raises(CommandError, match="no-such"):
        run("--name", "no-such")
    download.assert_not_called()


def test_offline_is_refused_in_words(models, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with mock.patch(DOWNLOAD) as download, pytest.raises(CommandError, match="HF_HUB_OFFLINE"):
        run()
    download.assert_not_called()
    monkeypatch.delenv("HF_HUB_OFFLINE")  # huggingface_hub then reads TRANSFORMERS_OFFLINE
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "yes")
    with mock.patch(DOWNLOAD) as download, pytest.raises(CommandError, match="OFFLINE"):
        run()
    download.assert_not_called()


def test_dry_run_downloads_nothing(models, online):
    with mock.patch(DOWNLOAD) as download:
        out = run("--dry-run")
    download.assert_not_called()
    assert "would fetch: qwen-small" in out and "would fetch: sd-turbo" in out
    assert "skipped: local-tiny" in out


def test_a_failure_exits_1_naming_the_model(models, online):
    def download(repo_id, revision):
        if repo_id == "org/sd-turbo":
            raise OSError("revision v1.0 not found")
        return "/cache/snap"

    out = StringIO()
    with mock.patch(DOWNLOAD, side_effect=download), \
            pytest.raises(CommandError, match="Could not fetch sd-turbo") as raised:
        call_command("fetch_models", stdout=out)
    assert raised.value.returncode == 1
    assert "failed: sd-turbo" in out.getvalue() and "not found" in out.getvalue()
    assert "fetched: qwen-small" in out.getvalue()
