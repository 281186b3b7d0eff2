"""Tampering with any one event is found and named: command, REST endpoint, both methods."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from assay.audit.chain import canonical_rows, event_hash
from assay.audit.models import AuditEvent
from assay.audit.verify import verify
from tests.audit.conftest import make_chain, tampering

pytestmark = pytest.mark.django_db

EVENTS = 12


def change(seq: int) -> None:
    with tampering() as cursor:
        cursor.execute("UPDATE audit_auditevent SET reason = 'nothing happened' WHERE seq = %s",
                       [seq])


def change_data(seq: int) -> None:
    with tampering() as cursor:
        cursor.execute("UPDATE audit_auditevent SET data = %s WHERE seq = %s",
                       ['{"i":999}', seq])


def delete(seq: int) -> None:
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = %s", [seq])


def swap(seq: int) -> None:
    """Reorder: the event at ``seq`` and the one three later trade places."""
    with tampering() as cursor:
        cursor.execute("UPDATE audit_auditevent SET seq = -1 WHERE seq = %s", [seq])
        cursor.execute("UPDATE audit_auditevent SET seq = %s WHERE seq = %s", [seq, seq + 3])
        cursor.execute("UPDATE audit_auditevent SET seq = %s WHERE seq = -1", [seq + 3])


def rewrite(seq: int) -> None:
    """Change an event and recompute its own hash (the next event still names the old)."""
    with tampering() as cursor:
        cursor.execute("UPDATE audit_auditevent SET actor_display = 'someone else' "
                       "WHERE seq = %s", [seq])
        [(_, _, prev_hash, _, canon)] = list(canonical_rows(
            AuditEvent.objects.filter(seq=seq), portable=True))
        cursor.execute("UPDATE audit_auditevent SET hash = %s WHERE seq = %s",
                       [event_hash(prev_hash, canon), seq])


TAMPERING = {"changed": change, "changed-data": change_data, "deleted": delete,
             "reordered": swap, "rewritten": rewrite}


def auditor_get(users, path: str) -> dict:
    client = APIClient()
    client.force_authenticate(users["auditor"])
    response = client.get(path)
    assert response.status_code == 200
    return response.json()


def test_an_intact_log_verifies_everywhere(users, project):
    make_chain(EVENTS, project=project)
    call_command("verify_audit")  # no CommandError: exit status 0
    body = auditor_get(users, "/api/v1/audit/verify/")
    assert body["ok"] and body["first_bad_seq"] is None and body["events"] == EVENTS + 1
    assert verify(portable=True).ok


@pytest.mark.parametrize("seq", [1, 5, EVENTS - 3])
@pytest.mark.parametrize("how", list(TAMPERING))
def test_tampering_is_found_and_the_first_bad_seq_named(how, seq, users, project):
    make_chain(EVENTS, project=project)
    TAMPERING[how](seq)

    with pytest.raises(CommandError) as failed:
        call_command("verify_audit")
    assert failed.value.returncode == 1
    assert f"first bad seq {seq}" in str(failed.value)

    body = auditor_get(users, "/api/v1/audit/verify/")
    assert body["ok"] is False and body["first_bad_seq"] == seq, body

    for portable in (False, True):
        assert verify(portable=portable).first_bad_seq == seq
    # Windows of three events on PostgreSQL: the damage may straddle a window's edge.
    assert verify(window=3).first_bad_seq == seq


def test_verify_streams_in_chunks_and_reports_counts(project):
    make_chain(7, project=project)
    result = verify(chunk_size=2, portable=True)
    assert result.ok and result.events == 7 and result.head_seq == 7
    assert result.head_hash == AuditEvent.objects.get(seq=7).hash


def test_verify_seals_what_is_pending_first(project):
    from assay.audit.services import record

    make_chain(2, project=project)
    record("studio.project.created", target=project)
    result = verify()
    assert result.ok and result.events == 3 and result.unsealed == 0


def test_the_json_output_of_the_command(project, capsys):
    make_chain(3, project=project)
    call_command("verify_audit", "--json")
    out = capsys.readouterr().out
    assert '"ok": true' in out and '"head_seq": 3' in out


def test_an_event_moved_outside_the_chain_is_reported(project):
    make_chain(4, project=project)
    with tampering() as cursor:
        cursor.execute("UPDATE audit_auditevent SET seq = 0 WHERE seq = 2")
    result = verify()
    assert result.first_bad_seq == 2
    assert any("seq 0, outside the chain" in p.message for p in result.problems)
