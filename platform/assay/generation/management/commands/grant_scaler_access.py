"""`manage.py grant_scaler_access`: let KEDA's read-only role count queued and running jobs."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assay.audit.context import Actor, audit_context
from assay.core.exceptions import AssayError
from assay.generation.scaler import grant_scaler_access


class Command(BaseCommand):
    help = ("Grant the autoscaler's read-only PostgreSQL role (ASSAY_SCALER_DB_ROLE) read "
            "access to the queue-depth view and nothing else. The migrate Job runs it after "
            "migrations; the role itself is created by the database administrator.")

    def add_arguments(self, parser: CommandParser) -> None:
        """The role, defaulting to the setting."""
        parser.add_argument("--role", default=None,
                            help="Role name (default: ASSAY_SCALER_DB_ROLE).")

    def handle(self, *args: Any, **opts: Any) -> None:
        """Print what was granted."""
        role = opts["role"] or settings.ASSAY_SCALER_DB_ROLE
        try:
            with audit_context(actor=Actor.system("cli")):
                where = grant_scaler_access(role)
        except AssayError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{role} may read {where} (queued and running jobs per queue).")
