"""Nothing submitted is lost: a broker outage at submit, and the embedded default end to end."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest
from django.conf import settings

from tests.fixtures.faults import World, broker_down_at_submit, free_port
from tests.fixtures.workers import REPO, Worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.timeout(240)]


@pytest.mark.django_db(transaction=True)
def test_broker_down_at_submit_then_back(users, project, template, private_redis, start_fleet):
    """The submission does not hang, the job waits queued (never sent) while the broker is
    down, and runs once when it is back (the scenario bench/faults.py repeats)."""
    fleet = start_fleet(broker_url=private_redis.url)
    outcome = broker_down_at_submit(World(users["creator"], users["reviewer"], project),
                                    fleet, private_redis)
    assert outcome.clean, outcome.problems
    assert outcome.once == outcome.expected == 1


def test_the_embedded_default_runs_a_job_end_to_end(tmp_path, demo_models):
    """SQLite + the folder broker + files under var/, exactly as `make run` sets them up."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "MEDIA_ROOT")}
    env.update({"ASSAY_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "assay.settings",
                "ASSAY_MODELS_DIR": str(settings.ASSAY_MODELS_DIR), "PYTHONUNBUFFERED": "1",
                "ASSAY_TORCH_THREADS": "1"})

    def manage(*args: str) -> str:
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env,
                                capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    manage("migrate", "--noinput")
    logins = manage("bootstrap_demo")
    assert "login creator" in logins and "login auditor" in logins
    assert manage("bootstrap_demo") == logins  # a second run reuses what exists
    worker = Worker(env, tmp_path / "worker.log", beat=True).start()
    try:
        out = manage("generate", "--user", "creator", "--project", "spring-launch",
                     "--template", "product-intro", "--var", "product=Kite",
                     "--param", "max_new_tokens=20", "--wait", "--timeout", "120")
    finally:
        worker.stop()
    assert "sha256=" in out
    digest = out.split("sha256=")[1].split()[0]
    db = sqlite3.connect(tmp_path / "var" / "assay.sqlite3")
    rows = db.execute("select status, attempts from studio_generationjob").fetchall()
    assert rows == [("succeeded", 1)]
    assert db.execute("select count(*) from studio_asset where sha256 = ?",
                      (digest,)).fetchone() == (1,)


def test_serve_embedded_starts_web_and_worker_and_ctrl_c_stops_both(tmp_path):
    """What `make run` ends with: one command, one Ctrl-C."""
    import signal
    import urllib.request

    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "MEDIA_ROOT")}
    env.update({"ASSAY_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "assay.settings",
                "PYTHONUNBUFFERED": "1"})
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=REPO, env=env,
                   check=True, capture_output=True, timeout=180)
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "manage.py", "serve_embedded", "--addr",
                             f"127.0.0.1:{port}"], cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT)

    def up() -> bool:
        try:
            url = f"http://127.0.0.1:{port}/readyz"
            return urllib.request.urlopen(url, timeout=2).status == 200
        except OSError:
            return False

    def worker_ready() -> bool:
        return b"embedded@" in (tmp_path / "serve.log").read_bytes() and \
            b"ready." in (tmp_path / "serve.log").read_bytes()

    try:
        wait_for(up, timeout=60, message="the web server")
        wait_for(worker_ready, timeout=60, message="the worker")
        assert f"http://127.0.0.1:{port}/".encode() in (tmp_path / "serve.log").read_bytes()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=40)
    assert not up()
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path / "var")], capture_output=True,
                               text=True).stdout.split()
    assert leftovers == [], "the worker outlived Ctrl-C"
