"""What the GPU autoscaler reads: the queue-depth view, and its read-only database role.

KEDA's postgresql scaler runs :func:`depth_query` for a worker's queue every polling
interval. The view (migration generation.0004) counts queued *and running* jobs, so a pod
with a job in hand is still wanted: a scale-down never targets it (a Redis list length
would not count a task a worker already took, with acks_late). The role the scaler
connects as may read that view and nothing else.
"""

from __future__ import annotations

from django.db import connection, transaction
from psycopg import sql

from assay.audit.services import record
from assay.core.exceptions import InvalidInput

VIEW = "assay_queue_depth"


def depth_query(queue: str) -> str:
    """The exact SQL a queue's ScaledObject runs: unfinished jobs on ``queue``."""
    if not queue.replace(".", "").replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"{queue!r} is not a queue name")
    return f"SELECT COALESCE(SUM(queued + running), 0) FROM {VIEW} WHERE queue = '{queue}'"


def grant_scaler_access(role: str) -> str:
    """Let ``role`` read the queue-depth view (and so count jobs), nothing more.

    The role is made by whoever administers the database (the app's own role usually may
    not create roles): this only grants. A superuser role is refused, because it could
    read everything whatever is granted. Idempotent.

    Raises:
        InvalidInput: not PostgreSQL, no such role, or a superuser role.
    """
    if connection.vendor != "postgresql":
        raise InvalidInput("The autoscaler reads PostgreSQL; this database is "
                           f"{connection.vendor}, so there is nothing to grant.",
                           errors={"database": ["not PostgreSQL"]})
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
        row = cursor.fetchone()
        if row is None:
            raise InvalidInput(
                f"There is no database role {role!r}. Create it first (as a database "
                f"administrator): CREATE ROLE {role} LOGIN PASSWORD '...'; then put its "
                "connection URL in the assay-scaler-db Secret.",
                errors={"role": ["does not exist"]})
        if row[0]:
            raise InvalidInput(f"The role {role!r} is a superuser; the autoscaler needs a "
                               "role that can read nothing but the queue-depth view.",
                               errors={"role": ["is a superuser"]})
        cursor.execute("SELECT current_schema()")
        schema = cursor.fetchone()[0]
        name = sql.Identifier(role)
        cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
            sql.Identifier(schema), name))
        cursor.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(sql.Identifier(VIEW), name))
        record("generation.scaler.granted", data={"role": role, "view": VIEW,
                                                   "schema": schema})
    return f"{schema}.{VIEW}"
