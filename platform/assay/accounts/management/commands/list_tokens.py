"""`manage.py list_tokens [USER] [--active]`: API tokens with their scope, expiry and last
use (never their secrets)."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from assay.accounts.models import APIToken


class Command(BaseCommand):
    help = "List API tokens: one user's, or everyone's."

    def add_arguments(self, parser: CommandParser) -> None:
        """An optional username, a filter and the output format."""
        parser.add_argument("username", nargs="?", help="Only this user's tokens.")
        parser.add_argument("--active", action="store_true",
                            help="Only tokens that still authenticate.")
        parser.add_argument("--json", action="store_true", help="One JSON object per line.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Print one line per token, newest first."""
        tokens = APIToken.objects.select_related("user")
        if options["username"]:
            tokens = tokens.filter(user__username=options["username"])
        if options["active"]:
            tokens = tokens.active()
        for token in tokens:
            row = {
                "id": token.pk, "user": token.user.username, "name": token.name,
                "scope": token.scope, "prefix": token.prefix, "status": token.status,
                "created_at": token.created_at.isoformat(),
                "expires_at": token.expires_at.isoformat(),
                "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
            }
            if options["json"]:
                self.stdout.write(json.dumps(row))
                continue
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
            self.stdout.write(
                f"{token.pk:>6}  {token.user.username:<20} {token.scope:<5} {token.status:<7} "
                f"{token.prefix}…  expires {token.expires_at:%Y-%m-%d}  last used {used}  "
                f"{token.name}")
