"""schemathesis against the live schema of a real server: no 5xx, and every response as the
schema says, for a bounded time (``ASSAY_SCHEMATHESIS_SECONDS``, 150 s by default).

The server is gunicorn (assay.gunicorn_conf) on a loopback port with the test settings (the
dummy generator), its own PostgreSQL database (``<DATABASE_URL's name>_schemathesis``, made
afresh, so pytest's test database is never touched) and an in-memory broker (no worker:
jobs stay queued, nothing reaches another test's queue). tests/api/schemathesis_setup.py
adds test data and a token; a generated config points path parameters and a few body
fields at that data most of the time, so requests get past "not found" to the code behind.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.conftest import skip_or_fail
from tests.fixtures.databases import fresh_database
from tests.fixtures.servers import Gunicorn

REPO = Path(__file__).resolve().parents[2]
SECONDS = int(os.environ.get("ASSAY_SCHEMATHESIS_SECONDS", "150"))
CHECKS = "not_a_server_error,response_schema_conformance"
#: Revoking the run's own token would leave every later request a 401; tokens have their
#: own tests (tests/accounts).
EXCLUDE = ["--exclude-path-regex", r"^/api/v1/tokens/\{id\}/revoke/$"]

pytestmark = [pytest.mark.schemathesis, pytest.mark.timeout(SECONDS + 240)]


def _database_url() -> str:
    """A database of its own next to the suite's, made empty."""
    base = urlparse(os.environ["DATABASE_URL"])
    return fresh_database(os.environ["DATABASE_URL"],
                          (base.path.lstrip("/") or "assay") + "_schemathesis")


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSAY_", "DJANGO_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "assay.test_settings", "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": "memory://", "ASSAY_VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(tmp_path / "media"), "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1",
        "ASSAY_WEB_WORKERS": "2", "ASSAY_WEB_THREADS": "4", "ASSAY_WEB_ACCESS_LOG": "false",
        "ASSAY_DB_POOL_MAX_SIZE": "0",
    })
    return env


def _run(args: list[str], env: dict[str, str], timeout: int = 180) -> str:
    done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict, Path]]:
    """(base URL, test data, server log) of a fresh gunicorn on its own database."""
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        skip_or_fail("schemathesis runs against PostgreSQL (set DATABASE_URL)")
    env = _env(tmp_path, _database_url())
    _run([sys.executable, "manage.py", "migrate", "--noinput"], env)
    data = json.loads(_run([sys.executable, "tests/api/schemathesis_setup.py"], env)
                      .strip().splitlines()[-1])
    server = Gunicorn(env, tmp_path / "gunicorn.log")
    try:
        yield server.base, data, server.log
    finally:
        server.stop()


def _config(data: dict, path: Path) -> Path:
    """schemathesis.toml: the test data as dictionaries, used for most generated values."""
    def values(items: list) -> str:
        return json.dumps([str(item) for item in items])

    bindings = {
        r"^/api/v1/projects/\{slug\}": {"path.slug": "slugs"},
        r"^/api/v1/generations/\{id\}": {"path.id": "jobs"},
        r"^/api/v1/assets/\{id\}": {"path.id": "assets"},
        r"^/api/v1/assets/\{asset_id\}": {"path.asset_id": "assets"},
        r"^/api/v1/reviews/\{id\}": {"path.id": "reviews"},
        r"^/api/v1/generations/$": {"body.project": "slugs", "body.template": "templates"},
    }
    lines = [f"[dictionaries.{name}]\nvalues = {values(items)}\n" for name, items in (
        ("slugs", [data["project"]]), ("templates", data["templates"]),
        ("jobs", data["jobs"]), ("assets", data["assets"] or ["none"]),
        ("reviews", data["reviews"] or [0]))]
    for regex, params in bindings.items():
        inner = ", ".join(f'"{key}" = {{ dictionary = "{name}", probability = 0.8 }}'
                          for key, name in params.items())
        lines.append(f"[[operations]]\ninclude-path-regex = '{regex}'\n"
                     f"parameters = {{ {inner} }}\n")
    path.write_text("\n".join(lines))
    return path


def test_no_server_errors_and_every_response_matches_the_schema(server, tmp_path):
    base, data, log = server
    config = _config(data, tmp_path / "schemathesis.toml")
    junit = tmp_path / "schemathesis.xml"
    # One worker thread: CPython 3.11's AST state is shared between threads, and
    # hypothesis parses lambdas with ast.parse while generating, which in two threads at
    # once can raise "AST constructor recursion depth mismatch" (python/cpython#106905).
    args = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
            f"{base}/api/v1/schema/?format=json",
            "-H", f"Authorization: Bearer {data['token']}", "--checks", CHECKS,
            "--max-time", str(SECONDS), "--workers", "1", "--request-timeout", "30",
            "--report", "junit", "--report-junit-path", str(junit), *EXCLUDE]
    done = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True,
                          timeout=SECONDS + 180)
    output = done.stdout + done.stderr
    figures = re.search(r"(\d+) generated, (.*)", output)
    print(output[-6000:])  # shown by pytest when the test fails (and with -s)
    server_log = log.read_text()
    tracebacks = server_log.count("Traceback (most recent call last)")
    assert done.returncode == 0, (f"schemathesis found failures "
                                  f"({figures.group(0) if figures else 'no summary'}):\n"
                                  f"{output[-12000:]}\n--- server log ---\n{server_log[-4000:]}")
    assert figures and int(figures.group(1)) > 0, output[-3000:]
    assert tracebacks == 0, server_log[-6000:]
