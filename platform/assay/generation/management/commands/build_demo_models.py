"""`manage.py build_demo_models`: build the small local demo models offline."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from assay.generation.demo import build_demo_models


class Command(BaseCommand):
    help = "Build each plugin's small demo model under ASSAY_MODELS_DIR (no model hub needed)."

    def add_arguments(self, parser: CommandParser) -> None:
        """--force rebuilds even when the models are up to date."""
        parser.add_argument("--force", action="store_true", help="Rebuild from scratch.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Print what was built and how long it took."""
        started = time.perf_counter()
        names = build_demo_models(force=options["force"])
        elapsed = time.perf_counter() - started
        self.stdout.write(f"Demo models ready ({elapsed:.1f}s): {', '.join(names) or 'none'}")
