"""`manage.py set_quota`: set a monthly quota of a team, a project or a user."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assay.accounts.models import Team
from assay.audit.context import Actor, audit_context
from assay.core.exceptions import AssayError
from assay.studio.models import Project
from governance.usage.choices import Metric
from governance.usage.services import set_quota


class Command(BaseCommand):
    help = ("Set a monthly (UTC calendar month) quota: --team T, --project P, --user U, or "
            "--user U --project P for the user's work in that project.")

    def add_arguments(self, parser: CommandParser) -> None:
        """One target, a metric and a limit."""
        parser.add_argument("--team", help="Team slug.")
        parser.add_argument("--project", help="Project slug (with --user: only there).")
        parser.add_argument("--user", help="Username.")
        parser.add_argument("--metric", required=True, choices=Metric.values)
        parser.add_argument("--limit", required=True, type=int, help="Per month, 0 or more.")

    def handle(self, *args: Any, **opts: Any) -> None:
        """Print the quota that now applies."""
        team, project, user = opts["team"], opts["project"], opts["user"]
        if sum(bool(x) for x in (team, project, user)) != 1 and not (user and project
                                                                    and not team):
            raise CommandError("Name one target: --team, --project, --user, or --user with "
                               "--project.")
        try:
            if team:
                scope, target, where = "team", self._get(Team, slug=team), None
            elif user:
                where = self._get(Project, slug=project) if project else None
                scope, target = "user", self._get(get_user_model(), username=user)
            else:
                scope, target, where = "project", self._get(Project, slug=project), None
            with audit_context(actor=Actor.system("cli")):
                quota = set_quota(None, scope, target, opts["metric"], opts["limit"],
                                  project=where)
        except AssayError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"{quota.subject}: {quota.limit} {Metric(quota.metric).label} "
                          "per calendar month (UTC)")

    @staticmethod
    def _get(model: Any, **lookup: str) -> Any:
        found = model.objects.filter(**lookup).first()
        if found is None:
            name = model._meta.verbose_name
            raise CommandError(f"No {name} {next(iter(lookup.values()))!r}.")
        return found
