"""`manage.py generate`: submit a generation from the command line, optionally wait.

Calls the same submission service as the portal and the REST API.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assay.accounts.models import User
from assay.audit.context import Actor, audit_context
from assay.core.exceptions import AssayError
from assay.generation.models import GenerationJob
from assay.generation.services import submit_generation


def _pairs(values: list[str], what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        if "=" not in item:
            raise CommandError(f"--{what} takes NAME=VALUE, got {item!r}")
        name, value = item.split("=", 1)
        try:
            out[name] = json.loads(value) if what == "param" else value
        except json.JSONDecodeError:
            out[name] = value
    return out


class Command(BaseCommand):
    help = "Submit a generation job as a user; --wait prints the output when it is done."

    def add_arguments(self, parser: CommandParser) -> None:
        """Flags mirror the REST fields."""
        parser.add_argument("--user", required=True, help="Username to act as.")
        parser.add_argument("--project", required=True, help="Project slug.")
        parser.add_argument("--template", help="Template slug.")
        parser.add_argument("--label", help="Template label (default: latest).")
        parser.add_argument("--prompt-version", help="Prompt version id.")
        parser.add_argument("--generator", help="Generator id (default: the version's).")
        parser.add_argument("--var", action="append", default=[], help="NAME=VALUE variable.")
        parser.add_argument("--param", action="append", default=[],
                            help="NAME=VALUE parameter (JSON values: 5, 0.7, true).")
        parser.add_argument("--wait", action="store_true", help="Wait for the job to finish.")
        parser.add_argument("--timeout", type=float, default=300, help="Seconds to wait.")

    def handle(self, *args: Any, **opts: Any) -> None:
        """Submit, then poll the job row when --wait is given."""
        user = User.objects.filter(username=opts["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {opts['user']!r}.")
        try:
            with audit_context(actor=Actor.for_user(user)):
                job = submit_generation(
                    user, project=opts["project"], template=opts["template"],
                    label=opts["label"], prompt_version=opts["prompt_version"],
                    generator=opts["generator"], variables=_pairs(opts["var"], "var"),
                    parameters=_pairs(opts["param"], "param"))
        except AssayError as exc:
            details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
            raise CommandError(f"{exc.message}{' (' + details + ')' if details else ''}") from None
        self.stdout.write(f"job {job.pk} queued on {job.queue}")
        if not opts["wait"]:
            return
        deadline = time.monotonic() + opts["timeout"]
        while time.monotonic() < deadline:
            job = GenerationJob.objects.get(pk=job.pk)
            if job.is_terminal:
                break
            time.sleep(0.5)
        else:
            raise CommandError(f"job {job.pk} still {job.status} after {opts['timeout']}s")
        if job.status != "succeeded":
            raise CommandError(f"job {job.pk} {job.status}: {job.error}")
        for asset in job.assets.order_by("index"):
            self.stdout.write(f"asset {asset.pk} sha256={asset.sha256} {asset.media_type}")
            if asset.kind == "text":
                self.stdout.write(asset.text)
