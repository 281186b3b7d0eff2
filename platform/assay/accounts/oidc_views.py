"""The three single sign-on pages: start at the provider, come back, sign out there too.

Thin subclasses of mozilla-django-oidc's views. They answer 404 while single sign-on is
off, and every way a sign-in can fail (a stale or forged state, a nonce that does not
match, a provider that refuses or cannot be reached, a user Assay refuses) ends on the
sign-in page with a sentence that says what happened: a 4xx, never a 500.
"""

from __future__ import annotations

from typing import Any

import requests
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
    OIDCLogoutView,
)

from assay.accounts.oidc import enabled, oidc_setting, provider_name


def refusal(request: HttpRequest, message: str, status: int) -> HttpResponse:
    """The sign-in page again, with the reason the single sign-on did not work."""
    return render(request, "portal/login.html",
                  {"form": AuthenticationForm(request), "next": "", "sso_refusal": message},
                  status=status)


def _unreachable() -> str:
    return f"{provider_name()} could not be reached; try again in a minute."


class ProviderLoginView(OIDCAuthenticationRequestView):
    """Send the browser to the provider with a fresh state, nonce and PKCE challenge."""

    http_method_names = ["get"]
    get_settings = staticmethod(oidc_setting)

    def __init__(self, **kwargs: Any) -> None:
        View.__init__(self, **kwargs)  # settings are read per request, in get()

    def get(self, request: HttpRequest) -> HttpResponse:
        if not enabled():
            raise Http404("Single sign-on is off.")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = oidc_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except requests.RequestException:
            return refusal(request, _unreachable(), 502)
        self.OIDC_RP_CLIENT_ID = oidc_setting("OIDC_RP_CLIENT_ID")
        return super().get(request)


class ProviderCallbackView(OIDCAuthenticationCallbackView):
    """The provider's answer: check state and nonce, fetch tokens, sign in or refuse."""

    http_method_names = ["get"]
    get_settings = staticmethod(oidc_setting)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not enabled():
            raise Http404("Single sign-on is off.")
        if "error" not in request.GET:
            if "code" not in request.GET or "state" not in request.GET:
                return refusal(request, "This sign-in link is incomplete; start again from "
                               "the sign-in page.", 400)
            if request.GET["state"] not in request.session.get("oidc_states", {}):
                return refusal(request, "This sign-in was not started in this browser or "
                               "has expired; start again from the sign-in page.", 400)
        try:
            return super().get(request)
        except SuspiciousOperation:
            return refusal(request, f"The answer from {provider_name()} did not match this "
                           "sign-in; start again from the sign-in page.", 400)
        except requests.HTTPError as exc:
            code = exc.response.status_code if exc.response is not None else 502
            if 400 <= code < 500:
                return refusal(request, f"{provider_name()} refused the sign-in: the account "
                               "may have been disabled or removed there.", 403)
            return refusal(request, _unreachable(), 502)
        except requests.RequestException:
            return refusal(request, _unreachable(), 502)

    def login_failure(self) -> HttpResponse:
        reason = getattr(self.request, "oidc_refusal", "")
        if not reason and getattr(self, "user", None) is not None:
            reason = "This Assay account is switched off; ask an Assay admin."
        return refusal(self.request, reason or f"{provider_name()} did not sign you in.", 403)


class ProviderLogoutView(OIDCLogoutView):
    """Sign out of Assay, then of the provider when it has an end-session endpoint."""

    http_method_names = ["post"]
    get_settings = staticmethod(oidc_setting)

    def post(self, request: HttpRequest) -> HttpResponse:
        if not enabled():
            raise Http404("Single sign-on is off.")
        try:
            return super().post(request)
        except requests.RequestException:
            return refusal(request, _unreachable(), 502)
