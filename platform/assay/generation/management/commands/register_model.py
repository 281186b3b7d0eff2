"""`manage.py register_model`: add or re-pin a model in the registry."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assay.audit.context import Actor, audit_context
from assay.core.exceptions import AssayError
from assay.generation.registry import register_model
from assay.studio.models import Project


class Command(BaseCommand):
    help = ("Register a model for a generator: a local folder (pinned by content hash) or a "
            "hub id with --revision; allow it in --project (repeatable) or --all-projects.")

    def add_arguments(self, parser: CommandParser) -> None:
        """Mirrors RegisteredModel's fields."""
        parser.add_argument("name", help="Registry name, e.g. qwen-small-instruct.")
        parser.add_argument("--generator", required=True, help="Generator id.")
        parser.add_argument("--source", required=True, help="Local folder or hub model id.")
        parser.add_argument("--revision", help="Commit or tag (required for hub ids).")
        parser.add_argument("--license", required=True, help="Licence text or SPDX id.")
        parser.add_argument("--description", default="")
        parser.add_argument("--project", action="append", default=[], help="Project slug.")
        parser.add_argument("--all-projects", action="store_true")
        parser.add_argument("--default", action="store_true",
                            help="Use it when a submission names no model.")

    def handle(self, *args: Any, **opts: Any) -> None:
        """Print the pinned revision."""
        projects = list(Project.objects.filter(slug__in=opts["project"]))
        missing = set(opts["project"]) - {p.slug for p in projects}
        if missing:
            raise CommandError(f"Unknown project(s): {', '.join(sorted(missing))}")
        try:
            with audit_context(actor=Actor.system("cli")):
                model = register_model(
                    name=opts["name"], generator_id=opts["generator"], source=opts["source"],
                    revision=opts["revision"], license=opts["license"], projects=projects,
                    all_projects=opts["all_projects"], is_default=opts["default"],
                    description=opts["description"])
        except AssayError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"registered {model.name} for {model.generator_id}: {model.source} "
                          f"@ {model.revision}")
