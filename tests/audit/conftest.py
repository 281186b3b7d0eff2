"""Audit test helpers: isolated key and checkpoint folder, chains to tamper with."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from assay.audit.chain import seal
from assay.audit.context import Actor, audit_context
from assay.audit.models import AuditEvent
from assay.audit.services import record


@pytest.fixture(autouse=True)
def audit_files(settings: Any, tmp_path: Any) -> Any:
    """Each test gets its own checkpoint folder and key file."""
    settings.ASSAY_AUDIT_KEY = ""
    settings.ASSAY_AUDIT_KEY_FILE = tmp_path / "audit_key"
    settings.ASSAY_AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    return tmp_path


def make_chain(n: int, *, project: Any = None) -> list[AuditEvent]:
    """``n`` events through record(), sealed; awkward text on purpose."""
    with audit_context(actor=Actor.system("tests"), ip="2001:db8::1",
                       user_agent='agent "quoted" \\ é'):
        for i in range(n):
            record("studio.project.created", target=project,
                   data={"i": i, "text": f"line\n{i}\t\"q\" ünï 😀", "nested": {"b": 1, "a": [i]}},
                   reason=f"reason {i}" if i % 2 else "")
    seal(wait=True)
    return list(AuditEvent.objects.filter(seq__isnull=False).order_by("seq"))


@contextlib.contextmanager
def tampering() -> Iterator[Any]:
    """A cursor that may change audit rows: PostgreSQL's triggers are switched off for
    this session (the test database user is a superuser) and switched on again after."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            yield cursor
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = origin")
