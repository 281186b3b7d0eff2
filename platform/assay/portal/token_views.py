"""The "API tokens" page: list, create (the secret shown once) and revoke.

Everyone manages their own tokens; platform admins also see and revoke everyone's. The
rules and the audit events live in assay.accounts.services, which REST and the commands
call too; this page shows the service's refusals in its words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from assay.accounts.choices import TokenScope
from assay.accounts.services import (
    REVOKE_REASON_CHARS,
    TOKEN_MAX_DAYS,
    TOKEN_NAME_CHARS,
    create_token,
    revoke_token,
    visible_tokens,
)
from assay.core.exceptions import Conflict, InvalidInput, NotFound, NotPermitted

#: Most tokens the page lists (newest first); the REST list pages through all of them.
PAGE_ROWS = 200
_BADGES = {"active": "badge-succeeded", "expired": "badge-cancelled", "revoked": "badge-failed"}


class TokenForm(forms.Form):
    """Shape only: the service checks the name, scope and lifetime (as for REST)."""

    name = forms.CharField(max_length=TOKEN_NAME_CHARS, strip=True,
                           help_text="Where the token is used, e.g. “CI pipeline”.")
    scope = forms.ChoiceField(choices=TokenScope.choices, initial=TokenScope.READ,
                              widget=forms.RadioSelect,
                              help_text="Read only: GET requests only. Read and write: "
                                        "everything your roles allow.")
    days = forms.IntegerField(initial=90, min_value=1, max_value=TOKEN_MAX_DAYS,
                              label="Expires after (days)",
                              help_text=f"From 1 to {TOKEN_MAX_DAYS} days.")


@login_required
@never_cache  # the page may show a new secret: no cache may keep it
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """The token list and the create form; after a create, the secret, once."""
    created: dict[str, Any] | None = None
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = create_token(request.user, by=request.user, **form.cleaned_data)
        except NotPermitted as exc:
            messages.error(request, exc.message)
        except InvalidInput as exc:
            for field, problems in exc.errors.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
            if not exc.errors:
                form.add_error(None, exc.message)
        else:
            created = {"token": token, "secret": raw}
            form = TokenForm()
    rows = [{"token": t, "badge": _BADGES[t.status]}
            for t in visible_tokens(request.user)[:PAGE_ROWS]]
    return render(request, "portal/tokens.html", {
        "form": form, "created": created, "rows": rows, "page_rows": PAGE_ROWS,
        "show_owner": request.user.is_platform_admin,
        "reason_chars": REVOKE_REASON_CHARS,
    }, status=400 if form.is_bound and form.errors else 200)  # a refused form is a 400


def revoke_and_say(request: HttpRequest, token_id: int, *, missing: str,
                   done: Callable[[Any], str]) -> None:
    """Revoke through the service and leave a message saying what happened (the tokens
    page and the admin screen both revoke this way); an unknown token is a 404."""
    try:
        token = revoke_token(token_id, by=request.user, reason=request.POST.get("reason", ""))
    except NotFound:
        raise Http404(missing) from None
    except (Conflict, InvalidInput) as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, done(token))


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """Revoke through the service, then back to the list with what happened."""
    revoke_and_say(request, token_id, missing="No such API token among yours.",
                   done=lambda token: f"Revoked “{token.name}” ({token.prefix}…): it is "
                                      "refused from now on.")
    return redirect("portal:tokens")
