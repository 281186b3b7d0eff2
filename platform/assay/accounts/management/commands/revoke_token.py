"""`manage.py revoke_token ID [--reason R]`: revoke an API token at once (audited)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assay.accounts.services import revoke_token
from assay.audit.context import Actor, audit_context
from assay.core.exceptions import AssayError


class Command(BaseCommand):
    help = "Revoke an API token (its id from list_tokens); the next request with it gets 401."

    def add_arguments(self, parser: CommandParser) -> None:
        """The token's id and an optional reason."""
        parser.add_argument("token_id", type=int)
        parser.add_argument("--reason", default="", help="Why, kept in the audit log.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Revoke, or exit 1 naming what is wrong."""
        try:
            with audit_context(actor=Actor.system("cli")):
                token = revoke_token(options["token_id"], reason=options["reason"])
        except AssayError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"revoked token {token.pk} ({token.name}) of {token.user.username}")
