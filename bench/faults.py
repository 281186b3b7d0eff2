"""Faults with real workers on PostgreSQL + Redis: does every job and signature complete
exactly once? Prints one row per fault.

    CELERY_BROKER_URL=redis://127.0.0.1:6379/12 .venv/bin/python bench/faults.py
    .venv/bin/python bench/faults.py --sigkill 3 --sigterm 2 --only sigkill sigterm

Loopback only. It uses DATABASE_URL's server with a database of its own (``assay_faults``,
recreated each run, migrated) and CELERY_BROKER_URL (default Redis database 12; its queues
are purged: give it a database of its own). The broker outages use a private
redis-server on a free loopback port, stopped and started by the script. Django runs
with ``assay.test_settings`` (the dummy generator's test-only plugin group: a slow,
deterministic generator, no models); media, signing credentials and every process's log
live under var/faults/.

The scenarios are the ones the tests run once each (tests/fixtures/faults.py): a fleet of
one Celery beat and two solo workers, 3 s leases, sweepers every second. Per fault:

- SIGKILL mid-job: the worker running a 4 s job is killed; the other runs it again.
- SIGTERM mid-job: Celery's warm shutdown finishes the job, then the worker exits.
- broker down at submit: the job waits queued; the broker returns; it runs.
- broker down mid-job: the job finishes without a broker; the review sweeper queues its
  checks once it is back; approved during a second outage, it is signed by the
  provenance sweeper.
- burst: 50 jobs at once (batched), 3 SIGKILLs alternating between the two workers.
- SIGKILL while signing: the worker holding a signature it made but has not stored is
  killed (the signature is held 2 s by tests/fixtures/slow_signing.py); and again with
  the signed files written but not their row.

Columns: trials; jobs or signatures expected; completed exactly once (one asset, usage
record and ``succeeded`` event per job, a ``started`` event per attempt; one signed file
and signing event per approval, joined to the approval's correlation id); duplicates
(more than once); lost (never); median recovery seconds (from the kill or signal, or from
the broker's return, until the work it held was done); stray files (signed files left
in storage that no signed copy refers to: garbage, not signatures). Then the audit chain
is sealed and verified. Bounded: every wait has a timeout, and no trial starts once
--budget seconds have passed. Exits 1 unless every row is exactly once with nothing else
wrong (then listed under the table) and the audit chain is intact.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the shared scenarios live in tests/fixtures

from tests.fixtures.databases import fresh_database  # noqa: E402

FAULTS_DB = "assay_faults"
VAR = REPO / "var" / "faults"


def _settings_env() -> dict[str, str]:
    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/assay")
    if not base.startswith("postgres"):
        sys.exit("bench/faults.py needs PostgreSQL: set DATABASE_URL=postgresql://…")
    parsed = urlparse(base)
    if parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("bench/faults.py runs on loopback only: DATABASE_URL must be 127.0.0.1")
    broker = os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/12"
    if not broker.startswith("redis://") or urlparse(broker).hostname not in (
            "127.0.0.1", "localhost"):
        sys.exit("bench/faults.py needs a loopback Redis: CELERY_BROKER_URL=redis://127.0.0.1…")
    return {
        "DATABASE_URL": parsed._replace(path=f"/{FAULTS_DB}").geturl(),
        "CELERY_BROKER_URL": broker,
        "DJANGO_SETTINGS_MODULE": "assay.test_settings",
        "ASSAY_VAR_DIR": str(VAR),
        "MEDIA_ROOT": str(VAR / "media"),
        "ASSAY_SIGNING_DIR": str(VAR / "signing"),
        "ASSAY_DB_POOL_MAX_SIZE": "0",
        "DEBUG": "false",
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sigkill", type=int, default=20, help="SIGKILL trials.")
    parser.add_argument("--sigterm", type=int, default=10, help="SIGTERM trials.")
    parser.add_argument("--broker-submit", type=int, default=5,
                        help="Broker-down-at-submit trials.")
    parser.add_argument("--broker-mid", type=int, default=5, help="Broker-down-mid-job trials.")
    parser.add_argument("--burst", type=int, default=50, help="Jobs in the burst.")
    parser.add_argument("--burst-kills", type=int, default=3, help="Worker kills in the burst.")
    parser.add_argument("--signing", type=int, default=5, help="Kill-while-signing trials.")
    parser.add_argument("--approvals", type=int, default=4, help="Approvals per signing trial.")
    parser.add_argument("--only", nargs="*", default=None,
                        choices=("sigkill", "sigterm", "broker-submit", "broker-mid", "burst",
                                 "signing", "signing-files"), help="Run only these faults.")
    parser.add_argument("--budget", type=float, default=1800,
                        help="Seconds after which no new trial starts.")
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        sys.exit("bench/faults.py needs redis-server (for the broker outages)")

    env = _settings_env()
    os.environ.update(env)
    if VAR.exists():
        shutil.rmtree(VAR)
    (VAR / "media").mkdir(parents=True)
    fresh_database(env["DATABASE_URL"], FAULTS_DB)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from assay.celery import app
    from governance.provenance.credentials import init_dev_credentials
    from tests.fixtures import faults

    init_dev_credentials(Path(env["ASSAY_SIGNING_DIR"]))
    app.control.purge()
    world = faults.make_world()
    fleet_env = {**os.environ, **env, **faults.FAST_RECOVERY}
    started = time.monotonic()
    rows: list[faults.Outcome] = []

    def run(name: str, label: str, trials: int, per_trial: int,
            scenario: Callable[[faults.Fleet], faults.Outcome], *, unit: str = "jobs",
            fleet_args: tuple[str, ...] = (), **fleet_extra: str) -> None:
        if trials <= 0 or (args.only is not None and name not in args.only):
            return
        total = faults.Outcome(label, unit=unit)
        fleet = faults.Fleet({**fleet_env, **fleet_extra}, VAR / "logs" / name, args=fleet_args)
        try:
            fleet.start()
            for trial in range(trials):
                if time.monotonic() - started > args.budget:
                    total.problems.append(f"budget spent: {trials - trial} trials not run")
                    break
                try:
                    total.add(scenario(fleet))
                except Exception as exc:  # a trial that could not finish counts as lost
                    total.add(faults.Outcome(label, trials=1, expected=per_trial,
                                             lost=per_trial, problems=[
                                                 f"trial {trial + 1}: {exc!r}"[:3000]]))
                    traceback.print_exc()
                print(f"  {label}: trial {trial + 1}/{trials} done "
                      f"({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)
        finally:
            fleet.stop()
        total.fault = label
        rows.append(total)

    redis = faults.PrivateRedis(faults.free_port(), VAR)
    redis.start()
    try:
        run("sigkill", "SIGKILL mid-job", args.sigkill, 1,
            lambda fleet: faults.sigkill_mid_job(world, fleet))
        run("sigterm", "SIGTERM mid-job", args.sigterm, 1,
            lambda fleet: faults.sigterm_mid_job(world, fleet))
        run("broker-submit", "broker down at submit", args.broker_submit, 1,
            lambda fleet: faults.broker_down_at_submit(world, fleet, redis),
            CELERY_BROKER_URL=redis.url)
        run("broker-mid", "broker down mid-job", args.broker_mid, 1,
            lambda fleet: faults.broker_down_mid_job(world, fleet, redis),
            CELERY_BROKER_URL=redis.url)
        run("burst", f"{args.burst}-job burst, {args.burst_kills} kills", 1 if args.burst else 0,
            args.burst, lambda fleet: faults.burst_with_kills(world, fleet, jobs=args.burst,
                                                               kills=args.burst_kills))
        run("signing", "SIGKILL while signing", args.signing, args.approvals,
            lambda fleet: faults.kill_while_signing(world, fleet, approvals=args.approvals),
            unit="signatures", fleet_args=faults.SLOW_SIGNING, ASSAY_FAULTS_SIGN_DELAY="2",
            ASSAY_FAULTS_SIGN_HOLD="signature")
        run("signing-files", "SIGKILL, signed files stored", args.signing, args.approvals,
            lambda fleet: faults.kill_while_signing(world, fleet, approvals=args.approvals),
            unit="signatures", fleet_args=faults.SLOW_SIGNING, ASSAY_FAULTS_SIGN_DELAY="2",
            ASSAY_FAULTS_SIGN_HOLD="files")
    finally:
        redis.stop()
        app.control.purge()
    from assay.audit.verify import verify

    chain = verify()  # every event the faults left behind, sealed and chained
    _print(rows, time.monotonic() - started, env)
    print(f"\n{chain.summary()}")
    return 0 if rows and all(r.clean for r in rows) and chain.ok else 1


def _print(rows: list[Any], wall: float, env: dict[str, str]) -> None:
    print(f"Faults with real Celery workers (2 solo workers + beat, 3 s leases, sweepers every "
          f"1 s) on PostgreSQL ({FAULTS_DB}) + Redis ({env['CELERY_BROKER_URL']}; outages on "
          f"a private redis-server); {wall:.0f} s in all")
    header = (f"{'fault':<28} {'trials':>6} {'expected':>14} {'exactly once':>12} "
              f"{'duplicates':>10} {'lost':>5} {'median recovery s':>17} {'stray files':>11}")
    print(header)
    print("-" * len(header))
    for r in rows:
        median = r.median_recovery
        print(f"{r.fault:<28} {r.trials:>6} {f'{r.expected} {r.unit}':>14} {r.once:>12} "
              f"{r.duplicates:>10} {r.lost:>5} "
              f"{'-' if median is None else f'{median:.1f}':>17} "
              f"{r.stray_files if r.unit == 'signatures' else '-':>11}")
    problems = [(r.fault, p) for r in rows for p in r.problems]
    if problems:
        print("\nProblems:")
        for fault, problem in problems:
            print(f"- {fault}: {problem[:1500]}")


if __name__ == "__main__":
    sys.exit(main())
