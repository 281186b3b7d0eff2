"""`manage.py verify_audit`: exit 0 when the audit log is intact, 1 naming the first bad seq."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assay.audit.context import Actor
from assay.audit.verify import verify_and_record


class Command(BaseCommand):
    help = ("Seal pending audit events, then check the hash chain and every signed "
            "checkpoint; exit 1 naming the first bad sequence number.")

    def add_arguments(self, parser: CommandParser) -> None:
        """Output and method."""
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
        parser.add_argument("--portable", action="store_true",
                            help="Rebuild canonical records in Python, not in the database.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Verify, record that we did, and fail loudly when the log does not hold."""
        result = verify_and_record(actor=Actor.system("verify_audit"), via="command",
                                   portable=options["portable"])
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), indent=2))
        if not result.ok:
            details = "\n".join(
                f"  seq {p.seq if p.seq is not None else '-'}: {p.message}"
                for p in result.problems)
            raise CommandError(f"{result.summary()}\n{details}", returncode=1)
        if not options["json"]:
            self.stdout.write(f"{result.summary()} ({result.seconds:.2f} s)")
