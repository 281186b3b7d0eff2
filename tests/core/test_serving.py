"""Production serving: gunicorn, the database pool, DEBUG off, HTTPS settings and CSP.

The gunicorn tests start the real server (assay.gunicorn_conf) on a loopback port; the
deploy check runs `manage.py check --deploy` in a subprocess with production variables.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import path

from assay.conf import SETTINGS
from assay.generation.models import GenerationJob
from assay.generation.services import submit_generation
from assay.urls import urlpatterns as assay_urlpatterns
from tests.conftest import skip_or_fail
from tests.fixtures.servers import Gunicorn
from tests.fixtures.workers import wait_for

REPO = Path(__file__).resolve().parents[2]
#: What Django's debug pages show; none of it may ever reach a browser.
LEAKS = ("DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "Traceback", "URLconf",
         "urlpatterns", "settings.py", "DEBUG = True", "api/v1/", "admin/")


def _boom(request: Any) -> Any:
    raise RuntimeError("forced failure for the 500 page (DATABASE_URL=postgresql://secret)")


urlpatterns = [path("boom/", _boom), *assay_urlpatterns]


# --- DEBUG off, and error pages that show nothing -------------------------------------

def test_debug_defaults_to_false():
    assert {s.name: s.default for s in SETTINGS}["DEBUG"] == "false"


def _assert_no_leak(body: str) -> None:
    for leak in LEAKS:
        assert leak not in body, f"{leak!r} shown on an error page"


@pytest.mark.django_db
def test_unknown_url_shows_the_plain_404_page():
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "<h1>Not found</h1>" in body
    _assert_no_leak(body)


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_server_error_shows_the_plain_500_page():
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    _assert_no_leak(body)
    assert "forced failure" not in body and "RuntimeError" not in body


# --- CSP ------------------------------------------------------------------------------

def _csp(response: Any) -> str:
    policy = response.headers.get("Content-Security-Policy", "")
    assert policy, f"no CSP header on {response.request['PATH_INFO']}"
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe" not in policy
    return policy


@pytest.mark.django_db
def test_csp_is_on_portal_pages_and_the_api(users, project, template):
    client = Client()
    for url in ("/login/", "/healthz", "/no-such-page/", "/admin/login/"):
        _csp(client.get(url))
    client.force_login(users["creator"])
    for url in ("/", f"/projects/{project.slug}/", f"/projects/{project.slug}/generate/",
                "/reviews/", "/api/v1/projects/", "/api/v1/generations/"):
        response = client.get(url)
        assert response.status_code == 200, url
        _csp(response)
    _csp(client.post("/api/v1/generations/", {}, content_type="application/json"))


INLINE = [
    (re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\s(on[a-z]+|hx-on[:\-a-z]*)\s*=", re.I), "event-handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def _template_files() -> list[Path]:
    roots = [REPO / "templates", *REPO.glob("platform/assay/*/templates"),
             *REPO.glob("governance/*/templates"), *REPO.glob("plugins/*/templates")]
    return [f for root in roots for f in root.rglob("*.html")]


def test_templates_have_no_inline_script_style_or_handlers():
    files = _template_files()
    assert len(files) > 5
    found = [f"{f.relative_to(REPO)}: {what}" for f in files for pattern, what in INLINE
             if pattern.search(f.read_text())]
    assert found == [], "CSP blocks these; move them to static files"


# --- manage.py check --deploy ---------------------------------------------------------

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "p" + "rod-" * 3 + "k3y-6x9Qm2Zt7Lw4Rb8Nc1Vd5Hs0Jf3Gy7Ue2Xa9Po4Ik6",
    "ALLOWED_HOSTS": "assay.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://assay.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "ASSAY_STATIC_MANIFEST": "true",
}


def _subprocess_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment: nothing of the test run's settings leaks in."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ASSAY_", "SECURE_", "DJANGO_")) and k not in {
               s.name for s in SETTINGS}}
    env.update({"DJANGO_SETTINGS_MODULE": "assay.settings", "ASSAY_VAR_DIR": str(tmp_path / "var"),
                "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"})
    env.update(extra)
    return env


def _check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level",
                           "WARNING"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=180)


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    done = _check_deploy(_subprocess_env(tmp_path, **PRODUCTION))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_check_deploy_reports_the_embedded_defaults(tmp_path):
    """The same check has teeth: the defaults (plain HTTP) are not a production set-up."""
    done = _check_deploy(_subprocess_env(tmp_path))
    assert done.returncode != 0
    for code in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert code in done.stderr + done.stdout


def test_bad_proxy_header_names_the_variable(tmp_path):
    env = _subprocess_env(tmp_path, SECURE_PROXY_SSL_HEADER="https")
    done = subprocess.run([sys.executable, "manage.py", "check"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode != 0 and "SECURE_PROXY_SSL_HEADER must be HEADER,VALUE" in done.stderr


# --- gunicorn, a real process ---------------------------------------------------------

@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[Any]:
    started: list[Gunicorn] = []

    def _start(**env: str) -> Gunicorn:
        log = tmp_path / f"gunicorn-{len(started)}.log"
        server = Gunicorn(_subprocess_env(tmp_path, **env), log)
        started.append(server)
        return server

    yield _start
    for server in started:
        server.stop()


def test_gunicorn_serves_health_static_and_pages_with_debug_off(gunicorn):
    """The documented command, default settings (DEBUG unset): what `make run` serves too."""
    server = gunicorn(ASSAY_WEB_WORKERS="1", ASSAY_WEB_THREADS="2")
    status, headers, body = server.get("/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    assert "script-src 'self'" in headers["Content-Security-Policy"]

    status, headers, body = server.get("/static/htmx/htmx.min.js")  # WhiteNoise, no DEBUG
    assert status == 200 and "htmx" in body[:200]
    status, _, body = server.get("/static/portal/sizes.js")
    assert status == 200 and "data-progress" in body

    status, headers, body = server.get("/login/")
    assert status == 200 and "Content-Security-Policy" in headers
    assert 'name="htmx-config"' in body

    status, _, body = server.get("/no-such-page/")
    assert status == 404 and "<h1>Not found</h1>" in body
    _assert_no_leak(body)
    assert server.stop() == 0
    assert '"GET /healthz HTTP/1.1" 200' in server.log.read_text()  # the access log


def test_gunicorn_serves_collected_hashed_static_files(gunicorn, tmp_path):
    """Production's static path: collectstatic with the manifest, then hashed names that
    browsers may cache for good."""
    static = {"ASSAY_STATIC_MANIFEST": "true", "STATIC_ROOT": str(tmp_path / "static")}
    done = subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput"],
                          cwd=REPO, env=_subprocess_env(tmp_path, **static),
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    server = gunicorn(ASSAY_WEB_WORKERS="1", ASSAY_WEB_THREADS="2", **static)
    status, _, body = server.get("/login/")
    assert status == 200
    hashed = re.search(r'href="(/static/portal/portal\.[0-9a-f]{12}\.css)"', body)
    assert hashed, body[:600]
    status, headers, css = server.get(hashed.group(1))
    assert status == 200 and "immutable" in headers["Cache-Control"] and css
    assert re.search(r'src="/static/portal/sizes\.[0-9a-f]{12}\.js"', body)


def _database_url(application_name: str) -> str:
    """The test database, as a URL for a subprocess; tagged so its connections can be told
    apart in pg_stat_activity."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "") + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
    return (f"postgresql://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
            f"?application_name={application_name}")


