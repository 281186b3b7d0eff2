"""The model registry: pinned revisions, per-project allow-lists, refusals."""

from __future__ import annotations

import pytest

from assay.audit.models import AuditEvent
from assay.core.exceptions import InvalidInput
from assay.generation.models import GenerationJob, RegisteredModel
from assay.generation.registry import folder_revision, register_model
from assay.generation.services import submit_generation
from tests.conftest import production_generators

pytestmark = pytest.mark.django_db


@pytest.fixture
def model_dir(tmp_path):
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "config.json").write_text('{"layers": 2}')
    (folder / "weights.bin").write_bytes(b"\x00\x01" * 100)
    return folder


def test_local_folders_are_pinned_by_content_hash(model_dir):
    revision = folder_revision(model_dir)
    model = register_model(name="tiny", generator_id="dummy-echo", source=str(model_dir),
                           license="MIT", all_projects=True)
    assert model.source_kind == "local" and model.revision == revision
    (model_dir / "weights.bin").write_bytes(b"\x00\x02" * 100)
    assert folder_revision(model_dir) != revision
    with pytest.raises(InvalidInput, match="content hash is"):
        register_model(name="tiny", generator_id="dummy-echo", source=str(model_dir),
                       license="MIT", revision=revision)
    assert AuditEvent.objects.filter(action="generation.model.registered").count() == 1


def test_hub_models_need_a_revision():
    with pytest.raises(InvalidInput, match="needs --revision"):
        register_model(name="hub", generator_id="dummy-echo", source="org/model", license="x")
    model = register_model(name="hub", generator_id="dummy-echo", source="org/model",
                           revision="abc123", license="apache-2.0")
    assert model.source_kind == "hub"


def test_unknown_generator_or_missing_folder_is_refused():
    with pytest.raises(InvalidInput, match="No generator 'nope'"):
        register_model(name="x", generator_id="nope", source="org/m", revision="1", license="x")
    with pytest.raises(InvalidInput, match="No model folder"):
        register_model(name="x", generator_id="dummy-echo", source="/no/such/folder",
                       license="x")


def submit(users, project, capture, **kw):
    with capture(execute=False):
        return submit_generation(users["creator"], project=project, template="blurb",
                                 variables={"product": "Kite"}, **kw)


def test_submissions_use_allowed_models_only(users, project, other_project, template,
                                             model_dir, django_capture_on_commit_callbacks):
    register_model(name="everywhere", generator_id="dummy-echo", source="org/all",
                   revision="r1", license="x", all_projects=True)
    register_model(name="secret-only", generator_id="dummy-echo", source="org/secret",
                   revision="r2", license="x", projects=[other_project])
    job = submit(users, project, django_capture_on_commit_callbacks, model="everywhere")
    assert job.model_ref == {"source": "org/all", "revision": "r1", "name": "everywhere"}
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(users["creator"])
    response = client.post("/api/v1/generations/", {
        "project": "launch", "template": "blurb", "variables": {"product": "Kite"},
        "model": "secret-only"}, format="json")
    assert response.status_code == 403
    assert "may not use model secret-only" in response.json()["detail"]
    assert GenerationJob.objects.count() == 1


def test_the_default_model_is_used_when_none_is_named(users, project, template,
                                                      django_capture_on_commit_callbacks):
    register_model(name="a", generator_id="dummy-echo", source="org/a", revision="1",
                   license="x", all_projects=True)
    register_model(name="b", generator_id="dummy-echo", source="org/b", revision="2",
                   license="x", all_projects=True, is_default=True)
    assert submit(users, project, django_capture_on_commit_callbacks).model_ref["name"] == "b"
    assert RegisteredModel.objects.get(name="b").is_default


def test_no_allowed_model_for_the_project_is_refused(users, project, other_project, template,
                                                     django_capture_on_commit_callbacks):
    from assay.core.exceptions import NotPermitted

    register_model(name="elsewhere", generator_id="dummy-echo", source="org/e", revision="1",
                   license="x", projects=[other_project])
    with pytest.raises(NotPermitted, match="No model of generator dummy-echo is allowed"):
        submit(users, project, django_capture_on_commit_callbacks)


def test_register_model_command(model_dir, project):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = StringIO()
    call_command("register_model", "tiny", "--generator", "dummy-echo", "--source",
                 str(model_dir), "--license", "MIT", "--project", "launch", stdout=out)
    assert f"@ {folder_revision(model_dir)}" in out.getvalue()
    assert list(RegisteredModel.objects.get(name="tiny").projects.all()) == [project]
    with pytest.raises(CommandError, match="Unknown project"):
        call_command("register_model", "t2", "--generator", "dummy-echo", "--source",
                     str(model_dir), "--license", "MIT", "--project", "nowhere")


def test_build_demo_models_registers_and_pins_them_once(demo_models):
    from assay.generation.demo import build_demo_models

    build_demo_models()
    registered = {m.generator_id: m for m in RegisteredModel.objects.all()}
    # Every first-party generator ships a demo model.
    assert set(registered) == {g.id for g in production_generators()}
    text = registered["text-transformers"]
    assert text.is_default and text.all_projects and text.source_kind == "local"
    assert text.revision == folder_revision(demo_models / "demo-text")
    events = AuditEvent.objects.filter(action="generation.model.registered").count()
    build_demo_models()  # up to date: nothing re-registered
    assert AuditEvent.objects.filter(action="generation.model.registered").count() == events
