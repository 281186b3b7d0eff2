"""PostgreSQL refuses UPDATE, DELETE and TRUNCATE on the audit tables; sealing still works."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from assay.audit.chain import seal
from assay.audit.checkpoints import write_checkpoint
from assay.audit.models import AuditEvent, Checkpoint
from assay.audit.services import record
from tests.audit.conftest import make_chain

pytestmark = pytest.mark.django_db


def refused(sql: str, params: list | None = None) -> str:
    """Run ``sql`` in a savepoint; return the database's refusal."""
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute(sql, params or [])
    return str(caught.value)


def test_changes_are_refused_and_sealing_still_works(require_postgres, project):
    events = make_chain(3, project=project)
    first = events[0]
    assert "append-only" in refused("UPDATE audit_auditevent SET reason = 'x' WHERE id = %s",
                                    [first.pk])
    assert "append-only" in refused("UPDATE audit_auditevent SET seq = 99 WHERE id = %s",
                                    [first.pk])  # a sealed row is never sealed again
    assert "append-only" in refused("DELETE FROM audit_auditevent WHERE id = %s", [first.pk])
    assert "append-only" in refused("DELETE FROM audit_auditevent WHERE false")
    # The test database lets Django's flush truncate (see migration 0003); switch that off.
    assert "append-only" in refused("SET LOCAL assay.audit_allow_truncate = 'off'; "
                                    "TRUNCATE audit_auditevent")
    assert "inserted unsealed" in refused(
        "INSERT INTO audit_auditevent (created_at, action, actor_kind, actor_id, "
        "actor_display, target_type, target_id, target_display, correlation_id, "
        "user_agent, data, reason, seq, prev_hash, hash, sealed_at) VALUES (now(), "
        "'x.y.z', 'system', 'x', 'x', '', '', '', 'c', '', '{}', '', 4, 'a', 'b', now())")
    pending = record("studio.project.created", target=project)
    # Unsealed rows cannot be edited either: only the sealing update is allowed.
    assert "append-only" in refused("UPDATE audit_auditevent SET action = 'x.y.z' "
                                    "WHERE id = %s", [pending.pk])
    assert "append-only" in refused(
        "UPDATE audit_auditevent SET seq = 4, prev_hash = 'p', hash = 'h', sealed_at = now(), "
        "reason = 'smuggled' WHERE id = %s", [pending.pk])
    assert seal() == 1
    pending.refresh_from_db()
    assert pending.seq == 4 and pending.prev_hash == events[-1].hash
    assert AuditEvent.objects.count() == 4


def test_checkpoints_are_append_only_too(require_postgres, project):
    make_chain(2, project=project)
    checkpoint = write_checkpoint()
    assert checkpoint is not None
    assert "append-only" in refused("UPDATE audit_checkpoint SET head_hash = 'x'")
    assert "append-only" in refused("DELETE FROM audit_checkpoint")
    assert "append-only" in refused("SET LOCAL assay.audit_allow_truncate = 'off'; "
                                    "TRUNCATE audit_checkpoint")
    assert Checkpoint.objects.get().head_hash == checkpoint.head_hash


def test_sqlite_has_no_triggers_but_the_chain_notices(project):
    """SQLite cannot refuse the change; verification names it (see test_verify)."""
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite half of the story")
    make_chain(2, project=project)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET reason = 'x' WHERE seq = 2")
    from assay.audit.verify import verify

    assert verify().first_bad_seq == 2
