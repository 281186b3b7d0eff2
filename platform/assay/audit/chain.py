"""The hash chain: canonical records, the hash rule, and the one sealer.

Writers insert events without chain fields, concurrently, as fast as plain inserts. The
sealer then gives the unsealed rows visible to it, in id order, the next gap-free
sequence numbers and chains their hashes::

    hash(n) = SHA-256 hex of (hash(n-1) + canonical(n)),  hash(0) = "0" * 64

``canonical(n)`` is the event as JSON with sorted keys, no whitespace, UTF-8, times in UTC
ISO 8601 with microseconds (``2026-01-31T09:00:00.000000Z``), and ``data`` as stored
(already canonical text, see assay.audit.fields). Only one sealer runs at a time: a
PostgreSQL transaction-scoped advisory lock (others skip, or wait when asked), on SQLite
the write transaction itself.

There are two implementations of ``canonical``: :func:`canonical` in Python (the
reference, used on SQLite, by ``--portable`` verification and for exported rows) and
:func:`canonical_sql` for PostgreSQL, which builds the same bytes inside the database so
sealing and verifying do not ship every column to Python. A test holds them equal on
awkward values (quotes, control characters, non-ASCII, IPv6, NULLs).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json.encoder
import logging
import threading
import time
from collections.abc import Iterator

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.utils import timezone

from assay.audit.models import AuditEvent

log = logging.getLogger(__name__)

GENESIS = "0" * 64
#: Key of the PostgreSQL advisory lock that only the sealer takes ("ASSAYSEA").
SEAL_LOCK_KEY = 0x4153534159534541
SEAL_BATCH = 5000
TABLE = AuditEvent._meta.db_table

#: The columns the canonical record is made of, in the order :func:`canonical` takes them.
RAW_COLUMNS = ("seq", "created_at", "action", "actor_kind", "actor_id", "actor_display",
               "actor_user_id", "target_type", "target_id", "target_display", "project_id",
               "correlation_id", "ip", "user_agent", "data_text", "reason")

_quote = json.encoder.encode_basestring  # the C encoder json.dumps(ensure_ascii=False) uses


def json_str(value: str | None) -> str:
    """A JSON string exactly as ``json.dumps(ensure_ascii=False)`` writes it (null for None)."""
    return "null" if value is None else _quote(value)


def json_int(value: int | None) -> str:
    """A JSON integer (null for None)."""
    return "null" if value is None else str(int(value))


def utc_iso(value: dt.datetime) -> str:
    """A timestamp as the chain writes it: UTC, microseconds, a trailing Z."""
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(seq: int, created_at: dt.datetime | str, action: str, actor_kind: str,
              actor_id: str, actor_display: str, actor_user_id: int | None, target_type: str,
              target_id: str, target_display: str, project_id: int | None,
              correlation_id: str, ip: str | None, user_agent: str, data_text: str | None,
              reason: str) -> str:
    """The canonical JSON of one event (the reference implementation).

    Equal to ``json.dumps(record, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)`` of the nested record, built by hand because it runs once per
    row when sealing and verifying. ``data_text`` is the stored canonical text of
    ``data``; ``created_at`` may already be the ISO string (from an export).
    """
    when = created_at if isinstance(created_at, str) else utc_iso(created_at)
    return "".join((
        '{"action":', json_str(action),
        ',"actor":{"display":', json_str(actor_display), ',"id":', json_str(actor_id),
        ',"kind":', json_str(actor_kind), ',"user_id":', json_int(actor_user_id),
        '},"correlation_id":', json_str(correlation_id),
        ',"data":', "null" if data_text is None else data_text,
        ',"ip":', json_str(ip), ',"project_id":', json_int(project_id),
        ',"reason":', json_str(reason),
        ',"seq":', json_int(seq),
        ',"target":{"display":', json_str(target_display), ',"id":', json_str(target_id),
        ',"type":', json_str(target_type),
        '},"time":"', when, '","user_agent":', json_str(user_agent), "}",
    ))


def event_hash(prev_hash: str, canonical_text: str) -> str:
    """SHA-256 hex of the previous hash followed by this event's canonical bytes."""
    return hashlib.sha256((prev_hash + canonical_text).encode("utf-8")).hexdigest()


def canonical_sql(alias: str, seq: str | None = None) -> str:
    """PostgreSQL expression for :func:`canonical` over the row ``alias``.

    ``to_json(text)`` escapes exactly as Python's JSON encoder does with
    ``ensure_ascii=False`` (``\\"``, ``\\\\``, ``\\b\\f\\n\\r\\t``, other control characters as
    lower-case ``\\u00XX``); ``host(inet)`` prints an address as Django reads it back.
    """
    a = alias
    seq_expr = seq or f"{a}.seq"

    def s(col: str) -> str:
        return f"coalesce(to_json({a}.{col}::text)::text, 'null')"

    def i(expr: str) -> str:
        return f"coalesce(({expr})::text, 'null')"

    parts = [
        "'{\"action\":'", s("action"),
        "',\"actor\":{\"display\":'", s("actor_display"), "',\"id\":'", s("actor_id"),
        "',\"kind\":'", s("actor_kind"), "',\"user_id\":'", i(f"{a}.actor_user_id"),
        "'},\"correlation_id\":'", s("correlation_id"),
        "',\"data\":'", f"coalesce({a}.data, 'null')",
        "',\"ip\":'", f"coalesce(to_json(host({a}.ip))::text, 'null')",
        "',\"project_id\":'", i(f"{a}.project_id"), "',\"reason\":'", s("reason"),
        "',\"seq\":'", i(seq_expr),
        "',\"target\":{\"display\":'", s("target_display"), "',\"id\":'", s("target_id"),
        "',\"type\":'", s("target_type"),
        "'},\"time\":\"'",
        f"to_char({a}.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
        "'\",\"user_agent\":'", s("user_agent"), "'}'",
    ]
    return "concat(" + ", ".join(parts) + ")"


def hash_sql(alias: str, canonical_expr: str) -> str:
    """PostgreSQL expression for :func:`event_hash` over the stored ``prev_hash``."""
    return (f"encode(sha256(convert_to(coalesce({alias}.prev_hash, '') || {canonical_expr}, "
            "'UTF8')), 'hex')")


def is_postgres(using: str = DEFAULT_DB_ALIAS) -> bool:
    """The fast paths (advisory lock, SQL canonical form, triggers) are PostgreSQL's."""
    return connections[using].vendor == "postgresql"


def raw_rows(queryset: models.QuerySet, *extra: str) -> models.QuerySet:
    """``values_list`` of id, prev_hash, hash and the canonical columns (``data`` as its
    stored text), then ``extra`` fields."""
    return queryset.annotate(data_text=Cast("data", models.TextField())).values_list(
        "id", "prev_hash", "hash", *RAW_COLUMNS, *extra)


def canonical_rows(queryset: models.QuerySet, *, portable: bool = False,
                   chunk_size: int = 2000) -> Iterator[tuple[int, int | None, str | None,
                                                             str | None, str]]:
    """Stream ``(id, seq, prev_hash, hash, canonical)`` for the queryset's events.

    On PostgreSQL the database builds the canonical text (unless ``portable``); otherwise
    the Python reference builds it from the raw columns. Rows come through a server-side
    cursor (``iterator(chunk_size)``), so memory stays flat whatever the range.
    """
    using = queryset.db
    if is_postgres(using) and not portable:
        expr = canonical_sql(f'"{TABLE}"')
        rows = queryset.annotate(canon=RawSQL(expr, ())).values_list(
            "id", "seq", "prev_hash", "hash", "canon")
        yield from rows.iterator(chunk_size=chunk_size)
        return
    for row in raw_rows(queryset).iterator(chunk_size=chunk_size):
        pk, prev_hash, stored_hash = row[0], row[1], row[2]
        yield pk, row[3], prev_hash, stored_hash, canonical(*row[3:])


# --- sealing ------------------------------------------------------------------------------

def _take_lock(using: str, wait: bool) -> bool:
    """The sealer's lock for the current transaction (PostgreSQL); SQLite's write
    transaction (BEGIN IMMEDIATE, or the first write) already excludes other sealers."""
    if not is_postgres(using):
        return True
    with connections[using].cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK_KEY])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SEAL_LOCK_KEY])
        return bool(cursor.fetchone()[0])


def _head(using: str) -> tuple[int, str]:
    head = (AuditEvent.objects.using(using).filter(seq__isnull=False).order_by("-seq")
            .values_list("seq", "hash").first())
    return (int(head[0]), str(head[1])) if head else (0, GENESIS)


def _unsealed_pg(using: str, head_seq: int, limit: int) -> list[tuple[int, int, str]]:
    expr = canonical_sql("b", "b.new_seq")
    sql = (f"SELECT b.id, b.new_seq, {expr} FROM ("
           f"SELECT e.*, %s + row_number() OVER (ORDER BY e.id) AS new_seq FROM ("
           f"SELECT * FROM {TABLE} WHERE seq IS NULL AND sealed_at IS NULL "
           f"ORDER BY id LIMIT %s) e) b ORDER BY b.id")
    with connections[using].cursor() as cursor:
        cursor.execute(sql, [head_seq, limit])
        return cursor.fetchall()


def _unsealed_python(using: str, head_seq: int, limit: int) -> list[tuple[int, int, str]]:
    pending = AuditEvent.objects.using(using).filter(
        seq__isnull=True, sealed_at__isnull=True).order_by("id")[:limit]
    out = []
    for n, row in enumerate(raw_rows(pending), start=head_seq + 1):
        out.append((row[0], n, canonical(n, *row[4:])))
    return out


def _write_seals(using: str, seals: list[tuple[int, int, str, str]], now: dt.datetime) -> None:
    conn = connections[using]
    with conn.cursor() as cursor:
        if is_postgres(using):
            ids, seqs, prevs, hashes = (list(col) for col in zip(*seals, strict=True))
            cursor.execute(
                f"UPDATE {TABLE} AS e SET seq = v.seq, prev_hash = v.prev, hash = v.h, "
                "sealed_at = %s FROM unnest(%s::bigint[], %s::bigint[], %s::text[], "
                "%s::text[]) AS v(id, seq, prev, h) WHERE e.id = v.id AND e.seq IS NULL",
                [now, ids, seqs, prevs, hashes])
            changed = cursor.rowcount
        else:
            stamp = conn.ops.adapt_datetimefield_value(now)
            cursor.executemany(
                f"UPDATE {TABLE} SET seq = %s, prev_hash = %s, hash = %s, sealed_at = %s "
                "WHERE id = %s AND seq IS NULL",
                [(seq, prev, h, stamp, pk) for pk, seq, prev, h in seals])
            changed = sum(1 for _ in seals) if cursor.rowcount in (-1, None) else (
                cursor.rowcount)
    if changed != len(seals):
        raise RuntimeError(f"sealing changed {changed} rows, expected {len(seals)}")


def _seal_batch(using: str, wait: bool, batch: int) -> int | None:
    with transaction.atomic(using=using):
        if not _take_lock(using, wait):
            return None
        head_seq, prev = _head(using)
        pick = _unsealed_pg if is_postgres(using) else _unsealed_python
        rows = pick(using, head_seq, batch)
        if not rows:
            return 0
        seals = []
        for pk, seq, canon in rows:
            digest = event_hash(prev, canon)
            seals.append((pk, seq, prev, digest))
            prev = digest
        _write_seals(using, seals, timezone.now())
        return len(rows)


def seal(*, wait: bool = False, batch: int = SEAL_BATCH, using: str = DEFAULT_DB_ALIAS) -> int:
    """Seal every event committed and unsealed now; returns how many were sealed.

    Each batch is its own transaction holding the sealer's lock, so a long backlog never
    holds the lock for long. With ``wait=False`` a sealer that finds the lock taken
    returns at once (the holder seals these rows too); ``wait=True`` queues behind it,
    for verification and checkpoints, which need everything sealed.
    """
    total = 0
    while True:
        done = _seal_batch(using, wait, batch)
        if done is None:
            return total
        total += done
        if done < batch:
            return total


# --- sealing after commit -----------------------------------------------------------------

_last_attempt = 0.0
_attempt_lock = threading.Lock()


def seal_after_commit() -> None:
    """``transaction.on_commit`` hook registered by ``record()``.

    Seals at once unless this process tried within ``ASSAY_AUDIT_SEAL_MIN_INTERVAL_MS``
    (then a burst costs one sealing pass, not one per event; Celery beat's ``audit.seal``
    picks up the tail). Never raises: the caller's change is already committed.
    """
    global _last_attempt
    interval = getattr(settings, "ASSAY_AUDIT_SEAL_MIN_INTERVAL_MS", 0) / 1000
    now = time.monotonic()
    with _attempt_lock:
        if interval > 0 and now - _last_attempt < interval:
            return
        _last_attempt = now
    try:
        seal(wait=False)
    except Exception:  # the event is committed; the next pass seals it
        log.exception("sealing audit events after commit failed")


def schedule_seal(using: str = DEFAULT_DB_ALIAS) -> None:
    """Register :func:`seal_after_commit` once per transaction on ``using``."""
    conn = connections[using]
    if conn.in_atomic_block and any(
            func is seal_after_commit for _, func, _ in conn.run_on_commit):
        return
    transaction.on_commit(seal_after_commit, using=using, robust=True)
