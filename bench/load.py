"""50 concurrent generation submissions through gunicorn on PostgreSQL: errors, latency and
database connections, with the connection pool on and off, side by side.

    .venv/bin/python bench/load.py [--requests 50] [--workers 2] [--threads 4]

Needs PostgreSQL: it uses DATABASE_URL's server with a database of its own (``assay_load``,
recreated each run). The broker is CELERY_BROKER_URL when that is a Redis URL (use a
Redis database of its own: the queued tasks are purged at the end), else the embedded
folder broker under var/load. No worker runs: the jobs stay queued; what is measured is
the web process (rate limits are raised for the run: one token sends everything). For
each configuration it starts one real gunicorn (assay.gunicorn_conf) on a loopback port,
fires all submissions at once from one thread each (stdlib HTTP, bounded by --timeout),
samples pg_stat_activity every 20 ms, and prints the status counts, 5xx count,
p50/p95/max latency and the peak number of connections to the load database. Exits 1 if
any request failed (5xx or no answer): the target is 0.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the shared gunicorn launcher lives with the test fixtures

from tests.fixtures.databases import fresh_database  # noqa: E402
from tests.fixtures.servers import Gunicorn  # noqa: E402

LOAD_DB = "assay_load"
VAR = REPO / "var" / "load"


@dataclass
class Result:
    """One configuration's figures."""

    name: str
    statuses: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    peak_connections: int = 0
    wall: float = 0.0
    bound: str = ""

    @property
    def failed(self) -> int:
        """5xx answers and requests that got no answer at all."""
        return sum(n for code, n in self.statuses.items() if not code[0].isdigit()
                   or code.startswith("5"))


def _env(database_url: str, broker: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSAY_", "SECURE_"))}
    env.update({
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker,
        "ASSAY_VAR_DIR": str(VAR),
        "DJANGO_SETTINGS_MODULE": "assay.settings",
        "DEBUG": "false",
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(REPO / "platform"),
        # One token sends every submission: the rate limits would answer most of them 429
        # before they reach the database, and the database is what is measured here.
        "ASSAY_THROTTLE_USER": "100000/min",
        "ASSAY_THROTTLE_EXPENSIVE": "100000/min",
    })
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    if done.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _prepare(env: dict[str, str]) -> str:
    """A fresh database with the demo data, and a write token for the demo creator."""
    fresh_database(env["DATABASE_URL"], LOAD_DB)
    _manage(env, "migrate", "--noinput")
    _manage(env, "bootstrap_demo")
    return _manage(env, "issue_token", "creator", "--name", "load", "--days", "1").strip()


class Sampler(threading.Thread):
    """Peak connections to the load database, from a connection to another database."""

    def __init__(self, admin_url: str) -> None:
        super().__init__(daemon=True)
        self.admin_url = admin_url
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            while not self.stop.is_set():
                (count,) = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                                        (LOAD_DB,)).fetchone()
                self.peak = max(self.peak, count)
                time.sleep(0.02)


def _fire(base: str, token: str, count: int, timeout: float, result: Result) -> None:
    """All submissions at once, one thread each, released together by a barrier."""
    url = f"{base}/api/v1/generations/"
    barrier = threading.Barrier(count)
    lock = threading.Lock()

    def one(i: int) -> None:
        body = json.dumps({"project": "spring-launch", "template": "product-intro",
                           "label": "latest", "variables": {"product": f"Kite {i}"},
                           "parameters": {"seed": i}}).encode()
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        barrier.wait()
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
                code = str(response.status)
        except urllib.error.HTTPError as exc:
            code = str(exc.code)
        except OSError as exc:
            code = type(exc).__name__
        elapsed = time.perf_counter() - started
        with lock:
            result.statuses[code] += 1
            result.latencies.append(elapsed)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 5)
    result.wall = time.perf_counter() - started


