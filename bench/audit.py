"""The audit log's costs, measured side by side in one run (printed, never asserted).

    .venv/bin/python bench/audit.py [--writers 8] [--per-writer 400] [--events 1000000]

Needs PostgreSQL: it uses DATABASE_URL's server with a database of its own
(``assay_bench_audit``, recreated each run).

(a) Appends: ``--writers`` processes each commit one event per transaction through
    ``record()`` (with the after-commit sealer running, as in production), against the
    same processes inserting the same rows through the ORM into ``bench_plain_event``, a
    plain table of identical shape (``LIKE audit_auditevent INCLUDING ALL``: same columns
    and indexes, no triggers, never sealed). Rounds alternate; the ratio is chained/plain.
    Then the time to seal what the run left unsealed, and the sealing rate on a backlog.
(b) Verification throughput (``verify()``, the PostgreSQL windowed check; and the
    portable Python one) against raw SHA-256 over the same rows' canonical bytes, built
    beforehand and hashed in a tight loop.
(c) ``GET /api/v1/audit/events/`` p95 latency with filters at 1k events and at
    ``--events`` events (made with INSERT … SELECT generate_series, then sealed).
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "platform"))
sys.path.insert(0, str(REPO))

from tests.fixtures.databases import fresh_database  # noqa: E402

BENCH_DB = "assay_bench_audit"
ACTIONS = ("studio.generation.submitted", "studio.generation.started",
           "studio.generation.succeeded", "studio.prompt_version.created",
           "review.decision.approved", "accounts.user.logged_in", "studio.asset.created",
           "review.comment.added", "studio.prompt_label.moved", "generation.model.registered")


def _env() -> dict[str, str]:
    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/assay")
    if not base.startswith("postgres"):
        sys.exit("bench/audit.py needs PostgreSQL: set DATABASE_URL=postgresql://…")
    var = REPO / "var" / "bench-audit"
    return {
        "DATABASE_URL": urlparse(base)._replace(path=f"/{BENCH_DB}").geturl(),
        "ASSAY_VAR_DIR": str(var),
        "ASSAY_AUDIT_CHECKPOINT_DIR": str(var / "checkpoints"),
        "DJANGO_SETTINGS_MODULE": "assay.settings",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "testserver",  # the in-process API client's host name
        "PYTHONUNBUFFERED": "1",
    }


def _sql(statement: str, params: list[object] | None = None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.fetchall() if cursor.description else []


# --- (a) appends --------------------------------------------------------------------------

def _plain_model() -> type:
    """An ORM model over bench_plain_event with AuditEvent's own fields (cloned)."""
    from django.db import models

    from assay.audit.models import AuditEvent

    attrs: dict[str, object] = {f.name: f.clone() for f in AuditEvent._meta.local_fields}
    attrs["__module__"] = __name__
    attrs["Meta"] = type("Meta", (), {"app_label": "audit", "db_table": "bench_plain_event",
                                      "managed": False})
    return type("BenchPlainEvent", (models.Model,), attrs)


def _writer(kind: str, writer: int, count: int, barrier: object, out: object) -> None:
    import django

    django.setup()
    from django.db import connections, transaction

    from assay.audit.context import Actor, audit_context
    from assay.audit.services import record

    plain = _plain_model() if kind == "plain" else None
    actor = Actor.system(f"bench-writer-{writer}")
    barrier.wait()  # type: ignore[attr-defined]
    started = time.perf_counter()
    with audit_context(actor=actor, correlation_id=f"bench-{kind}-{writer}"):
        for i in range(count):
            data = {"writer": writer, "i": i, "parameters": {"seed": i, "steps": 20}}
            with transaction.atomic():
                if plain is None:
                    record("studio.generation.submitted", project_id=1, data=data)
                else:
                    plain.objects.create(
                        action="studio.generation.submitted", actor_kind=actor.kind,
                        actor_id=actor.id, actor_display=actor.display, actor_user_id=None,
                        target_type="", target_id="", target_display="", project_id=1,
                        correlation_id=f"bench-{kind}-{writer}", ip=None, user_agent="",
                        data=data, reason="")
    out.put((started, time.perf_counter(), count))  # type: ignore[attr-defined]
    connections.close_all()


