"""What KEDA's postgresql trigger costs the database, per poll (printed, never asserted).

    .venv/bin/python bench/queue_depth.py [--finished 500000] [--active 200] [--polls 200]

Needs PostgreSQL: it uses DATABASE_URL's server with a database of its own
(``assay_bench_queue``, recreated and migrated each run). The job table gets ``--finished``
finished jobs and ``--active`` queued or running ones spread over three queues; then the
exact query a ScaledObject runs (``assay.generation.scaler.depth_query``) is timed with the
partial index ``job_active_by_queue`` and, in the same run on the same rows, with that
index dropped (the job table's status indexes then serve it), and with every index on
status dropped (the plain count on a bare table). All three answer the same number; the
ratios are against the partial index.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "platform"))
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402

from tests.fixtures.databases import fresh_database  # noqa: E402

BENCH_DB = "assay_bench_queue"
QUEUES = ("cpu", "gpu.text", "gpu.image")


def _migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "assay.settings",
           "ASSAY_VAR_DIR": str(REPO / "var" / "bench-queue")}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO,
                   env=env, check=True, timeout=600)


def _fill(conn: psycopg.Connection, finished: int, active: int) -> None:
    """Rows with only what the count reads filled in realistically; the rest minimal."""
    common = """
        INSERT INTO studio_generationjob (id, project_id, prompt_version_id, variables,
            rendered_prompt, modality, generator_id, generator_version, plugin_name,
            model_ref, parameters, seed, queue, batch_key, status, progress,
            cancel_requested, error, attempts, claim_token, claimed_by, requested_by_id,
            correlation_id, queued_at, usage)
        SELECT gen_random_uuid(), 1, 1, '{}', repeat('prompt ', 40), 'text', 'g', '1', '',
            '{}', '{}', i, (%s::text[])[1 + i %% 3], '', %s, 100, false, '', 1, '', '', 1, 'bench',
            now() - (i || ' seconds')::interval, '{}'
        FROM generate_series(1, %s) AS i"""
    conn.execute(common, [list(QUEUES), "succeeded", finished])
    conn.execute(common, [list(QUEUES), "queued", active // 2])
    conn.execute(common, [list(QUEUES), "running", active - active // 2])
    conn.execute("ANALYZE studio_generationjob")


def _time(conn: psycopg.Connection, query: str, polls: int) -> tuple[float, int]:
    """Median milliseconds per poll, and the answer."""
    answer = int(conn.execute(query).fetchone()[0])
    samples = []
    for _ in range(polls):
        started = time.perf_counter()
        conn.execute(query).fetchone()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--finished", type=int, default=500_000)
    parser.add_argument("--active", type=int, default=200)
    parser.add_argument("--polls", type=int, default=200)
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/assay")
    if not base.startswith("postgres"):
        sys.exit("bench/queue_depth.py needs PostgreSQL: set DATABASE_URL=postgresql://…")
    url = fresh_database(base, BENCH_DB)
    _migrate(url)
    os.environ.update({"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "assay.settings",
                       "ASSAY_VAR_DIR": str(REPO / "var" / "bench-queue")})
    import django

    django.setup()
    from assay.generation.scaler import depth_query

    query = depth_query("gpu.text")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # no FK checks while filling
        _fill(conn, args.finished, args.active)
        with_index, answer = _time(conn, query, args.polls)
        sizes = dict(conn.execute(
            "SELECT indexname, pg_relation_size(indexname::regclass) FROM pg_indexes WHERE "
            "tablename = 'studio_generationjob' AND indexdef LIKE '%%status%%'").fetchall())
        conn.execute("DROP INDEX job_active_by_queue")
        conn.execute("ANALYZE studio_generationjob")
        status_only, same = _time(conn, query, args.polls)
        for (name,) in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = "
                                    "'studio_generationjob' AND indexdef LIKE '%%status%%'"
                                    ).fetchall():
            conn.execute(f'DROP INDEX "{name}"')
        conn.execute("ANALYZE studio_generationjob")
        without_index, bare = _time(conn, query, args.polls)
    assert answer == same == bare, (answer, same, bare)
    print(f"job table: {args.finished:,} finished + {args.active:,} unfinished jobs, "
          f"{len(QUEUES)} queues; KEDA query for gpu.text answers {answer}")
    print(f"{'per poll (median of ' + str(args.polls) + ')':<34}{'ms':>10}")
    print(f"{'  view + partial index':<34}{with_index:>10.3f}")
    print(f"{'  the status indexes only':<34}{status_only:>10.3f}")
    print(f"{'  no index on status (seq scan)':<34}{without_index:>10.3f}")
    partial = sizes.pop("job_active_by_queue")
    print(f"index sizes: partial {partial / 1024:,.0f} KiB; the status indexes "
          + ", ".join(f"{size / 1024:,.0f} KiB" for size in sorted(sizes.values())))
    print(f"ratios: status indexes/partial {status_only / with_index:.1f}x, "
          f"seq scan/partial {without_index / with_index:.1f}x")


if __name__ == "__main__":
    main()
