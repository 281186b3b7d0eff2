"""The hash chain: canonical records, sealing, concurrent writers, sealing after commit."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.db import connection, connections, transaction

from assay.audit import chain
from assay.audit.chain import GENESIS, canonical, canonical_rows, event_hash, seal
from assay.audit.context import Actor, audit_context
from assay.audit.models import AuditEvent
from assay.audit.services import record
from assay.audit.verify import verify
from tests.audit.conftest import make_chain

pytestmark = pytest.mark.django_db


def test_record_inserts_unsealed_and_the_sealer_chains_in_id_order(project):
    first = record("studio.project.created", target=project)
    second = record("studio.project.created", target=project, data={"b": 2, "a": 1})
    first.refresh_from_db()
    assert (first.seq, first.prev_hash, first.hash, first.sealed_at) == (None, None, None, None)
    assert seal() == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS and second.prev_hash == first.hash
    assert first.sealed_at is not None
    assert seal() == 0  # nothing left; sealing twice changes nothing


def test_the_hash_is_sha256_of_prev_hash_and_sorted_compact_json(project):
    event = make_chain(3, project=project)[1]
    nested = {
        "action": event.action,
        "actor": {"kind": event.actor_kind, "id": event.actor_id,
                  "display": event.actor_display, "user_id": event.actor_user_id},
        "target": {"type": event.target_type, "id": event.target_id,
                   "display": event.target_display},
        "project_id": event.project_id, "correlation_id": event.correlation_id,
        "ip": event.ip, "user_agent": event.user_agent, "data": event.data,
        "reason": event.reason, "seq": event.seq,
        "time": event.created_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    expected_text = json.dumps(nested, sort_keys=True, separators=(",", ":"),
                               ensure_ascii=False)
    [(_, seq, prev_hash, stored, canon)] = list(canonical_rows(
        AuditEvent.objects.filter(pk=event.pk), portable=True))
    assert canon == expected_text and canon.startswith("{\"action\":")
    assert stored == event_hash(prev_hash, expected_text)
    # The stored data column is that canonical text, on every backend.
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM audit_auditevent WHERE id = %s", [event.pk])
        assert cursor.fetchone()[0] == json.dumps(event.data, sort_keys=True,
                                                  separators=(",", ":"), ensure_ascii=False)


def test_database_and_python_canonical_forms_are_identical(require_postgres, project, users):
    """PostgreSQL builds the canonical text itself when sealing and verifying; it must be
    byte for byte the Python reference, including on awkward values."""
    awkward = "quote \" backslash \\ slash / tab \t nl \n cr \r bell \x07 us \x1f del \x7f " \
              "é 中文 😀 \u2028 </script>"
    with audit_context(actor=Actor("user", "7", awkward, 7), ip="::ffff:10.0.0.1",
                       user_agent=awkward, correlation_id="corr-awkward"):
        record("studio.project.created", target=project, reason=awkward,
               data={"z": awkward, "a": [1, 2.5, None, True, {"k": "v"}], "n": -0.0,
                     "big": 12345678901234567890})
    with audit_context(actor=Actor.system("x"), ip=None):
        record("accounts.user.login_failed", data={})
    seal()
    events = AuditEvent.objects.order_by("seq")
    in_db = list(canonical_rows(events))
    in_python = list(canonical_rows(events, portable=True))
    assert [r[4] for r in in_db] == [r[4] for r in in_python]
    assert verify().ok and verify(portable=True).ok


def test_events_recorded_in_a_transaction_are_sealed_after_its_commit(
        project, settings, django_capture_on_commit_callbacks):
    settings.ASSAY_AUDIT_SEAL_MIN_INTERVAL_MS = 0
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        record("studio.project.created", target=project)
        record("studio.project.created", target=project)
    assert [c for c in callbacks if c is chain.seal_after_commit] == [chain.seal_after_commit]
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == [1, 2]


def test_a_rolled_back_transaction_leaves_no_event_and_no_gap(project, settings):
    make_chain(2, project=project)
    with pytest.raises(RuntimeError), transaction.atomic():
        record("studio.project.created", target=project)
        raise RuntimeError("the change failed")
    record("studio.project.created", target=project)
    seal()
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3]
    assert verify().ok


@pytest.mark.django_db(transaction=True)
def test_a_second_sealer_skips_while_one_holds_the_lock(require_postgres, project, settings):
    settings.ASSAY_AUDIT_SEAL_MIN_INTERVAL_MS = 0
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [chain.SEAL_LOCK_KEY])
                held.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        record("studio.project.created", target=project)  # its after-commit sealer skips
        assert seal(wait=False) == 0
        assert AuditEvent.objects.filter(seq__isnull=True).count() == 1
    finally:
        release.set()
        holder.join()
    assert seal(wait=True) == 1
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_writers_make_one_gap_free_chain(project, settings):
    """Each writer has its own connection, commits per event and tries to seal after each
    commit; whatever the interleaving, the result is one chain without forks or gaps."""
    settings.ASSAY_AUDIT_SEAL_MIN_INTERVAL_MS = 0
    writers, per_writer = 8, 25
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            barrier.wait()
            with audit_context(actor=Actor.system(f"writer-{n}")):
                for i in range(per_writer):
                    record("studio.project.created", target=project, data={"w": n, "i": i})
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    seal(wait=True)
    rows = list(AuditEvent.objects.order_by("seq").values_list("seq", "prev_hash", "hash"))
    assert len(rows) == writers * per_writer
    assert [r[0] for r in rows] == list(range(1, writers * per_writer + 1))
    assert all(rows[i][1] == rows[i - 1][2] for i in range(1, len(rows)))
    assert len({r[2] for r in rows}) == len(rows)
    per = {}
    for data in AuditEvent.objects.order_by("seq").values_list("data", flat=True):
        per.setdefault(data["w"], []).append(data["i"])
    assert all(per[w] == list(range(per_writer)) for w in range(writers))  # id order kept
    result = verify()
    assert result.ok and result.events == writers * per_writer


def test_canonical_of_an_export_row_matches_the_stored_hash(project):
    event = make_chain(1, project=project)[0]
    text = canonical(event.seq, event.created_at, event.action, event.actor_kind,
                     event.actor_id, event.actor_display, event.actor_user_id,
                     event.target_type, event.target_id, event.target_display,
                     event.project_id, event.correlation_id, event.ip, event.user_agent,
                     json.dumps(event.data, sort_keys=True, separators=(",", ":"),
                                ensure_ascii=False), event.reason)
    assert event_hash(GENESIS, text) == event.hash


def test_dumpdata_nests_data_as_json_and_loads_it_back(project):
    from django.core import serializers

    event = make_chain(1, project=project)[0]
    text = serializers.serialize("json", [event])
    assert '"data": {"i": 0' in text
    [loaded] = list(serializers.deserialize("json", text))
    assert loaded.object.data == event.data
