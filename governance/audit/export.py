"""Streaming exports of any filtered range, as CSV or JSON Lines, themselves audited.

Rows come from ``iterator(chunk_size=2000)`` (a server-side cursor on PostgreSQL) and
are encoded one at a time, so memory stays flat however many rows are exported.

Each export records two events: ``audit.events.exported`` before the first row (filter,
format, and the last event id covered, so the range is fixed even while events keep
arriving), and ``audit.events.export_completed`` when the stream ends, with the row
count and whether the client read to the end.

A JSON Lines export of the whole log carries every field of the canonical record, so
:func:`verify_jsonl` can re-check the chain away from the platform.
"""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Max

from assay.audit.chain import canonical, json_int, json_str, raw_rows, utc_iso
from assay.audit.context import Actor, audit_context, current
from assay.audit.fields import canonical_json
from assay.audit.models import AuditEvent
from assay.audit.services import record
from assay.audit.verify import scan_chain
from assay.core.exceptions import InvalidInput
from assay.core.inputs import echo
from governance.audit.filters import EventFilter

FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}
CSV_COLUMNS = ("id", "seq", "time", "action", "actor_kind", "actor_id", "actor_display",
               "actor_user_id", "target_type", "target_id", "target_display", "project_id",
               "correlation_id", "ip", "user_agent", "reason", "data", "prev_hash", "hash",
               "sealed_at")
CHUNK = 2000


@dataclass
class Export:
    """A started export: the stream to send and what to call it."""

    chunks: Iterator[bytes]
    content_type: str
    filename: str
    event_id: int


def _csv_line(row: tuple[Any, ...], sealed_at: Any) -> list[Any]:
    (pk, prev_hash, stored, seq, created_at, action, actor_kind, actor_id, actor_display,
     actor_user_id, target_type, target_id, target_display, project_id, correlation_id, ip,
     user_agent, data_text, reason) = row
    return [pk, seq, utc_iso(created_at), action, actor_kind, actor_id, actor_display,
            actor_user_id, target_type, target_id, target_display, project_id,
            correlation_id, ip, user_agent, reason, data_text, prev_hash, stored,
            utc_iso(sealed_at) if sealed_at is not None else ""]


def jsonl_line(row: tuple[Any, ...], sealed_at: Any) -> str:
    """One exported event as a JSON line: the canonical record's fields plus id and chain
    fields. Built by hand (``data`` is spliced in as stored, already canonical JSON), as
    it runs once per exported row."""
    (pk, prev_hash, stored, seq, created_at, action, actor_kind, actor_id, actor_display,
     actor_user_id, target_type, target_id, target_display, project_id, correlation_id, ip,
     user_agent, data_text, reason) = row
    return "".join((
        '{"id":', json_int(pk), ',"seq":', json_int(seq), ',"time":"', utc_iso(created_at),
        '","action":', json_str(action),
        ',"actor":{"kind":', json_str(actor_kind), ',"id":', json_str(actor_id),
        ',"display":', json_str(actor_display), ',"user_id":', json_int(actor_user_id),
        '},"target":{"type":', json_str(target_type), ',"id":', json_str(target_id),
        ',"display":', json_str(target_display),
        '},"project_id":', json_int(project_id), ',"correlation_id":', json_str(correlation_id),
        ',"ip":', json_str(ip), ',"user_agent":', json_str(user_agent),
        ',"data":', data_text if data_text is not None else "null",
        ',"reason":', json_str(reason), ',"prev_hash":', json_str(prev_hash),
        ',"hash":', json_str(stored),
        ',"sealed_at":', json_str(utc_iso(sealed_at)) if sealed_at is not None else "null",
        "}\n"))


class _Line:
    """csv.writer target that hands back the line it was given."""

    def write(self, value: str) -> str:
        return value


def start_export(filters: EventFilter, fmt: str, *, actor: Actor,
                 using: str = DEFAULT_DB_ALIAS) -> Export:
    """Record the export, then return its lazy stream (rows up to the current last id)."""
    if fmt not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}.",
                           errors={"format": [f"unknown format {echo(fmt)!r}"]})
    through_id = AuditEvent.objects.using(using).aggregate(top=Max("id"))["top"] or 0
    started = record("audit.events.exported", actor=actor, data={
        "filter": filters.as_dict(), "format": fmt, "through_id": through_id})
    ctx = current()
    chunks = _stream(filters, fmt, through_id, started.pk, actor, ctx.correlation_id, ctx.ip,
                     ctx.user_agent, using)
    return Export(chunks, FORMATS[fmt], f"audit-events-{started.pk}.{fmt}", started.pk)


def _stream(filters: EventFilter, fmt: str, through_id: int, export_id: int, actor: Actor,
            correlation_id: str, ip: str | None, user_agent: str, using: str
            ) -> Iterator[bytes]:
    sent, finished = 0, False
    writer = csv.writer(_Line(), lineterminator="\n")
    try:
        if fmt == "csv":
            yield writer.writerow(CSV_COLUMNS).encode("utf-8")
        # PostgreSQL: a transaction keeps the server-side cursor lazy (outside one, Django
        # declares it WITH HOLD and the server materialises the whole result first).
        # SQLite: no transaction, so the write lock is not held while the client reads.
        block = (transaction.atomic(using=using) if connections[using].vendor == "postgresql"
                 else contextlib.nullcontext())
        with block:
            qs = filters.apply(AuditEvent.objects.using(using).filter(id__lte=through_id))
            rows = raw_rows(qs.order_by("id"), "sealed_at")
            for row in rows.iterator(chunk_size=CHUNK):
                base, sealed_at = row[:-1], row[-1]
                if fmt == "csv":
                    line = writer.writerow(_csv_line(base, sealed_at))
                else:
                    line = jsonl_line(base, sealed_at)
                sent += 1
                yield line.encode("utf-8")
        finished = True
    finally:
        with audit_context(correlation_id=correlation_id, ip=ip, user_agent=user_agent):
            record("audit.events.export_completed", actor=actor, data={
                "export_event": export_id, "rows": sent, "complete": finished})


def verify_jsonl(lines: Iterable[str | bytes]) -> tuple[int, int | None]:
    """Re-check the chain in a JSON Lines export of the whole log, without the platform.

    Returns (events read, first bad seq or None). Uses the Python reference canonical
    form; ``data`` is re-serialised canonically, which is how it is stored.
    """

    def rows() -> Iterator[tuple[Any, ...]]:
        for line in lines:
            if not line.strip():
                continue
            e = json.loads(line)
            actor, target = e["actor"], e["target"]
            canon = canonical(e["seq"], e["time"], e["action"], actor["kind"], actor["id"],
                              actor["display"], actor["user_id"], target["type"],
                              target["id"], target["display"], e["project_id"],
                              e["correlation_id"], e["ip"], e["user_agent"],
                              canonical_json(e["data"]), e["reason"])
            yield e["id"], e["seq"], e["prev_hash"], e["hash"], canon

    count, _, _, problem = scan_chain(rows())
    return count, problem.seq if problem else None
