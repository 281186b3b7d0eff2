"""Nothing submitted is lost: a broker outage at submit, and the embedded default end to end."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from assay.generation.models import GenerationJob
from assay.generation.services import submit_generation
from assay.studio.models import Asset
from tests.conftest import skip_or_fail
from tests.fixtures.workers import REPO, Worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.timeout(240)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A redis-server of this test's own, so it can be stopped without touching others."""

    def __init__(self, port: int, folder: Path) -> None:
        self.port, self.folder = port, folder
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._answers, timeout=10, message="redis-server to start")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), 0.5):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path):
    if shutil.which("redis-server") is None:
        skip_or_fail("redis-server is not installed")
    server = PrivateRedis(free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_broker_down_at_submit_then_back(users, project, template, private_redis, use_broker,
                                         worker_env, tmp_path):
    env = {**worker_env, "CELERY_BROKER_URL": private_redis.url}
    worker = Worker(env, tmp_path / "worker.log", beat=True).start()
    try:
        use_broker(private_redis.url)
        private_redis.stop()
        started = time.monotonic()
        job = submit_generation(users["creator"], project=project, template="blurb",
                                variables={"product": "Kite"})
        assert time.monotonic() - started < 10  # a dead broker must not hang the request
        time.sleep(3)
        job.refresh_from_db()
        assert job.status == "queued" and job.last_sent_at is None
        private_redis.start()
        done = wait_for(lambda: GenerationJob.objects.get(pk=job.pk).status == "succeeded",
                        timeout=90, message="the job to run once the broker is back")
        assert done
        assert Asset.objects.filter(job_id=job.pk).count() == 1
    finally:
        worker.stop()


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