def _append_round(kind: str, writers: int, per_writer: int) -> float:
    from django.db import connections

    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(writers), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(kind, w, per_writer, barrier, out))
             for w in range(writers)]
    for p in procs:
        p.start()
    spans = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    wall = max(s[1] for s in spans) - min(s[0] for s in spans)
    return sum(s[2] for s in spans) / wall


def bench_appends(writers: int, per_writer: int, rounds: int) -> None:
    from assay.audit.chain import seal
    from assay.audit.models import AuditEvent

    _sql("CREATE TABLE bench_plain_event (LIKE audit_auditevent INCLUDING ALL)")
    print(f"\n== (a) appends: {writers} writer processes, one event per transaction, "
          f"{per_writer} each per round, {rounds} rounds of each kind (alternating)")
    rates: dict[str, list[float]] = {"plain": [], "chained": []}
    for _ in range(rounds):
        for kind in ("plain", "chained"):
            rates[kind].append(_append_round(kind, writers, per_writer))
    plain, chained = statistics.median(rates["plain"]), statistics.median(rates["chained"])
    print(f"plain inserts (bench_plain_event)    {plain:8.0f} events/s   rounds: "
          + ", ".join(f"{r:.0f}" for r in rates["plain"]))
    print(f"record() + after-commit sealing      {chained:8.0f} events/s   rounds: "
          + ", ".join(f"{r:.0f}" for r in rates["chained"]))
    print(f"ratio chained / plain                {chained / plain:8.2f}x   (target >= 0.8x)")
    left = AuditEvent.objects.filter(seq__isnull=True).count()
    started = time.perf_counter()
    sealed = seal(wait=True)
    print(f"left unsealed at the end of the run  {left:8d} events, sealed in "
          f"{time.perf_counter() - started:.2f} s ({sealed} sealed)")
    total = AuditEvent.objects.count()
    backlog = 50_000
    _generate(total + 1, total + backlog, 1, None)
    started = time.perf_counter()
    sealed = seal(wait=True)
    took = time.perf_counter() - started
    print(f"sealing a backlog of {sealed} events     {took:8.2f} s = {sealed / took:.0f} "
          "events/s")


# --- bulk events --------------------------------------------------------------------------

def _generate(first: int, last: int, project_id: int, user_id: int | None,
              chunk: int = 100_000) -> None:
    """Events ``first``..``last`` with INSERT … SELECT generate_series (unsealed)."""
    actions = "ARRAY[" + ",".join(f"'{a}'" for a in ACTIONS) + "]"
    for start in range(first, last + 1, chunk):
        end = min(start + chunk - 1, last)
        _sql(f"""
            INSERT INTO audit_auditevent (created_at, action, actor_kind, actor_id,
                actor_display, actor_user_id, target_type, target_id, target_display,
                project_id, correlation_id, ip, user_agent, data, reason)
            SELECT now() - ((%s - g) || ' ms')::interval,
                ({actions})[1 + g %% {len(ACTIONS)}],
                'user', (CASE WHEN g %% 50 = 0 THEN %s ELSE 100000 + g %% 50 END)::text,
                'user' || (g %% 50),
                CASE WHEN g %% 50 = 0 THEN %s ELSE 100000 + g %% 50 END,
                'generation.generationjob', md5(g::text), 'Job ' || g,
                CASE WHEN g %% 20 = 0 THEN %s ELSE 1000 + g %% 20 END,
                md5((g / 3)::text), ('10.0.0.' || (g %% 250))::inet, 'Mozilla/5.0 (bench)',
                '{{"generator":"text-transformers","parameters":{{"seed":' || g ||
                ',"temperature":0.7}},"prompt_version":' || (g %% 100) || '}}', ''
            FROM generate_series(%s, %s) g""",
             [last, user_id or 0, user_id, project_id, start, end])


# --- (c) list latency ---------------------------------------------------------------------

def _p95(client: object, queries: list[str], n: int) -> dict[str, float]:
    out = {}
    for query in queries:
        for _ in range(10):  # warm up
            client.get(f"/api/v1/audit/events/?{query}")  # type: ignore[attr-defined]
        times = []
        for _ in range(n):
            started = time.perf_counter()
            response = client.get(f"/api/v1/audit/events/?{query}")  # type: ignore[attr-defined]
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.content
        out[query] = statistics.quantiles(times, n=20)[18] * 1000
    return out


# --- (b) verification ---------------------------------------------------------------------

