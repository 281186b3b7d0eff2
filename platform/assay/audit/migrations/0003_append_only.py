"""PostgreSQL triggers that make the audit tables append-only (nothing on SQLite).

- audit_auditevent: INSERT must leave the chain columns empty; UPDATE is refused except
  the sealing update (seq, prev_hash, hash and sealed_at set on a row that had none, with
  every other column unchanged); DELETE and TRUNCATE are refused.
- audit_checkpoint: UPDATE, DELETE and TRUNCATE are refused.

The triggers bind everyone, the table owner too, but a superuser can still disable them;
the hash chain and the signed checkpoints are what expose that. Production also revokes
the privileges (README, "Audit log").

One exception: Django's test runner empties every table with a single TRUNCATE between
transactional tests. In a test database (named ``test_…``) this migration sets
``assay.audit_allow_truncate = on`` for that database, and only TRUNCATE honours it.
"""

from typing import Any

from django.db import migrations
from django.db.backends.base.creation import TEST_DATABASE_PREFIX

INSTALL = r"""
CREATE OR REPLACE FUNCTION assay_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE'
       AND coalesce(current_setting('assay.audit_allow_truncate', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE OR REPLACE FUNCTION assay_audit_event_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq IS NOT NULL OR NEW.prev_hash IS NOT NULL OR NEW.hash IS NOT NULL
       OR NEW.sealed_at IS NOT NULL THEN
        RAISE EXCEPTION 'audit events are inserted unsealed: only the sealer sets seq, '
                        'prev_hash, hash and sealed_at'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION assay_audit_event_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    before_row audit_auditevent;
    after_row audit_auditevent;
BEGIN
    before_row := OLD;
    after_row := NEW;
    before_row.seq := NULL; before_row.prev_hash := NULL;
    before_row.hash := NULL; before_row.sealed_at := NULL;
    after_row.seq := NULL; after_row.prev_hash := NULL;
    after_row.hash := NULL; after_row.sealed_at := NULL;
    IF OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL AND OLD.sealed_at IS NULL
       AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
       AND NEW.sealed_at IS NOT NULL AND after_row IS NOT DISTINCT FROM before_row THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: event % may only be sealed, once', OLD.id
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_event_insert BEFORE INSERT ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION assay_audit_event_insert();
CREATE TRIGGER audit_event_update BEFORE UPDATE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION assay_audit_event_update();
CREATE TRIGGER audit_event_delete BEFORE DELETE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION assay_audit_refuse();
CREATE TRIGGER audit_event_truncate BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION assay_audit_refuse();

CREATE TRIGGER audit_checkpoint_update BEFORE UPDATE ON audit_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION assay_audit_refuse();
CREATE TRIGGER audit_checkpoint_delete BEFORE DELETE ON audit_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION assay_audit_refuse();
CREATE TRIGGER audit_checkpoint_truncate BEFORE TRUNCATE ON audit_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION assay_audit_refuse();
"""

REMOVE = r"""
DROP TRIGGER IF EXISTS audit_event_insert ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_event_update ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_event_delete ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_event_truncate ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_checkpoint_update ON audit_checkpoint;
DROP TRIGGER IF EXISTS audit_checkpoint_delete ON audit_checkpoint;
DROP TRIGGER IF EXISTS audit_checkpoint_truncate ON audit_checkpoint;
DROP FUNCTION IF EXISTS assay_audit_event_update();
DROP FUNCTION IF EXISTS assay_audit_event_insert();
DROP FUNCTION IF EXISTS assay_audit_refuse();
"""


def _is_test_database(connection: Any) -> bool:
    return str(connection.settings_dict["NAME"]).startswith(TEST_DATABASE_PREFIX)


def install(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return  # SQLite: no triggers; the hash chain still exposes any change
    with connection.cursor() as cursor:
        cursor.execute(INSTALL)
        if _is_test_database(connection):
            name = connection.ops.quote_name(connection.settings_dict["NAME"])
            cursor.execute(f"ALTER DATABASE {name} SET assay.audit_allow_truncate = 'on'")
            cursor.execute("SET assay.audit_allow_truncate = 'on'")


def remove(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(REMOVE)
        if _is_test_database(connection):
            name = connection.ops.quote_name(connection.settings_dict["NAME"])
            cursor.execute(f"ALTER DATABASE {name} RESET assay.audit_allow_truncate")


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_chain"),
    ]

    operations = [
        migrations.RunPython(install, remove),
    ]
