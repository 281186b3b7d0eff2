"""Browser fixtures shared by the portal's browser tests.

Headless Chromium from the Debian package, driven by Playwright's sync API (never a
downloaded browser). Jobs run in this process by the real runtime (``run_job``) on a
background thread, so the page's htmx polling is what shows progress and output.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from assay.generation.runtime import run_job
from tests.conftest import skip_or_fail

CHROMIUM = "/usr/bin/chromium"
SCREENSHOT = "/tmp/assay-job.png"
TIMEOUT_MS = 15_000
JOB_URL = re.compile(r".*/jobs/([0-9a-f-]{36})/$")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module (each test gets its own context)."""
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is not installed")
    # Playwright's sync API keeps an asyncio loop on this thread; Django would then refuse
    # the test's own ORM calls as "async". They are plain sync calls, so allow them here.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"])
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh context (no cookies) with a readable viewport."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def no_broker(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record the on-commit broker send instead of publishing it."""
    sent: list[Any] = []
    monkeypatch.setattr("assay.generation.services.send_job", sent.append)
    return sent


def sign_in(page: Any, base_url: str, username: str) -> None:
    """Through the real login form, as a person would."""
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


def run_in_background(job_id: str) -> threading.Thread:
    def work() -> None:
        try:
            run_job(job_id, worker="browser-test")
        finally:
            connection.close()

    thread = threading.Thread(target=work, name="browser-test-worker", daemon=True)
    thread.start()
    return thread