def bench_verify(events: int) -> None:
    from django.db import transaction

    from assay.audit.chain import canonical_rows
    from assay.audit.models import AuditEvent
    from assay.audit.verify import scan_chain, verify

    print(f"\n== (b) verification over {events} sealed events")
    _sql("VACUUM ANALYZE audit_auditevent")
    started = time.perf_counter()
    result = verify(seal_first=False)
    took = time.perf_counter() - started
    assert result.ok, result.summary()
    rate = result.events / took
    raw_time, rows, window = 0.0, 0, 100_000
    for lo in range(1, result.head_seq + 1, window):
        with transaction.atomic():
            batch = [(prev + canon).encode("utf-8") for _, _, prev, _, canon in canonical_rows(
                AuditEvent.objects.filter(seq__gte=lo, seq__lt=lo + window).order_by("seq"))]
        began = time.perf_counter()
        for item in batch:
            hashlib.sha256(item).hexdigest()
        raw_time += time.perf_counter() - began
        rows += len(batch)
    raw = rows / raw_time
    sample = min(200_000, result.head_seq)
    with transaction.atomic():
        began = time.perf_counter()
        count, *_ = scan_chain(canonical_rows(
            AuditEvent.objects.filter(seq__lte=sample).order_by("seq"), portable=True))
        portable = count / (time.perf_counter() - began)
    print(f"verify() (windowed SQL, {os.cpu_count()} CPUs)   {rate:10.0f} events/s "
          f"({took:.2f} s)")
    print(f"verify(portable=True), first {sample}   {portable:10.0f} events/s")
    print(f"raw SHA-256 over the canonical bytes  {raw:10.0f} rows/s")
    print(f"ratio verify / raw                    {rate / raw:10.2f}x   (target >= 0.3x); "
          f"portable {portable / raw:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--per-writer", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    env = _env()
    os.environ.update(env)
    fresh_database(env["DATABASE_URL"], BENCH_DB)
    import django

    django.setup()
    from django.core.management import call_command
    from rest_framework.test import APIClient

    from assay.accounts.choices import GlobalRole
    from assay.accounts.models import Team, User
    from assay.audit.chain import seal
    from assay.audit.models import AuditEvent
    from assay.studio.models import Project

    call_command("migrate", verbosity=0)
    team = Team.objects.create(name="Bench", slug="bench")
    project = Project.objects.create(team=team, name="Bench", slug="bench")
    auditor = User.objects.create_user("bench-auditor", password="x",
                                       global_role=GlobalRole.AUDITOR)
    client = APIClient()
    client.force_authenticate(auditor)
    queries = ["action=studio.generation.submitted", "project=bench", "actor=bench-auditor",
               "action=review.*", "action=studio.generation.submitted&project=bench"]

    print(f"== (c) part 1: {len(queries)} filters, p95 of {args.requests} requests at 1k "
          "events")
    _generate(1, 1000, project.pk, auditor.pk)
    seal(wait=True)
    _sql("ANALYZE audit_auditevent")
    small = _p95(client, queries, args.requests)

    bench_appends(args.writers, args.per_writer, args.rounds)

    have = AuditEvent.objects.count()
    print(f"\n== (c) part 2: growing the log to {args.events} events")
    started = time.perf_counter()
    _generate(have + 1, args.events, project.pk, auditor.pk)
    made = time.perf_counter() - started
    started = time.perf_counter()
    sealed = seal(wait=True)
    took = time.perf_counter() - started
    print(f"inserted {args.events - have} events in {made:.1f} s; sealed {sealed} in "
          f"{took:.1f} s ({sealed / took:.0f} events/s)")
    _sql("VACUUM ANALYZE audit_auditevent")
    large = _p95(client, queries, args.requests)
    print(f"{'filter':45} {'p95 at 1k':>10} {'p95 at ' + str(args.events):>14} {'ratio':>7}")
    for query in queries:
        print(f"{query:45} {small[query]:8.2f}ms {large[query]:12.2f}ms "
              f"{large[query] / small[query]:6.2f}x")
    worst = max(large[q] / small[q] for q in queries)
    print(f"worst ratio {worst:.2f}x (target <= 1.5x)")

    bench_verify(AuditEvent.objects.filter(seq__isnull=False).count())


if __name__ == "__main__":
    main()
