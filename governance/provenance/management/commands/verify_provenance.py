"""`manage.py verify_provenance FILE [--sidecar F]`: what a file's Content Credentials say."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assay.audit.context import Actor, audit_context
from assay.core.exceptions import AssayError
from governance.provenance.services import verify_file


class Command(BaseCommand):
    help = ("Verify a file's C2PA Content Credentials against the trusted roots; text needs "
            "its .c2pa sidecar. Exit status 1 when Invalid.")

    def add_arguments(self, parser: CommandParser) -> None:
        """The file, an optional sidecar, and --json."""
        parser.add_argument("file")
        parser.add_argument("--sidecar", help="The .c2pa sidecar of a text file.")
        parser.add_argument("--json", action="store_true", help="Print the full report.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Print the state, each failure in plain words, and the summary."""
        path = Path(options["file"])
        try:
            data = path.read_bytes()
            sidecar = Path(options["sidecar"]).read_bytes() if options["sidecar"] else None
        except OSError as exc:
            raise CommandError(f"Cannot read {exc.filename}: {exc.strerror}.") from None
        try:
            with audit_context(actor=Actor.system("cli")):
                report = verify_file(data, sidecar=sidecar, filename=path.name)
        except AssayError as exc:
            raise CommandError(exc.message) from None
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            self.stdout.write(f"{path.name}: {report.state.upper()}")
            self.stdout.write(report.headline)
            for failure in report.failures:
                self.stdout.write(f"  ✗ {failure['code']}: {failure['meaning']}")
            for line in report.lines:
                self.stdout.write(f"  {line}")
        if report.state == "invalid":
            raise SystemExit(1)
