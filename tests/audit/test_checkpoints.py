"""Signed checkpoints: written as rows and files, verified, and they catch a full rewrite."""

from __future__ import annotations

import json
import stat

import pytest
from django.core.management import call_command

from assay.audit.chain import GENESIS, canonical_rows, event_hash
from assay.audit.checkpoints import audit_key, checkpoint_dir, key_id, write_checkpoint
from assay.audit.models import AuditEvent, Checkpoint
from assay.audit.services import record
from assay.audit.verify import verify
from tests.audit.conftest import make_chain, tampering

pytestmark = pytest.mark.django_db


def test_a_checkpoint_is_a_signed_row_and_file_and_verifies(project, audit_files, capsys):
    make_chain(5, project=project)
    call_command("audit_checkpoint")
    assert "checkpoint at seq 5" in capsys.readouterr().out
    checkpoint = Checkpoint.objects.get()
    assert checkpoint.seq == 5 and checkpoint.head_hash == AuditEvent.objects.get(seq=5).hash
    on_disk = json.loads((checkpoint_dir() / checkpoint.file_name).read_text())
    assert on_disk["seq"] == 5 and on_disk["hash"] == checkpoint.head_hash
    assert on_disk["signature"] == checkpoint.signature and on_disk["algorithm"] == "HMAC-SHA256"
    key_file = audit_files / "audit_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert checkpoint.key_id == key_id(audit_key())
    result = verify()
    assert result.ok and result.checkpoints == 1
    # Nothing moved: no second checkpoint (unless forced).
    assert write_checkpoint() is None
    assert write_checkpoint(force=True) is not None


def test_rewriting_the_whole_table_consistently_is_caught_by_the_checkpoint(project):
    make_chain(8, project=project)
    checkpoint = write_checkpoint()
    record("studio.project.created", target=project)  # the log goes on after it
    # The attacker edits event 3 and recomputes every hash from there on: the chain is
    # consistent again, so only the signed head can tell.
    with tampering() as cursor:
        cursor.execute("UPDATE audit_auditevent SET reason = 'never happened' WHERE seq = 3")
        prev = AuditEvent.objects.get(seq=2).hash
        for _, seq, _, _, canon in list(canonical_rows(
                AuditEvent.objects.filter(seq__gte=3).order_by("seq"), portable=True)):
            digest = event_hash(prev, canon)
            cursor.execute("UPDATE audit_auditevent SET prev_hash = %s, hash = %s "
                           "WHERE seq = %s", [prev, digest, seq])
            prev = digest
    result = verify()
    assert not result.ok and result.first_bad_seq == checkpoint.seq == 8
    assert "differs from the signed checkpoint" in result.problems[0].message
    assert verify(portable=True).first_bad_seq == 8


def test_deleting_the_newest_events_is_caught_by_a_checkpoint(project):
    make_chain(6, project=project)
    write_checkpoint()
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq >= 5")
    result = verify()
    assert result.first_bad_seq == 6 and "is gone" in result.summary()


def test_an_altered_or_missing_checkpoint_is_reported(project):
    make_chain(3, project=project)
    checkpoint = write_checkpoint()
    path = checkpoint_dir() / checkpoint.file_name
    content = json.loads(path.read_text())
    content["hash"] = GENESIS
    path.write_text(json.dumps(content))
    result = verify()
    assert not result.ok and "invalid signature" in result.problems[0].message
    path.unlink()
    assert "is missing" in verify().summary()


def test_a_checkpoint_signed_with_another_key_is_reported(project, settings):
    make_chain(2, project=project)
    write_checkpoint()
    settings.ASSAY_AUDIT_KEY = "a different key from the secret store"
    result = verify()
    assert not result.ok and "another key" in result.problems[0].message


def test_the_key_can_come_from_the_setting(project, settings, audit_files):
    settings.ASSAY_AUDIT_KEY = "from the secret store"
    make_chain(1, project=project)
    checkpoint = write_checkpoint()
    assert checkpoint.key_id == key_id(b"from the secret store")
    assert not (audit_files / "audit_key").exists()
    assert verify().ok


def test_an_empty_log_has_no_checkpoint():
    assert write_checkpoint() is None
    assert verify().ok
