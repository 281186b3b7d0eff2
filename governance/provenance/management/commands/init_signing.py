"""`manage.py init_signing`: the development CA and signing certificate (idempotent)."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assay.audit.context import Actor, audit_context
from assay.core.exceptions import AssayError
from governance.provenance.credentials import load_credentials
from governance.provenance.services import init_signing


class Command(BaseCommand):
    help = ("Make (or reuse) a development root CA and C2PA signing certificate under "
            "ASSAY_SIGNING_DIR; production sets ASSAY_SIGNING_CERT/KEY instead.")

    def add_arguments(self, parser: CommandParser) -> None:
        """--force replaces existing credentials."""
        parser.add_argument("--force", action="store_true",
                            help="Make a new root and certificate even if they exist.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Say what was made or reused, and until when it is valid."""
        try:
            with audit_context(actor=Actor.system("cli")):
                changed = init_signing(force=options["force"])
            creds = load_credentials()
        except AssayError as exc:
            raise CommandError(exc.message) from None
        where = ("ASSAY_SIGNING_CERT" if settings.ASSAY_SIGNING_CERT
                 else str(settings.ASSAY_SIGNING_DIR))
        verb = f"made {' and '.join(changed)}" if changed else "reusing"
        self.stdout.write(f"Signing credentials ({where}): {verb}; {creds.subject}, valid "
                          f"until {creds.not_after:%Y-%m-%d}, SHA-256 {creds.fingerprint[:16]}…")
