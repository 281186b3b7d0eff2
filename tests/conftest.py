"""Shared fixtures: users per role, projects, a prompt template, service availability.

Tests that need PostgreSQL or Redis use the ``require_postgres`` / ``require_redis``
fixtures: outside CI they skip with the reason when the service is missing; under
CI=true a missing service fails the test instead, so CI can never go green by skipping.
"""

from __future__ import annotations

import importlib.metadata
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from assay.accounts.choices import GlobalRole, ProjectRole
from assay.accounts.models import Team, User
from assay.generation.runtime import run_job
from assay.generation.services import submit_generation
from assay.plugins.manager import build_plugins
from assay.studio.models import Asset, Project, PromptTemplate
from governance.review.checks import run_checks

pytest_plugins = ["tests.fixtures.workers", "tests.fixtures.models", "tests.fixtures.faults",
                  "tests.fixtures.signing"]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def skip_or_fail(reason: str) -> None:
    """Skip on a laptop; fail in CI, where every service must be there."""
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def redis_url() -> str | None:
    """The Redis broker the tests use, when CELERY_BROKER_URL points at one that answers."""
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        return None
    from urllib.parse import urlparse

    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), 1):
            return url
    except OSError:
        return None


def production_generators() -> list[Any]:
    """Generators of the installed distributions (entry-point group ``assay``): what
    `make run` and the images ship, without the test-only dummy plugin."""
    plugins = build_plugins(strict=True,
                            entry_points=importlib.metadata.entry_points(group="assay"))
    return list(plugins.generators.values())


@pytest.fixture
def require_postgres() -> None:
    """Only on PostgreSQL (e.g. SKIP LOCKED, concurrent transitions)."""
    if connection.vendor != "postgresql":
        skip_or_fail("the tests are not running on PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def require_redis() -> str:
    """The Redis URL, or skip/fail."""
    url = redis_url()
    if url is None:
        skip_or_fail("no Redis broker (set CELERY_BROKER_URL=redis://127.0.0.1:6379/0)")
    return url  # type: ignore[return-value]


@pytest.fixture
def ci_uses_redis() -> None:
    """Worker tests run on any broker locally (the folder broker too), on Redis in CI."""
    if IN_CI and redis_url() is None:
        pytest.fail("CI=true but the tests are not using a Redis broker")


@pytest.fixture
def use_broker(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Point this process's Celery app at another broker for one test."""
    from assay.celery import app

    original = (app.conf.broker_url, app.conf.broker_transport_options)

    def _use(url: str, options: dict[str, Any] | None = None) -> None:
        # Celery reads CELERY_BROKER_URL from the environment before its own config.
        monkeypatch.setenv("CELERY_BROKER_URL", url)
        app.conf.broker_url = url
        app.conf.broker_transport_options = options if options is not None else {
            "visibility_timeout": 3600, "max_retries": 1, "socket_connect_timeout": 1}
        app.close()  # drops the connection pool bound to the old URL
        app.amqp._producer_pool = None

    yield _use
    _use(*original)


def make_user(username: str, *, global_role: str = "") -> User:
    """A user with password 'pw'."""
    return User.objects.create_user(username=username, password="pw", global_role=global_role,
                                    is_superuser=global_role == GlobalRole.ADMIN,
                                    is_staff=global_role == GlobalRole.ADMIN)


@pytest.fixture
def team(db: Any) -> Team:
    return Team.objects.create(name="Acme", slug="acme")


@pytest.fixture
def users(db: Any) -> dict[str, User]:
    """creator, reviewer, owner (of ``project``), auditor, admin and an outsider."""
    return {
        "creator": make_user("cara"),
        "reviewer": make_user("rui"),
        "owner": make_user("olga"),
        "auditor": make_user("audrey", global_role=GlobalRole.AUDITOR),
        "admin": make_user("adam", global_role=GlobalRole.ADMIN),
        "outsider": make_user("otto"),
    }


def _project(team: Team, slug: str, members: dict[str, tuple[User, str]]) -> Project:
    from assay.studio.models import Membership

    project = Project.objects.create(team=team, name=slug.title(), slug=slug)
    for user, role in members.values():
        Membership.objects.create(project=project, user=user, role=role)
    return project


@pytest.fixture
def project(team: Team, users: dict[str, User]) -> Project:
    return _project(team, "launch", {
        "creator": (users["creator"], ProjectRole.CREATOR),
        "reviewer": (users["reviewer"], ProjectRole.REVIEWER),
        "owner": (users["owner"], ProjectRole.OWNER),
    })


@pytest.fixture
def other_project(team: Team, users: dict[str, User]) -> Project:
    """A project where the outsider creates and our creator is only a reviewer."""
    return _project(team, "secret", {
        "outsider": (users["outsider"], ProjectRole.CREATOR),
        "creator": (users["creator"], ProjectRole.REVIEWER),
    })


def make_template(project: Project, user: User, *, generator: str = "dummy-echo",
                  text: str = "Write about {{ product }} for {{ audience }}.",
                  slug: str = "blurb", **defaults: Any) -> PromptTemplate:
    """A template through the real service (so versions and labels are right)."""
    from assay.studio.services.prompts import create_template

    return create_template(
        project, user, name=slug.title(), slug=slug, text=text,
        variables=[{"name": "product", "required": True},
                   {"name": "audience", "required": False, "default": "everyone"}],
        generator_id=generator, default_parameters=defaults or None,
    )


@pytest.fixture
def template(project: Project, users: dict[str, User]) -> PromptTemplate:
    return make_template(project, users["owner"])


def generate_checked(user: User, project: Project, capture: Any, product: str = "Kite") -> Any:
    """Generate with the ``blurb`` template, run the job and its checks in this process, and
    return the asset (its review is open when the policy auto-submits). ``capture`` is
    pytest-django's ``django_capture_on_commit_callbacks``: no task reaches a broker."""
    with capture(execute=False):
        job = submit_generation(user, project=project, template="blurb",
                                variables={"product": product})
    with capture(execute=False):
        assert run_job(str(job.pk), worker="w") == "succeeded"
    asset = Asset.objects.get(job=job)
    run_checks(str(asset.pk))
    return asset


def race(tries: int, call: Callable[[], Any]) -> list[Any]:
    """Run ``call`` in ``tries`` threads released together by a barrier; their outcomes
    (an exception as its repr, so the caller's assertion shows it). Each thread closes its
    own database connection."""
    barrier = threading.Barrier(tries)
    outcomes: list[Any] = []

    def one() -> None:
        try:
            barrier.wait()
            outcomes.append(call())
        except Exception as exc:
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(tries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes
