"""Verification: is the chain intact, and does it still match every signed checkpoint?

Reads the events in sequence order through a server-side cursor in chunks (never the
whole table at once), and for each event checks that

1. its ``seq`` is the next one (a gap means a deleted row, or rows moved),
2. its ``prev_hash`` is the previous event's hash (a break means a rewritten row), and
3. its ``hash`` is SHA-256 of ``prev_hash`` + its canonical record (a changed column).

When an event's content and hash were both rewritten, the break shows at the next
event, which still names the old hash; the report then names the rewritten event. A
rewrite of the whole table with recomputed hashes passes these checks and fails the
checkpoints (assay.audit.checkpoints).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from assay.audit.chain import (
    GENESIS,
    TABLE,
    canonical_rows,
    canonical_sql,
    event_hash,
    hash_sql,
    is_postgres,
    seal,
)
from assay.audit.checkpoints import check_checkpoints
from assay.audit.context import Actor
from assay.audit.models import AuditEvent
from assay.audit.services import record


@dataclass(frozen=True)
class Problem:
    """Where the log does not hold (``seq`` None when no sequence number applies)."""

    seq: int | None
    message: str


@dataclass
class VerifyResult:
    """What verification found; ``first_bad_seq`` is the earliest sequence number named."""

    events: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    unsealed: int = 0
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """No problem found."""
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        """The earliest sequence number any problem names."""
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None

    def summary(self) -> str:
        """One line for people."""
        if self.ok:
            return (f"audit log intact: {self.events} events, head seq {self.head_seq} "
                    f"({self.head_hash[:16]}…), {self.checkpoints} checkpoints match")
        first = self.first_bad_seq
        where = f"first bad seq {first}" if first is not None else "no sequence number"
        return f"audit log NOT intact ({where}): {self.problems[0].message}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for the REST endpoint and ``verify_audit --json``."""
        return {"ok": self.ok, "first_bad_seq": self.first_bad_seq, "events": self.events,
                "head_seq": self.head_seq, "head_hash": self.head_hash,
                "unsealed": self.unsealed, "checkpoints": self.checkpoints,
                "problems": [asdict(p) for p in self.problems],
                "seconds": round(self.seconds, 3), "summary": self.summary()}


def scan_chain(rows: Any) -> tuple[int, int, str, Problem | None]:
    """Check ``(id, seq, prev_hash, hash, canonical)`` rows in seq order.

    Returns (events checked, last good seq, its hash, the first problem or None).
    """
    expected, prev, count = 1, GENESIS, 0
    for _pk, seq, prev_hash, stored, canon in rows:
        if seq != expected:
            return count, expected - 1, prev, _missing(expected, seq)
        self_consistent = event_hash(prev_hash or "", canon) == stored
        if prev_hash != prev:
            return count, expected - 1, prev, _broken_link(expected, self_consistent)
        if not self_consistent:
            return count, expected - 1, prev, _changed(expected)
        prev = stored
        expected += 1
        count += 1
    return count, expected - 1, prev, None


def _window_problem(lo: int, hi: int, using: str) -> Problem | None:
    """Check events ``lo``..``hi`` in one SQL statement (PostgreSQL): the database rebuilds
    each canonical record, hashes it and compares it with its neighbour via ``lag()``, and
    returns only the first row that fails. Row ``lo - 1`` is read too, to link across."""
    expr = canonical_sql("e")
    base_seq, base_hash = (0, GENESIS) if lo == 1 else (None, None)
    sql = (f"SELECT seq, prev_hash, hash, lag_seq, lag_hash, computed FROM ("
           f"SELECT e.seq, e.prev_hash, e.hash, "
           f"coalesce(lag(e.seq) OVER w, %(base_seq)s::bigint) AS lag_seq, "
           f"coalesce(lag(e.hash) OVER w, %(base_hash)s::text) AS lag_hash, "
           f"{hash_sql('e', expr)} AS computed "
           f"FROM {TABLE} e WHERE e.seq >= %(anchor)s AND e.seq <= %(hi)s "
           f"WINDOW w AS (ORDER BY e.seq)) t "
           f"WHERE t.seq >= %(lo)s AND (t.computed IS DISTINCT FROM t.hash "
           f"OR t.lag_seq IS DISTINCT FROM t.seq - 1 OR t.prev_hash IS DISTINCT FROM t.lag_hash) "
           f"ORDER BY t.seq LIMIT 1")
    params = {"base_seq": base_seq, "base_hash": base_hash, "anchor": max(lo - 1, 1),
              "hi": hi, "lo": lo}
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        bad = cursor.fetchone()
        cursor.execute(f"SELECT max(seq) FROM {TABLE} WHERE seq >= %s AND seq <= %s", [lo, hi])
        top = cursor.fetchone()[0]
    problems = []
    if top is None or top < hi:
        missing = (top or lo - 1) + 1
        problems.append(_missing(missing, None))
    if bad is not None:
        seq, prev_hash, stored, lag_seq, lag_hash, computed = bad
        if lag_seq is None:
            problems.append(_missing(lo - 1, seq))
        elif lag_seq != seq - 1:
            problems.append(_missing(lag_seq + 1, seq))
        elif prev_hash != lag_hash:
            problems.append(_broken_link(seq, computed == stored))
        else:
            problems.append(_changed(seq))
    return min(problems, key=lambda p: p.seq or 0) if problems else None


def _missing(seq: int, next_seq: int | None) -> Problem:
    after = f" (the next event is seq {next_seq})" if next_seq is not None else ""
    return Problem(seq, f"event seq {seq} is missing{after}: a row was deleted or moved")


def _broken_link(seq: int, self_consistent: bool) -> Problem:
    if self_consistent and seq > 1:
        return Problem(seq - 1, f"event seq {seq - 1} was rewritten: its hash no longer "
                                f"matches the prev_hash recorded by seq {seq}")
    return Problem(seq, f"event seq {seq} does not follow seq {seq - 1}: its prev_hash "
                        "differs (a row was changed, moved or inserted)")


def _changed(seq: int) -> Problem:
    return Problem(seq, f"event seq {seq} was changed: its content no longer matches its hash")


def _windows_pg(head: int, using: str, workers: int, window: int) -> Problem | None:
    """All windows, in parallel connections when outside a transaction (a transaction's
    own uncommitted rows are invisible to other connections, so inside one, in turn)."""
    spans = [(lo, min(lo + window - 1, head)) for lo in range(1, head + 1, window)]
    if workers <= 1 or len(spans) == 1 or connections[using].in_atomic_block:
        found = [_window_problem(lo, hi, using) for lo, hi in spans]
    else:
        def run(span: tuple[int, int]) -> Problem | None:
            try:
                return _window_problem(span[0], span[1], using)
            finally:
                connections[using].close()

        with ThreadPoolExecutor(max_workers=workers) as pool:
            found = list(pool.map(run, spans))
    problems = [p for p in found if p is not None]
    return min(problems, key=lambda p: p.seq or 0) if problems else None


def verify(*, portable: bool = False, seal_first: bool = True, chunk_size: int = 2000,
           workers: int | None = None, window: int = 100_000,
           using: str = DEFAULT_DB_ALIAS) -> VerifyResult:
    """Seal what is pending, then check the chain and every checkpoint.

    PostgreSQL checks windows of ``window`` events with one SQL statement each, on up to
    ``workers`` connections at once. SQLite, and PostgreSQL with ``portable``, stream the
    rows in seq order (``iterator(chunk_size)``) and rebuild each canonical record with
    the Python reference, which does not rely on the database's JSON functions.
    """
    started = time.perf_counter()
    if seal_first:
        seal(wait=True, using=using)
    result = VerifyResult()
    events = AuditEvent.objects.using(using)
    sealed = events.filter(seq__gte=1)
    if is_postgres(using) and not portable:
        head = sealed.order_by("-seq").values_list("seq", "hash").first() or (0, GENESIS)
        result.head_seq, result.head_hash = int(head[0]), str(head[1])
        result.events = sealed.count()
        problem = _windows_pg(result.head_seq, using, workers or min(4, os.cpu_count() or 1),
                              window)
    else:
        with transaction.atomic(using=using):  # a PostgreSQL cursor that streams lazily
            rows = canonical_rows(sealed.order_by("seq"), portable=portable,
                                  chunk_size=chunk_size)
            result.events, result.head_seq, result.head_hash, problem = scan_chain(rows)
    if problem is not None:
        result.problems.append(problem)
    for stray in events.filter(seq__lt=1).values_list("seq", flat=True)[:10]:
        result.problems.append(Problem(None, f"an event has seq {stray}, outside the chain"))
    result.unsealed = events.filter(seq__isnull=True).count()
    unsealed_again = events.filter(seq__isnull=True, sealed_at__isnull=False).values_list(
        "id", flat=True)[:10]
    for pk in unsealed_again:
        result.problems.append(Problem(None, f"event id {pk} was sealed once and has lost its "
                                             "sequence number"))
    result.checkpoints, findings = check_checkpoints(using)
    result.problems.extend(Problem(f.seq, f.message) for f in findings)
    result.problems.sort(key=lambda p: (p.seq is None, p.seq or 0))
    result.seconds = time.perf_counter() - started
    return result


def verify_and_record(*, actor: Actor, via: str, portable: bool = False) -> VerifyResult:
    """Verify, then record who checked and what they found (``audit.chain.verified``)."""
    result = verify(portable=portable)
    record("audit.chain.verified", actor=actor, data={
        "ok": result.ok, "first_bad_seq": result.first_bad_seq, "head_seq": result.head_seq,
        "events": result.events, "via": via})
    return result