def _run(name: str, env: dict[str, str], admin_url: str, token: str,
         args: argparse.Namespace) -> Result:
    result = Result(name)
    try:
        server = Gunicorn(env, VAR / f"gunicorn-{name.split()[0]}.log")
    except RuntimeError as exc:
        sys.exit(str(exc))
    sampler = Sampler(admin_url)
    sampler.start()
    try:
        _fire(server.base, token, args.requests, args.timeout, result)
    finally:
        time.sleep(0.1)
        sampler.stop.set()
        sampler.join(5)
        server.stop()
    result.peak_connections = sampler.peak
    return result


def _purge(env: dict[str, str]) -> None:
    """Drop the tasks this run queued (nothing will run them)."""
    if env["CELERY_BROKER_URL"].startswith("redis://"):
        subprocess.run([sys.executable, "-m", "celery", "-A", "assay.celery", "purge", "-f",
                        "-Q", "cpu,gpu.audio,gpu.image,gpu.text,gpu.video"], cwd=REPO, env=env,
                       capture_output=True, timeout=60)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) < 2:
        return ordered[0] if ordered else float("nan")
    return statistics.quantiles(ordered, n=100, method="inclusive")[q - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=50, help="Concurrent submissions.")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers.")
    parser.add_argument("--threads", type=int, default=4, help="Threads per worker.")
    parser.add_argument("--pool", type=int, default=4, help="Pool size per worker.")
    parser.add_argument("--timeout", type=float, default=60.0, help="Per request, seconds.")
    args = parser.parse_args()
    if not 1 <= args.requests <= 200:
        sys.exit("--requests must be between 1 and 200 (the server allows 100 connections)")

    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/assay")
    if not base.startswith("postgres"):
        sys.exit("bench/load.py needs PostgreSQL: set DATABASE_URL=postgresql://…")
    database_url = urlparse(base)._replace(path=f"/{LOAD_DB}").geturl()
    admin_url = urlparse(base)._replace(path="/postgres").geturl()
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://"):
        broker = "filesystem://"
    VAR.mkdir(parents=True, exist_ok=True)
    env = _env(database_url, broker)
    env.update({"ASSAY_WEB_WORKERS": str(args.workers), "ASSAY_WEB_THREADS": str(args.threads),
                "ASSAY_WEB_ACCESS_LOG": "false"})
    token = _prepare(env)

    configs = [
        (f"pool on (max {args.pool}/worker)",
         {"ASSAY_DB_POOL_MAX_SIZE": str(args.pool), "ASSAY_DB_POOL_MIN_SIZE": "1"},
         f"{args.workers} x {args.pool}"),
        ("pool off (CONN_MAX_AGE 60)", {"ASSAY_DB_POOL_MAX_SIZE": "0"},
         f"{args.workers} x {args.threads}"),
    ]
    results = []
    try:
        for name, extra, bound in configs:
            result = _run(name, {**env, **extra}, admin_url, token, args)
            result.bound = bound
            results.append(result)
    finally:
        _purge(env)

    print(f"{args.requests} concurrent POST /api/v1/generations/ through gunicorn "
          f"({args.workers} workers x {args.threads} threads), PostgreSQL, broker "
          f"{broker.split('://')[0]}")
    print(f"{'configuration':<28} {'statuses':<22} {'5xx/none':>8} {'p50 ms':>8} "
          f"{'p95 ms':>8} {'max ms':>8} {'wall s':>7} {'peak conns':>10} {'bound':>7}")
    for r in results:
        statuses = ",".join(f"{code}:{n}" for code, n in sorted(r.statuses.items()))
        print(f"{r.name:<28} {statuses:<22} {r.failed:>8} "
              f"{1000 * _percentile(r.latencies, 50):>8.0f} "
              f"{1000 * _percentile(r.latencies, 95):>8.0f} {1000 * max(r.latencies):>8.0f} "
              f"{r.wall:>7.2f} {r.peak_connections:>10} {r.bound:>7}")
    return 1 if any(r.failed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