@pytest.mark.django_db(transaction=True)
def test_the_pool_bounds_connections_under_concurrent_submissions(
        require_postgres, gunicorn, users, template):
    """20 submissions at once into one worker with 6 threads and a pool of 2: all 201, and
    never more than 2 connections (without the pool each busy thread holds its own)."""
    out = io.StringIO()
    call_command("issue_token", users["creator"].username, "--days", "1", stdout=out,
                 stderr=io.StringIO())
    token = out.getvalue().strip()
    tag = f"assay-pool-test-{os.getpid()}"
    server = gunicorn(
        DJANGO_SETTINGS_MODULE="assay.test_settings",  # the dummy generator, strict plugins
        DATABASE_URL=_database_url(tag), CELERY_BROKER_URL="filesystem://",
        ASSAY_WEB_WORKERS="1", ASSAY_WEB_THREADS="6", ASSAY_WEB_ACCESS_LOG="false",
        ASSAY_DB_POOL_MAX_SIZE="2", ASSAY_DB_POOL_MIN_SIZE="1", ASSAY_DB_POOL_TIMEOUT="60",
        ASSAY_THROTTLE_EXPENSIVE="1000/min")  # one token sends all 20

    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        with psycopg.connect(_database_url("assay-pool-sampler"), autocommit=True) as conn:
            while not done.is_set():
                (count,) = conn.execute("SELECT count(*) FROM pg_stat_activity "
                                        "WHERE application_name = %s", (tag,)).fetchone()
                peak = max(peak, count)
                time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    statuses: list[int] = []
    barrier = threading.Barrier(20)

    def submit(i: int) -> None:
        barrier.wait()
        statuses.append(server.post("/api/v1/generations/", {
            "project": "launch", "template": "blurb", "variables": {"product": f"Kite {i}"},
            "parameters": {"seed": i}}, token))

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    done.set()
    sampler.join(5)
    assert sorted(statuses) == [201] * 20, server.log.read_text()[-3000:]
    assert GenerationJob.objects.filter(project=template.project).count() == 20
    assert 1 <= peak <= 2, f"{peak} connections from one worker with a pool of 2"


