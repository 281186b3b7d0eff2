"""`manage.py issue_token USER [--name N] [--scope read|write] [--days D]`: an API token
for REST clients, shown once."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assay.accounts.choices import TokenScope
from assay.accounts.models import User
from assay.accounts.services import create_token
from assay.audit.context import Actor, audit_context
from assay.core.exceptions import AssayError


class Command(BaseCommand):
    help = ("Issue an API token for a user; the raw token is printed once (on stdout) and "
            "stored hashed.")

    def add_arguments(self, parser: CommandParser) -> None:
        """Username, name, scope and lifetime."""
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="A label for the token.")
        parser.add_argument("--scope", choices=TokenScope.values, default=TokenScope.WRITE,
                            help="read: safe methods only; write (default): everything the "
                                 "user's roles allow.")
        parser.add_argument("--days", type=int, default=90, help="Lifetime in days (1-366).")

    def handle(self, *args: Any, **options: Any) -> None:
        """Print the raw token."""
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {options['username']!r}.")
        try:
            with audit_context(actor=Actor.system("cli")):
                token, raw = create_token(user, name=options["name"], scope=options["scope"],
                                          days=options["days"])
        except AssayError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(raw)
        self.stderr.write(f"token {token.pk} ({token.scope}) expires "
                          f"{token.expires_at:%Y-%m-%d}; it is not shown again")
