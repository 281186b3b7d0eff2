"""Signed checkpoints: the chain's head, signed with a key the database never holds.

A checkpoint is (sequence number, head hash, time) signed with HMAC-SHA256, stored as a
row and written as one file per checkpoint under ``ASSAY_AUDIT_CHECKPOINT_DIR``.
Whoever rewrites the whole event table can recompute every hash into a consistent
chain, but cannot make it match the heads signed earlier without the key, and cannot
reach the files from the database. The key comes from ``ASSAY_AUDIT_KEY`` or from a file
generated once under ``ASSAY_VAR_DIR`` with mode 0600.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone

from assay.audit.chain import seal, utc_iso
from assay.audit.fields import canonical_json
from assay.audit.models import AuditEvent, Checkpoint

ALGORITHM = "HMAC-SHA256"


def audit_key() -> bytes:
    """The signing key: ``ASSAY_AUDIT_KEY``, else a key file made once (mode 0600)."""
    configured = getattr(settings, "ASSAY_AUDIT_KEY", "")
    if configured:
        return configured.encode("utf-8")
    path = Path(settings.ASSAY_AUDIT_KEY_FILE)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(os.urandom(32).hex())
    return path.read_text().strip().encode("utf-8")


def key_id(key: bytes) -> str:
    """A short fingerprint naming the key a checkpoint was signed with (not the key)."""
    return hashlib.sha256(b"assay-audit-key-id:" + key).hexdigest()[:16]


def _payload(seq: int, head_hash: str, when: str, kid: str) -> dict[str, Any]:
    return {"seq": seq, "hash": head_hash, "time": when, "key_id": kid}


def sign(payload: dict[str, Any], key: bytes) -> str:
    """HMAC-SHA256 hex over the payload's canonical JSON."""
    return hmac.new(key, canonical_json(payload).encode("utf-8"), hashlib.sha256).hexdigest()


def checkpoint_dir() -> Path:
    """Where checkpoint files go (outside the database)."""
    return Path(settings.ASSAY_AUDIT_CHECKPOINT_DIR)


def write_checkpoint(*, force: bool = False, using: str = DEFAULT_DB_ALIAS) -> Checkpoint | None:
    """Seal, then sign the head and store it as a file and a row.

    Returns None when the log is empty, or when the head has not moved since the last
    checkpoint (unless ``force``). The file is written first (atomically), so a row
    never names a file that is not there.
    """
    seal(wait=True, using=using)
    head = (AuditEvent.objects.using(using).filter(seq__isnull=False).order_by("-seq")
            .values_list("seq", "hash").first())
    if head is None:
        return None
    seq, head_hash = int(head[0]), str(head[1])
    last = Checkpoint.objects.using(using).order_by("-seq", "-id").first()
    if last is not None and last.seq == seq and not force:
        return None
    key = audit_key()
    now = timezone.now()
    when = utc_iso(now)
    kid = key_id(key)
    payload = _payload(seq, head_hash, when, kid)
    signature = sign(payload, key)
    folder = checkpoint_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"checkpoint-{seq:012d}-{now.strftime('%Y%m%dT%H%M%S%f')}.json"
    tmp = folder / f".{name}.tmp"
    tmp.write_text(json.dumps({**payload, "algorithm": ALGORITHM, "signature": signature},
                              indent=2, sort_keys=True) + "\n")
    os.replace(tmp, folder / name)
    return Checkpoint.objects.using(using).create(
        seq=seq, head_hash=head_hash, created_at=now, key_id=kid, signature=signature,
        file_name=name)


@dataclass(frozen=True)
class CheckpointFinding:
    """A checkpoint that does not hold: its seq and why."""

    seq: int | None
    message: str


def _files() -> Iterator[tuple[str, dict[str, Any] | None]]:
    folder = checkpoint_dir()
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("checkpoint-*.json")):
        try:
            yield path.name, json.loads(path.read_text())
        except (OSError, ValueError):
            yield path.name, None


def check_checkpoints(using: str = DEFAULT_DB_ALIAS) -> tuple[int, list[CheckpointFinding]]:
    """Check every stored checkpoint (rows and files): signature, agreement, and that the
    chain still has the signed hash at that seq. Returns (checkpoints seen, findings)."""
    key = audit_key()
    kid = key_id(key)
    findings: list[CheckpointFinding] = []
    expected: dict[int, set[str]] = {}  # seq -> hashes signed for it

    def check_signed(where: str, seq: int, data: dict[str, Any], signature: str) -> bool:
        if data.get("key_id") != kid:
            findings.append(CheckpointFinding(seq, f"{where} is signed with another key "
                                                    f"(key id {data.get('key_id')}, now {kid})"))
            return False
        if not hmac.compare_digest(sign(data, key), str(signature)):
            findings.append(CheckpointFinding(seq, f"{where} has an invalid signature: it "
                                                    "was altered after signing"))
            return False
        expected.setdefault(seq, set()).add(str(data["hash"]))
        return True

    rows = list(Checkpoint.objects.using(using).order_by("seq", "id"))
    file_names = set()
    for name, content in _files():
        file_names.add(name)
        if content is None:
            findings.append(CheckpointFinding(None, f"checkpoint file {name} is unreadable"))
            continue
        try:
            seq = int(content["seq"])
            data = _payload(seq, str(content["hash"]), str(content["time"]),
                            str(content["key_id"]))
        except (KeyError, TypeError, ValueError):
            findings.append(CheckpointFinding(None, f"checkpoint file {name} is malformed"))
            continue
        check_signed(f"checkpoint file {name}", seq, data, content.get("signature", ""))
    for row in rows:
        data = _payload(row.seq, row.head_hash, utc_iso(row.created_at), row.key_id)
        check_signed(f"checkpoint #{row.pk} (seq {row.seq})", row.seq, data, row.signature)
        if row.file_name not in file_names:
            findings.append(CheckpointFinding(
                row.seq, f"checkpoint #{row.pk}'s file {row.file_name} is missing from "
                         f"{checkpoint_dir()}"))
    seqs = sorted(expected)
    actual: dict[int, str] = {}
    for start in range(0, len(seqs), 1000):
        chunk = seqs[start:start + 1000]
        actual.update(AuditEvent.objects.using(using).filter(seq__in=chunk)
                      .values_list("seq", "hash"))
    for seq in seqs:
        for signed in sorted(expected[seq]):
            if seq not in actual:
                findings.append(CheckpointFinding(
                    seq, f"event seq {seq}, signed in a checkpoint, is gone"))
            elif actual[seq] != signed:
                findings.append(CheckpointFinding(
                    seq, f"event seq {seq}'s hash differs from the signed checkpoint: the log "
                         f"was rewritten at or before seq {seq}"))
    return len(rows) + len(file_names - {r.file_name for r in rows}), findings
