"""`manage.py plugins`: every discovered plugin, its version, hooks and status."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from assay.plugins.manager import build_plugins


class Command(BaseCommand):
    help = "List Assay plugins (entry-point group 'assay') with their status and errors."

    def add_arguments(self, parser: CommandParser) -> None:
        """--json for machine-readable output."""
        parser.add_argument("--json", action="store_true", help="Print JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Never strict here: the point is to show what failed."""
        plugins = build_plugins(strict=False)
        if options["json"]:
            import json

            self.stdout.write(json.dumps([s.as_dict() for s in plugins.statuses], indent=2))
            return
        for st in plugins.statuses:
            dist = f"{st.distribution} {st.version}".strip() or "(no distribution)"
            self.stdout.write(f"{st.name:<20} {st.status:<12} {dist:<32} {st.module}")
            if st.hooks:
                self.stdout.write(f"    hooks: {', '.join(st.hooks)}")
            if st.generators:
                self.stdout.write(f"    generators: {', '.join(st.generators)}")
            if st.error:
                self.stdout.write(self.style.ERROR(
                    "    error: " + st.error.strip().splitlines()[-1]))
