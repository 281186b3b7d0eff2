"""`manage.py fetch_models`: download registered hub models into the Hugging Face cache.

The model-download Job runs it (with HF_HUB_OFFLINE off and HF_HOME on the model-cache
volume) so that workers, which never reach the hub, find every hub model offline.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assay.generation.modelfetch import fetch_models, hub_offline


class Command(BaseCommand):
    help = ("Download each registered hub model at its pinned revision into the Hugging Face "
            "cache (HF_HOME); local-folder models are skipped. Needs HF_HUB_OFFLINE off.")

    def add_arguments(self, parser: CommandParser) -> None:
        """--name limits the run; --dry-run only lists."""
        parser.add_argument("--name", action="append", default=[],
                            help="Only this registered model (repeatable).")
        parser.add_argument("--dry-run", action="store_true",
                            help="List what would be fetched; download nothing.")

    def handle(self, *args: Any, **opts: Any) -> None:
        """One line per model; exit 1 naming every model that failed."""
        if hub_offline() and not opts["dry_run"]:
            raise CommandError("HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is on, so nothing can "
                               "be downloaded; run this with HF_HUB_OFFLINE=0 where the model "
                               "hub is reachable (the model-download Job).")
        try:
            results = fetch_models(opts["name"], dry_run=opts["dry_run"])
        except KeyError as exc:
            raise CommandError(f"No registered model named {exc.args[0]}.") from None
        if not results:
            self.stdout.write("No registered models.")
        for result in results:
            line = f"{result.status}: {result.name} ({result.source} @ {result.revision})"
            self.stdout.write(f"{line} {result.detail}".rstrip())
        failed = [r.name for r in results if r.status == "failed"]
        if failed:
            raise CommandError(f"Could not fetch {', '.join(failed)}.")
