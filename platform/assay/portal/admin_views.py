"""The platform admins' screens: plugins, signing credentials, everyone's API tokens and
system health, with an index linking them.

Each screen reads what its REST twin reads: plugin statuses from the process's plugin
manager (``GET /api/v1/plugins/``), ``governance.provenance.credential_status``
(``GET /api/v1/provenance/credentials/``), ``assay.accounts.services`` with the REST token
filter (``GET /api/v1/tokens/``) and ``assay.generation.health`` (``GET /api/v1/health/``).
Revoking calls ``revoke_token`` as the tokens page and REST do. Anyone who is not a
platform admin gets a 403 in words. Raw errors and ids stay inside "Details" folds, and
nothing here ever reads the private signing key.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from assay.accounts.api import TokenFilter
from assay.accounts.choices import TokenStatus
from assay.accounts.models import User
from assay.accounts.services import REVOKE_REASON_CHARS, visible_tokens
from assay.generation.health import system_health
from assay.plugins.contracts import PLUGIN_API_VERSION
from assay.plugins.manager import PluginStatus, get_plugins
from assay.portal.token_views import revoke_and_say
from governance.provenance.credential_status import WARN_WITHIN_DAYS, credential_status

#: Most tokens the screen lists (newest first); ``GET /api/v1/tokens/`` pages through all.
PAGE_ROWS = 200
_TOKEN_BADGES = {"active": "badge-succeeded", "expired": "badge-cancelled",
                 "revoked": "badge-failed"}
_HOOK_WORDS = {
    "register_generators": "adds generators",
    "register_checks": "adds checks",
    "register_publishers": "adds publishers",
    "build_demo_models": "builds demo models",
    "asset_approved": "acts when an asset is approved",
    "generation_submitting": "checks each generation before it is queued",
    "generation_succeeded": "acts when a generation finishes",
    "assets_stored": "acts when outputs are stored",
}

View = Callable[..., HttpResponse]


def admin_only(what: str) -> Callable[[View], View]:
    """Signed in (else the sign-in page), then a platform admin (else a 403 in words)."""
    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_platform_admin:
                return render(request, "portal/refused.html", {
                    "message": f"Only platform admins can see {what}. Ask one if you need "
                               "something changed there."}, status=403)
            return view(request, *args, **kwargs)
        return wrapped
    return decorate


@require_GET
@admin_only("the admin screens")
def admin_index(request: HttpRequest) -> HttpResponse:
    """Links to the four screens."""
    return render(request, "portal/admin_index.html")


# -- plugins ------------------------------------------------------------------------------
def plugin_label(name: str) -> str:
    """A plugin's entry-point name as words ("text_transformers" → "Text transformers")."""
    words = name.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else "Unnamed plugin"


def plugin_problem(status: PluginStatus) -> str:
    """Why a plugin was not loaded, in words (the raw error goes in the Details fold)."""
    error = status.error
    if status.status == "ok":
        return ""
    if status.status == "incompatible":
        return ("Not loaded: it was written for another version of the plugin interface "
                f"(this platform provides version {PLUGIN_API_VERSION}). Install a version "
                "of the plugin made for it.")
    if error.startswith("Traceback") or "\n" in error:
        return ("Not loaded: its code stopped with an error while it was being loaded. "
                "The plugin's authors can read the error below.")
    if "unknown hook" in error or "PluginValidationError" in error:
        return ("Not loaded: it answers a hook this platform does not have (a misspelt "
                "name, or written for another version).")
    if "already registered by plugin" in error:
        return ("Not loaded: it registers a generator or check under a name another plugin "
                "already uses.")
    if "subclass" in error or "has no id" in error:
        return "Not loaded: one of its hooks returned something the platform cannot use."
    return "Not loaded: it failed while being set up."


def _plugin_row(status: PluginStatus) -> dict[str, Any]:
    hooks = [_HOOK_WORDS.get(hook, "answers another hook") for hook in status.hooks]
    return {
        "status": status, "label": plugin_label(status.name), "ok": status.status == "ok",
        "problem": plugin_problem(status), "hooks": sorted(set(hooks)),
        "badge": "badge-succeeded" if status.status == "ok" else "badge-failed",
        "state": {"ok": "Working", "incompatible": "Wrong version"}.get(status.status,
                                                                       "Not loaded"),
    }


@require_GET
@admin_only("plugin status")
def admin_plugins(request: HttpRequest) -> HttpResponse:
    """Every discovered plugin: its state, what it adds, version, and why it failed."""
    rows = [_plugin_row(status) for status in get_plugins().statuses]
    failed = sum(1 for row in rows if not row["ok"])
    return render(request, "portal/admin_plugins.html",
                  {"rows": rows, "failed": failed, "api_version": PLUGIN_API_VERSION})


# -- signing credentials ------------------------------------------------------------------
@require_GET
@admin_only("the signing credentials")
def admin_signing(request: HttpRequest) -> HttpResponse:
    """The signing certificate: who it names, when it ends, and a warning before then."""
    return render(request, "portal/admin_signing.html",
                  {"creds": credential_status(), "warn_days": WARN_WITHIN_DAYS})


# -- everyone's API tokens ----------------------------------------------------------------
def _filters(data: Any) -> dict[str, str]:
    """The screen's own filters (user, status), to keep them across a revoke."""
    return {key: data[key] for key in ("user", "status")
            if isinstance(data.get(key), str) and data[key]}


@require_GET
@admin_only("everyone's API tokens")
def admin_tokens(request: HttpRequest) -> HttpResponse:
    """Every user's tokens, filtered by user and status as ``GET /api/v1/tokens/`` is."""
    filterset = TokenFilter(request.GET, queryset=visible_tokens(request.user)
                            .order_by("-created_at"))
    valid = filterset.is_valid()
    tokens = list(filterset.qs[:PAGE_ROWS]) if valid else []
    owners = (User.objects.filter(api_tokens__isnull=False).distinct()
              .order_by("username").values_list("username", flat=True))
    return render(request, "portal/admin_tokens.html", {
        "rows": [{"token": t, "badge": _TOKEN_BADGES[t.status]} for t in tokens],
        "problems": [] if valid else [f"The {field} filter: {' '.join(errors)}" for field, errors
                                      in filterset.errors.items()],
        "owners": list(owners), "statuses": TokenStatus.choices,
        "chosen": _filters(request.GET), "page_rows": PAGE_ROWS,
        "reason_chars": REVOKE_REASON_CHARS, "back": urlencode(_filters(request.GET)),
    }, status=200 if valid else 400)


@require_POST
@admin_only("everyone's API tokens")
def admin_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """Revoke any user's token through the accounts service, then back to the list."""
    revoke_and_say(request, token_id, missing="No such API token.",
                   done=lambda token: f"Revoked “{token.name}” of "
                                      f"{token.user.get_username()}: it is refused from now on.")
    back = urlencode(_filters(request.POST))
    return redirect(reverse("portal:admin_tokens") + (f"?{back}" if back else ""))


# -- system health ------------------------------------------------------------------------
@require_GET
@admin_only("system health")
def admin_health(request: HttpRequest) -> HttpResponse:
    """Database, broker, messages waiting per queue, and the workers seen lately."""
    return render(request, "portal/admin_health.html", {"health": system_health()})
