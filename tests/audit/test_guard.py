"""Every state change is audited: the guard fires on an unaudited change, and the main
services pass it."""

from __future__ import annotations

import pytest

from assay.accounts.choices import ProjectRole
from assay.accounts.models import Team
from assay.accounts.services import issue_token
from assay.audit.services import record
from assay.audit.testing import every_change_audited
from assay.generation.registry import register_model
from assay.generation.runtime import run_job
from assay.generation.services import cancel_job, submit_generation
from assay.studio.models import Asset, Project
from assay.studio.services.projects import grant_role
from assay.studio.services.prompts import add_version, create_template, move_label
from governance.review import brand, workflow
from governance.review.checks import run_checks
from governance.review.models import CheckResult, Review
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def test_the_guard_fires_on_a_save_without_an_event(project):
    project.name = "Quietly renamed"
    with pytest.raises(AssertionError, match=r"studio\.project \d+ saved: no event"), \
            every_change_audited():
        project.save()


def test_the_guard_fires_on_a_queryset_update_and_a_bulk_write(project, team):
    with pytest.raises(AssertionError, match=r"UPDATE on studio\.project \(name\)"), \
            every_change_audited():
        Project.objects.filter(pk=project.pk).update(name="Also quiet")
    with pytest.raises(AssertionError, match=r"INSERT INTO on accounts\.team"), \
            every_change_audited():
        Team.objects.bulk_create([Team(name="Shadow", slug="shadow")])


def test_the_guard_fires_when_the_event_is_about_something_else(project, users):
    with pytest.raises(AssertionError, match=r"studio\.project \d+ saved"), \
            every_change_audited():
        project.save()
        record("accounts.user.changed", target=users["owner"])


def test_the_guard_passes_an_audited_change_and_lets_errors_through(project):
    with every_change_audited() as trace:
        project.save()
        record("studio.project.created", target=project)
    assert trace.rows and not trace.problems
    with pytest.raises(ZeroDivisionError), every_change_audited():
        project.save()
        1 / 0  # noqa: B018 - the guard must not mask the block's own error


def test_prompt_services_are_audited(project, users):
    owner = users["owner"]
    with every_change_audited():
        template = create_template(project, owner, name="Intro", text="Hi {{ who }}",
                                   variables=["who"], generator_id="dummy-echo")
    with every_change_audited():
        version = add_version(template, owner, text="Hello {{ who }}", variables=["who"],
                              generator_id="dummy-echo")
    with every_change_audited():
        move_label(template, owner, name="production", version=version)
    with every_change_audited():
        move_label(template, owner, name="production", version=template.versions.first())


def test_job_services_are_audited(users, template, django_capture_on_commit_callbacks):
    with every_change_audited() as trace, django_capture_on_commit_callbacks(execute=False):
        job = submit_generation(users["creator"], project=template.project,
                                template="blurb", variables={"product": "Kite"})
    assert ("generation.generationjob", str(job.pk)) in {(c.model, c.pk) for c in trace.rows}
    with every_change_audited() as trace:
        cancel_job(users["creator"], job, reason="typo")
    assert ("generation.generationjob", "UPDATE") in {s[:2] for s in trace.statements}


def test_account_and_registry_services_are_audited(project, users, tmp_path):
    newcomer = make_user("nina")
    with every_change_audited():
        grant_role(project, newcomer, ProjectRole.REVIEWER)
    with every_change_audited():
        grant_role(project, newcomer, ProjectRole.OWNER)
    with every_change_audited():
        issue_token(newcomer, name="ci")
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    with every_change_audited():
        register_model(name="tiny", generator_id="dummy-echo", source=str(folder),
                       license="MIT", projects=[project], is_default=True)


def test_settings_services_are_audited(project, users):
    with every_change_audited():
        brand.update_brand_kit(users["owner"], project, {
            "voice": "Warm.", "banned_terms": [{"term": "cheap", "alternatives": ["fair"]}],
            "disclaimers": [{"text": "Prices include VAT.", "triggers": ["price"]}]})
    with every_change_audited():
        brand.update_policy(users["owner"], project, {"stages": [
            {"name": "brand", "approvals_required": 1, "roles": ["reviewer"]}]})


def test_review_services_are_audited(users, project, template,
                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = submit_generation(users["creator"], project=project, template="blurb",
                                variables={"product": "Kite"})
    with django_capture_on_commit_callbacks(execute=False):
        run_job(str(job.pk), worker="w")
    asset = Asset.objects.get(job=job)
    run_checks(str(asset.pk))
    review = Review.objects.get(asset=asset)
    with every_change_audited():
        workflow.add_comment(users["reviewer"], review, body="Nice opening", span=[0, 5])
    warnings = {r.check_id: "checked by hand" for r in CheckResult.objects.filter(
        asset=asset, status__in=("fail", "warn"))}  # whichever check plugins are installed
    with every_change_audited() as trace, django_capture_on_commit_callbacks(execute=False):
        workflow.decide(users["reviewer"], review, decision="approve",
                        content_sha256=asset.sha256, overrides=warnings)
    assert {"review.decision", "review.review"} <= {c.model for c in trace.rows}
