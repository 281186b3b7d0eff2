"""`manage.py audit_checkpoint`: sign the audit log's head and export it to a file."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from assay.audit.checkpoints import checkpoint_dir, write_checkpoint


class Command(BaseCommand):
    help = ("Seal pending audit events, then sign (seq, head hash, time) and store it as a "
            "row and as a file under ASSAY_AUDIT_CHECKPOINT_DIR.")

    def add_arguments(self, parser: CommandParser) -> None:
        """--force writes one even when the head has not moved."""
        parser.add_argument("--force", action="store_true",
                            help="Write a checkpoint even if the head is unchanged.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Print what was written."""
        checkpoint = write_checkpoint(force=options["force"])
        if checkpoint is None:
            self.stdout.write("no checkpoint written: the log is empty or its head has not "
                              "moved since the last one")
            return
        self.stdout.write(f"checkpoint at seq {checkpoint.seq} ({checkpoint.head_hash[:16]}…) "
                          f"written to {checkpoint_dir() / checkpoint.file_name}")
