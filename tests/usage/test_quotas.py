"""Quotas: refusals are 429s that name the quota; queued jobs reserve; owners see what is left."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from assay.audit.models import AuditEvent
from assay.core.exceptions import QuotaExceeded
from assay.generation.models import GenerationJob
from governance.usage.models import Quota, UsageRecord
from governance.usage.quotas import month_window
from governance.usage.services import set_quota
from tests.conftest import make_template, race
from tests.usage import make_job, make_record

pytestmark = pytest.mark.django_db

LABELS = {"jobs": "jobs", "images": "images", "tokens": "tokens",
          "accelerator_seconds": "accelerator-seconds"}


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def submit(user: Any, capture: Any, **body: Any) -> tuple[Any, list[Any]]:
    payload = {"project": "launch", "template": "blurb", "variables": {"product": "Kite"}}
    payload.update(body)
    with capture(execute=False) as callbacks:
        response = client_for(user).post("/api/v1/generations/", payload, format="json")
    return response, callbacks


@pytest.fixture
def picture(project: Any, users: dict[str, Any]) -> Any:
    """An image template (the image generator's default model is never loaded here)."""
    return make_template(project, users["owner"], generator="image-diffusers", slug="pic",
                         text="A photo of {{ product }} for {{ audience }}.")


def consume(metric: str, amount: int, project: Any, user: Any, version: Any,
            day: dt.date | None = None) -> None:
    """Usage records that add up to ``amount`` of ``metric``."""
    if metric == "jobs":
        for _ in range(amount):
            make_record(project, user, version, day=day)
        return
    sums = {"images": {"images": amount},
            "tokens": {"input_tokens": amount // 2, "output_tokens": amount - amount // 2},
            "accelerator_seconds": {"accelerator_seconds": float(amount)}}[metric]
    make_record(project, user, version, day=day, **sums)


def body_for(metric: str) -> dict[str, Any]:
    return {"template": "pic"} if metric == "images" else {}


def reset_text() -> str:
    return f"{month_window()[2]:%Y-%m-%d} 00:00 UTC"


@pytest.mark.parametrize("metric", list(LABELS))
@pytest.mark.parametrize("scope", ["team", "project", "user"])
def test_a_used_up_quota_is_a_429_that_names_it_and_nothing_is_queued(
        scope, metric, users, team, project, template, picture,
        django_capture_on_commit_callbacks):
    creator = users["creator"]
    target = {"team": team, "project": project, "user": creator}[scope]
    set_quota(users["admin"], scope, target, metric, 6)
    consume(metric, 6, project, creator, template.latest_version())
    jobs, events = GenerationJob.objects.count(), AuditEvent.objects.count()

    response, callbacks = submit(creator, django_capture_on_commit_callbacks,
                                 **body_for(metric))

    assert response.status_code == 429, response.json()
    body = response.json()
    subject = {"team": "Team 'acme'", "project": "Project 'launch'", "user": "User 'cara'"}
    whose = "their" if scope == "user" else "its"
    assert body["detail"] == (f"{subject[scope]} has used 6 of {whose} 6 {LABELS[metric]} "
                              f"this month; the quota resets on {reset_text()}.")
    assert body["code"] == "quota_exceeded"
    quota = body["errors"]["quota"]
    assert (quota["scope"], quota["metric"], quota["limit"], quota["used"], quota["left"]) \
        == (scope, metric, 6, 6, 0)
    assert quota["resets_at"] == month_window()[2].isoformat().replace("+00:00", "Z")
    until_reset = (month_window()[2] - dt.datetime.now(dt.UTC)).total_seconds()
    assert abs(int(response["Retry-After"]) - until_reset) < 60
    assert GenerationJob.objects.count() == jobs
    assert AuditEvent.objects.count() == events
    assert not callbacks


@pytest.mark.parametrize("metric", list(LABELS))
def test_under_the_limit_is_accepted(metric, users, project, template, picture,
                                     django_capture_on_commit_callbacks):
    set_quota(users["owner"], "project", project, metric, 6)
    consume(metric, 5, project, users["creator"], template.latest_version())
    response, callbacks = submit(users["creator"], django_capture_on_commit_callbacks,
                                 **body_for(metric))
    assert response.status_code == 201, response.json()
    assert len(callbacks) == 1


def test_quotas_of_other_kinds_of_work_do_not_apply(users, project, template, picture,
                                                    django_capture_on_commit_callbacks):
    """An images quota does not stop text jobs; a tokens quota does not stop image jobs."""
    set_quota(users["owner"], "project", project, "images", 0)
    set_quota(users["owner"], "project", project, "tokens", 0)
    text, _ = submit(users["creator"], django_capture_on_commit_callbacks)
    assert text.status_code == 429 and "tokens" in text.json()["detail"]
    Quota.objects.filter(metric="tokens").delete()
    assert submit(users["creator"], django_capture_on_commit_callbacks)[0].status_code == 201
    image, _ = submit(users["creator"], django_capture_on_commit_callbacks, template="pic")
    assert image.status_code == 429 and "images" in image.json()["detail"]


def test_a_user_quota_in_one_project_leaves_other_users_and_projects_alone(
        users, project, other_project, template, django_capture_on_commit_callbacks):
    set_quota(users["owner"], "user", users["creator"], "jobs", 1, project=project)
    assert submit(users["creator"], django_capture_on_commit_callbacks)[0].status_code == 201
    refused, _ = submit(users["creator"], django_capture_on_commit_callbacks)
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("User 'cara' in project 'launch' has used 0 of "
                                               "their 1 jobs this month, with 1 more reserved")
    assert submit(users["owner"], django_capture_on_commit_callbacks)[0].status_code == 201


def test_queued_jobs_reserve_and_a_cancelled_one_gives_its_share_back(
        users, project, template, django_capture_on_commit_callbacks):
    set_quota(users["owner"], "project", project, "jobs", 3)
    ids = []
    for _ in range(3):
        response, _ = submit(users["creator"], django_capture_on_commit_callbacks)
        assert response.status_code == 201
        ids.append(response.json()["id"])
    refused, callbacks = submit(users["creator"], django_capture_on_commit_callbacks)
    assert refused.status_code == 429 and not callbacks
    assert "has used 0 of its 3 jobs this month, with 3 more reserved by queued or running " \
        "jobs" in refused.json()["detail"]
    assert refused.json()["errors"]["quota"]["reserved"] == 3
    assert GenerationJob.objects.count() == 3
    cancel = client_for(users["creator"]).post(f"/api/v1/generations/{ids[0]}/cancel/")
    assert cancel.status_code == 200
    assert submit(users["creator"], django_capture_on_commit_callbacks)[0].status_code == 201


def test_images_reserve_num_images_and_a_job_may_not_overshoot(
        users, project, picture, django_capture_on_commit_callbacks):
    set_quota(users["owner"], "project", project, "images", 4)
    first, _ = submit(users["creator"], django_capture_on_commit_callbacks, template="pic",
                      parameters={"num_images": 3})
    assert first.status_code == 201
    refused, _ = submit(users["creator"], django_capture_on_commit_callbacks, template="pic",
                        parameters={"num_images": 2})
    assert refused.status_code == 429
    assert ("has used 0 of its 4 images this month, with 3 more reserved by queued or running "
            "jobs, and this job would need 2;") in refused.json()["detail"]
    assert refused.json()["errors"]["quota"]["requested"] == 2
    ok, _ = submit(users["creator"], django_capture_on_commit_callbacks, template="pic",
                   parameters={"num_images": 1})
    assert ok.status_code == 201


def test_text_jobs_reserve_max_new_tokens(users, project, django_capture_on_commit_callbacks):
    make_template(project, users["owner"], generator="text-transformers", slug="llm")
    set_quota(users["owner"], "project", project, "tokens", 100)
    first, _ = submit(users["creator"], django_capture_on_commit_callbacks, template="llm",
                      parameters={"max_new_tokens": 60})
    assert first.status_code == 201
    refused, _ = submit(users["creator"], django_capture_on_commit_callbacks, template="llm",
                        parameters={"max_new_tokens": 41})
    assert refused.status_code == 429
    assert refused.json()["errors"]["quota"]["reserved"] == 60
    ok, _ = submit(users["creator"], django_capture_on_commit_callbacks, template="llm",
                   parameters={"max_new_tokens": 40})
    assert ok.status_code == 201


def test_text_variants_reserve_max_new_tokens_each(users, project,
                                                 django_capture_on_commit_callbacks):
    make_template(project, users["owner"], generator="text-transformers", slug="llm")
    set_quota(users["owner"], "project", project, "tokens", 100)
    refused, _ = submit(users["creator"], django_capture_on_commit_callbacks, template="llm",
                        parameters={"max_new_tokens": 40, "num_variants": 3})
    assert refused.status_code == 429
    assert refused.json()["errors"]["quota"]["requested"] == 120
    ok, _ = submit(users["creator"], django_capture_on_commit_callbacks, template="llm",
                   parameters={"max_new_tokens": 50, "num_variants": 2})
    assert ok.status_code == 201


def test_usage_of_last_month_does_not_count(users, project, template,
                                            django_capture_on_commit_callbacks):
    last_month = month_window()[0] - dt.timedelta(days=1)
    set_quota(users["owner"], "project", project, "jobs", 2)
    consume("jobs", 5, project, users["creator"], template.latest_version(), day=last_month)
    consume("jobs", 1, project, users["creator"], template.latest_version(),
            day=month_window()[0])
    body = client_for(users["owner"]).get("/api/v1/projects/launch/quotas/").json()
    assert [(q["used"], q["left"]) for q in body["quotas"]] == [(1, 1)]
    assert submit(users["creator"], django_capture_on_commit_callbacks)[0].status_code == 201
    assert submit(users["creator"], django_capture_on_commit_callbacks)[0].status_code == 429


def test_month_window_rolls_over_the_year():
    start, following, resets = month_window(dt.datetime(2026, 12, 31, 23, 59, tzinfo=dt.UTC))
    assert (start, following) == (dt.date(2026, 12, 1), dt.date(2027, 1, 1))
    assert resets == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)


# --- the runtime records usage ---------------------------------------------------------


def test_a_succeeded_job_writes_its_usage_record(users, project, template,
                                                 django_capture_on_commit_callbacks):
    from assay.generation.runtime import run_job

    job_id = submit(users["creator"], django_capture_on_commit_callbacks)[0].json()["id"]
    assert run_job(job_id, worker="t") == "succeeded"
    job = GenerationJob.objects.get(pk=job_id)
    record = UsageRecord.objects.get(job=job)
    assert (record.user, record.team_id, record.project, record.generator_id,
            record.model_name) == (users["creator"], project.team_id, project, "dummy-echo",
                                   "dummy")
    assert record.day == job.finished_at.astimezone(dt.UTC).date()
    assert (record.jobs, record.images) == (1, 0)
    assert (record.input_tokens, record.output_tokens) == (job.usage["input_tokens"],
                                                           job.usage["output_tokens"])
    assert record.input_tokens > 0
    assert record.wall_seconds == job.usage["wall_seconds"]


def test_failed_jobs_record_nothing_and_release_their_reservation(
        users, project, template, django_capture_on_commit_callbacks):
    from assay.generation.runtime import run_job

    set_quota(users["owner"], "project", project, "jobs", 1)
    job_id = submit(users["creator"], django_capture_on_commit_callbacks,
                    parameters={"fail": True})[0].json()["id"]
    assert submit(users["creator"], django_capture_on_commit_callbacks)[0].status_code == 429
    assert run_job(job_id, worker="t") == "failed"
    assert not UsageRecord.objects.exists()
    assert submit(users["creator"], django_capture_on_commit_callbacks)[0].status_code == 201


# --- seeing and setting quotas ---------------------------------------------------------


def test_owner_sees_every_quota_of_the_project_with_what_is_left(users, team, project,
                                                                 template):
    set_quota(users["admin"], "team", team, "jobs", 100)
    set_quota(users["owner"], "project", project, "images", 10)
    set_quota(users["owner"], "user", users["reviewer"], "jobs", 5, project=project)
    set_quota(users["owner"], "user", users["creator"], "tokens", 500, project=project)
    consume("jobs", 2, project, users["creator"], template.latest_version())
    make_job(project, users["creator"], template.latest_version(), status="queued")

    body = client_for(users["owner"]).get("/api/v1/projects/launch/quotas/").json()
    rows = {(q["scope"], q["metric"], q["user"]): q for q in body["quotas"]}
    assert set(rows) == {("team", "jobs", None), ("project", "images", None),
                         ("user", "jobs", "rui"), ("user", "tokens", "cara")}
    team_jobs = rows[("team", "jobs", None)]
    assert (team_jobs["limit"], team_jobs["used"], team_jobs["reserved"], team_jobs["left"]) \
        == (100, 2, 1, 97)
    assert team_jobs["applies_to_you"] and not rows[("user", "jobs", "rui")]["applies_to_you"]
    assert body["resets_at"] == team_jobs["resets_at"]
    assert body["resets_at"].endswith("-01T00:00:00Z")


def test_a_creator_sees_the_quotas_that_apply_to_them(users, team, project, template):
    set_quota(users["admin"], "team", team, "jobs", 100)
    set_quota(users["owner"], "user", users["reviewer"], "jobs", 5, project=project)
    set_quota(users["admin"], "user", users["creator"], "images", 7)
    body = client_for(users["creator"]).get("/api/v1/projects/launch/quotas/").json()
    assert {(q["scope"], q["metric"], q["user"]) for q in body["quotas"]} == {
        ("team", "jobs", None), ("user", "images", "cara")}
    assert all(q["applies_to_you"] for q in body["quotas"])


def test_an_outsider_gets_404(users, project):
    response = client_for(users["outsider"]).get("/api/v1/projects/launch/quotas/")
    assert response.status_code == 404
    assert APIClient().get("/api/v1/projects/launch/quotas/").status_code == 401


@pytest.mark.parametrize("role", ["creator", "reviewer"])
def test_members_who_are_not_owners_cannot_set_quotas(role, users, project):
    for body in ({"scope": "project", "metric": "jobs", "limit": 1},
                 {"scope": "user", "metric": "jobs", "limit": 1, "user": "nobody"}):
        response = client_for(users[role]).put("/api/v1/projects/launch/quotas/", body,
                                               format="json")
        assert response.status_code == 403, response.json()
    assert not Quota.objects.exists()
    assert not AuditEvent.objects.filter(action="usage.quota.set").exists()


def test_an_owner_sets_project_and_member_quotas_but_not_team_ones(users, project):
    owner = client_for(users["owner"])
    response = owner.put("/api/v1/projects/launch/quotas/",
                         {"scope": "project", "metric": "jobs", "limit": 10}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["limit"], response.json()["left"]) == (10, 10)
    again = owner.post("/api/v1/projects/launch/quotas/",
                       {"scope": "project", "metric": "jobs", "limit": 20}, format="json")
    assert again.json()["limit"] == 20 and Quota.objects.count() == 1
    events = AuditEvent.objects.filter(action="usage.quota.set").order_by("id")
    assert [(e.data["before"], e.data["after"], e.actor_display, e.project_id) for e in events] \
        == [(None, 10, "olga", project.pk), (10, 20, "olga", project.pk)]
    member = owner.put("/api/v1/projects/launch/quotas/",
                       {"scope": "user", "user": "cara", "metric": "images", "limit": 3},
                       format="json")
    assert member.status_code == 200 and member.json()["subject"] == \
        "User 'cara' in project 'launch'"
    team = owner.put("/api/v1/projects/launch/quotas/",
                     {"scope": "team", "metric": "jobs", "limit": 5}, format="json")
    assert team.status_code == 403 and "admins" in team.json()["detail"]


@pytest.mark.parametrize("body,field", [
    ({"scope": "galaxy", "metric": "jobs", "limit": 1}, "scope"),
    ({"scope": "project", "metric": "watts", "limit": 1}, "metric"),
    ({"scope": "project", "metric": "jobs", "limit": -1}, "limit"),
    ({"scope": "project", "metric": "jobs", "limit": 1.5}, "limit"),
    ({"scope": "project", "metric": "jobs", "limit": True}, "limit"),
    ({"scope": "user", "metric": "jobs", "limit": 1, "user": "otto"}, "user"),
])
def test_bad_quota_input_is_a_400(body, field, users, project):
    response = client_for(users["owner"]).put("/api/v1/projects/launch/quotas/", body,
                                              format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Quota.objects.exists()


def test_an_admin_sets_team_quotas_through_the_api(users, project):
    response = client_for(users["admin"]).put("/api/v1/projects/launch/quotas/",
                                              {"scope": "team", "metric": "tokens",
                                               "limit": 1000}, format="json")
    assert response.status_code == 200
    assert response.json()["subject"] == "Team 'acme'"


def test_the_set_quota_command(users, team, project):
    call_command("set_quota", "--team", "acme", "--metric", "jobs", "--limit", "100")
    call_command("set_quota", "--project", "launch", "--metric", "images", "--limit", "9")
    call_command("set_quota", "--user", "cara", "--metric", "tokens", "--limit", "50")
    call_command("set_quota", "--user", "cara", "--project", "launch", "--metric",
                 "accelerator_seconds", "--limit", "60")
    assert sorted(str(q) for q in Quota.objects.all()) == [
        "Project 'launch': 9 images a month", "Team 'acme': 100 jobs a month",
        "User 'cara' in project 'launch': 60 accelerator-seconds a month",
        "User 'cara': 50 tokens a month"]
    event = AuditEvent.objects.filter(action="usage.quota.set").first()
    assert event.actor_display == "system:cli"
    with pytest.raises(CommandError, match="one target"):
        call_command("set_quota", "--team", "acme", "--project", "launch", "--metric", "jobs",
                     "--limit", "1")
    with pytest.raises(CommandError, match="No team 'nope'"):
        call_command("set_quota", "--team", "nope", "--metric", "jobs", "--limit", "1")
    with pytest.raises(CommandError, match="not a member"):
        call_command("set_quota", "--user", "otto", "--project", "launch", "--metric", "jobs",
                     "--limit", "1")


# --- concurrency (PostgreSQL) -----------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_cannot_overshoot_a_quota(require_postgres, users, project,
                                                         template, monkeypatch):
    from assay.generation import services as jobs

    monkeypatch.setattr(jobs, "send_job", lambda job_id: True)  # no broker in this test
    limit, tries = 3, 8
    set_quota(users["owner"], "project", project, "jobs", limit)

    def one() -> str:
        try:
            jobs.submit_generation(users["creator"], project="launch", template="blurb",
                                   variables={"product": "Kite"})
        except QuotaExceeded:
            return "refused"
        return "queued"

    outcomes = race(tries, one)
    assert sorted(outcomes) == ["queued"] * limit + ["refused"] * (tries - limit)
    assert GenerationJob.objects.count() == limit
