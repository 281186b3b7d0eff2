"""`manage.py bootstrap_demo`: create (or find) the demo data and print the logins."""

from typing import Any

from django.core.management.base import BaseCommand

from assay.studio.bootstrap import bootstrap_demo


class Command(BaseCommand):
    help = "Create the demo team, project, prompt template and one user per role."

    def handle(self, *args: Any, **options: Any) -> None:
        """Print one line per demo login."""
        logins = bootstrap_demo()
        self.stdout.write(f"Demo project: {logins.project_slug}")
        for username in logins.usernames:
            self.stdout.write(f"  login {username:<9} password {logins.password}")