# --- htmx under CSP, in a real browser ------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


def _in_a_thread(work: Any) -> None:
    """ORM calls from inside Playwright's sync API run in its greenlet's own context and
    would open a connection that nothing closes; a thread closes its own."""
    def run() -> None:
        try:
            work()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_htmx_polling_works_under_csp_without_violations(live_server, users, template,
                                                          monkeypatch):
    """The job page polls over htmx and its bar is sized by sizes.js: no CSP violation,
    no style injected by htmx, and the bar follows the job's progress."""
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is not installed")
    monkeypatch.setattr("assay.generation.services.send_job", lambda job_id: None)
    job = submit_generation(users["creator"], project=template.project, template="blurb",
                            variables={"product": "Kite"})
    GenerationJob.objects.filter(pk=job.pk).update(status="running", progress=40)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop on this thread
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_default_timeout(15_000)
            console: list[str] = []
            page.on("console", lambda msg: console.append(msg.text))
            page.add_init_script("""window.cspViolations = [];
                document.addEventListener('securitypolicyviolation', (e) =>
                    window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));""")
            page.goto(f"{live_server.url}/login/")
            page.get_by_label("Username").fill("cara")
            page.get_by_label("Password").fill("pw")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{live_server.url}/")
            page.goto(f"{live_server.url}/jobs/{job.pk}/")

            # Polled from here: wait_for_function would evaluate a string, which CSP forbids.
            def bar_at(fraction: float) -> bool:
                width = page.evaluate("""() => {
                    const fill = document.querySelector('#job-status .progress-fill');
                    return fill.getBoundingClientRect().width /
                           fill.parentElement.getBoundingClientRect().width; }""")
                return abs(width - fraction) < 0.01

            wait_for(lambda: bar_at(0.4), timeout=15, message="the bar at 40%")
            page.evaluate("""() => { window.swaps = 0; document.body.addEventListener(
                'htmx:afterSwap', () => { window.swaps += 1; }); }""")
            _in_a_thread(lambda: GenerationJob.objects.filter(pk=job.pk).update(progress=70))
            wait_for(lambda: page.evaluate("window.swaps") >= 1, timeout=15,
                     message="an htmx swap")
            wait_for(lambda: bar_at(0.7), timeout=15, message="the bar at 70%")
            expect(page.locator("#job-status [role=progressbar]")).to_have_attribute(
                "aria-valuenow", "70")
            assert page.evaluate("document.querySelectorAll('style').length") == 0
            assert page.evaluate("window.cspViolations") == []
            assert not [m for m in console if "Content Security Policy" in m], console
        finally:
            browser.close()
