"""`manage.py serve_embedded`: the web server and a Celery worker together, for `make run`.

One command a newcomer runs: it starts a worker (with the sweeper's beat embedded) on
every queue, then the web server, prints the URL, and stops both on Ctrl-C. The web server
is gunicorn with the production config (assay.gunicorn_conf), DEBUG off as everywhere:
WhiteNoise serves the static files, so no development server is involved.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

#: Every queue the code sends to (tests/generation/test_queues.py keeps it equal to
#: assay.generation.queues.defined_queues, which this base-layer command cannot import).
QUEUES = "cpu,gpu.audio,gpu.image,gpu.text,gpu.video"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Run the web server and one Celery worker (all queues, with beat) until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        """Address to listen on, and how many web workers."""
        parser.add_argument("--addr", default="127.0.0.1:8000", help="host:port for the web.")
        parser.add_argument(
            "--workers", type=int, default=1,
            help="gunicorn workers; one keeps the embedded mode's memory cache (rate limits) "
                 "in one process and SQLite to one writer process.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Start both, watch them, and stop both when either ends or on Ctrl-C."""
        # Ctrl-C and a supervisor's SIGTERM both stop everything, even where the shell
        # started this process with SIGINT ignored (as background jobs are).
        signal.signal(signal.SIGINT, _interrupt)
        signal.signal(signal.SIGTERM, _interrupt)
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        # gunicorn imports assay.gunicorn_conf itself: the source root, installed or not.
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(settings.BASE_DIR / "platform"), env.get("PYTHONPATH")) if p)
        beat_file = str(settings.VAR_DIR / "celerybeat-schedule")
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "assay.celery", "worker", "-B", "-s",
             beat_file, "--pool=solo", "-Q", QUEUES, "--loglevel=INFO", "--without-gossip",
             "--without-mingle", "-n", "embedded@%h"], env=env, start_new_session=True)
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:assay.gunicorn_conf", "--bind",
             options["addr"], "--workers", str(options["workers"])],
            env=env, start_new_session=True)
        host, _, port = options["addr"].rpartition(":")
        self.stdout.write(self.style.SUCCESS(
            f"\nAssay is starting at http://{host or '127.0.0.1'}:{port}/  (Ctrl-C stops "
            "the web server and the worker)\n"))
        children = (worker, web)
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            failed = [c for c in children if c.poll() not in (None, 0)]
            if failed:
                self.stderr.write("A process stopped unexpectedly; stopping the other.")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            for child in children:
                if child.poll() is None:
                    os.killpg(child.pid, signal.SIGTERM)
            # The worker may finish the job in hand first (ASSAY_WORKER_DRAIN_SECONDS).
            for child in children:
                try:
                    child.wait(timeout=settings.ASSAY_WORKER_DRAIN_SECONDS + 20)
                except subprocess.TimeoutExpired:
                    os.killpg(child.pid, signal.SIGKILL)
