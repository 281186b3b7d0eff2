"""A real OpenID Connect provider for the single sign-on tests: panva's oidc-provider.

Started once per module under Node on 127.0.0.1 with a free port (tests/fixtures/oidc,
installed by `make oidc-provider`). Its accounts live in a JSON file the provider reads on
every request, so a test changes groups or disables an account by rewriting it.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlparse

import pytest
import requests

from assay.accounts import oidc
from tests.conftest import skip_or_fail

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "oidc"
CLIENT_ID, CLIENT_SECRET = "assay", "assay-test-secret"
ROLE_MAP = {"assay-admins": "admin", "assay-auditors": "auditor",
            "marketing": {"launch": "creator"}, "launch-owners": {"launch": "owner"}}


@dataclass
class TestProvider:
    """The running provider and its accounts file."""

    issuer: str
    accounts_path: Path

    def set_account(self, login: str, *, groups: list[str], disabled: bool = False,
                    password: str = "s3cret") -> None:
        """Create or change one account (the provider sees it at its next request)."""
        data = json.loads(self.accounts_path.read_text())
        data[login] = {"login": login, "password": password, "sub": f"sub-{login}",
                       "email": f"{login}@example.com", "groups": groups,
                       "disabled": disabled}
        self.accounts_path.write_text(json.dumps(data))

    def remove_account(self, login: str) -> None:
        data = json.loads(self.accounts_path.read_text())
        data.pop(login, None)
        self.accounts_path.write_text(json.dumps(data))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def oidc_provider(live_server: Any, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[TestProvider]:
    node = shutil.which("node")
    if node is None:
        skip_or_fail("node is not installed (the single sign-on tests need Node 20+)")
    if not (FIXTURE / "node_modules" / "oidc-provider").is_dir():
        skip_or_fail("oidc-provider is not installed: run `make oidc-provider`")
    accounts = tmp_path_factory.mktemp("oidc") / "accounts.json"
    accounts.write_text("{}")
    port = _free_port()
    proc = subprocess.Popen(
        [node, str(FIXTURE / "provider.mjs"), str(port), str(accounts),
         f"{live_server.url}/oidc/callback/"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    output = proc.stdout.read() if proc.stdout else ""
                    pytest.fail(f"the test OIDC provider did not start: {output}")
                time.sleep(0.1)
        yield TestProvider(issuer=issuer, accounts_path=accounts)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def sso(settings: Any, oidc_provider: TestProvider) -> Iterator[TestProvider]:
    """Single sign-on switched on against the test provider (endpoints by discovery)."""
    settings.ASSAY_OIDC_ENABLED = True
    settings.ASSAY_OIDC_PROVIDER_NAME = "Test IdP"
    settings.ASSAY_OIDC_ISSUER = oidc_provider.issuer
    settings.ASSAY_OIDC_ROLE_MAP = ROLE_MAP
    settings.ASSAY_OIDC_REQUIRE_MAPPED_GROUP = True
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    oidc._discovery_cache.clear()
    yield oidc_provider
    oidc._discovery_cache.clear()


def provider_round_trip(authorize_url: str, login: str, password: str = "s3cret"
                        ) -> tuple[str, dict[str, str], requests.Response]:
    """Sign in at the provider over HTTP; stop at the redirect back to Assay.

    Returns the callback URL, its query and the provider's last page (when it stopped on
    a form, e.g. a refusal).
    """
    http = requests.Session()
    url = authorize_url
    for _ in range(10):
        response = http.get(url, allow_redirects=False, timeout=10)
        if response.status_code == 200 and "<form" in response.text:
            action = urljoin(url, "/" + response.text.split('action="/', 1)[1].split('"')[0])
            response = http.post(action, data={"login": login, "password": password},
                                 allow_redirects=False, timeout=10)
            if response.status_code == 200:
                return "", {}, response
        location = response.headers.get("Location", "")
        if "/oidc/callback/" in location:
            query = {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}
            return location, query, response
        if not location:
            return "", {}, response
        url = urljoin(url, location)
    raise AssertionError("too many redirects at the provider")
