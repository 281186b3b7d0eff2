"""The asset library and page in a real browser, as a creator uses them: open the library,
filter it, open an asset sent back for changes, revise its text, and after the editor's
approval (through the service) and the real signing service see the signed version."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.urls import reverse

from assay.studio.models import Asset
from governance.provenance.services import sign_approved
from governance.review import workflow
from governance.review.checks import run_checks
from governance.review.models import Review
from tests.conftest import generate_checked, make_template
from tests.portal.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOT = "/tmp/assay-asset-page.png"


@pytest.fixture
def signing(settings: Any, dev_signing: Path, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


class NoBrokerSends:
    """``generate_checked`` wants pytest-django's on-commit capture; in a transactional
    test commits are real, so this only stops the broker sends."""

    def __call__(self, execute: bool = False) -> Any:
        return mock.patch("assay.celery.app.send_task")


def test_creator_revises_after_changes_requested_and_sees_the_signed_version(
        page, live_server, users, project, template, signing, no_broker):
    from playwright.sync_api import expect

    make_template(project, users["owner"], slug="tagline", text="A tagline for {{ product }}.")
    capture = NoBrokerSends()
    asset = generate_checked(users["creator"], project, capture, product="Kite")
    generate_checked(users["creator"], project, capture, product="Drone")
    review = Review.objects.get(asset=asset)
    with capture():
        workflow.decide(users["reviewer"], review, decision="request_changes",
                        content_sha256=asset.sha256, comment="Name the Kite up front.")
    base = live_server.url

    sign_in(page, base, "cara")
    page.get_by_role("link", name="Asset library").click()
    expect(page.get_by_role("heading", name="Asset library", level=1)).to_be_visible()
    expect(page.locator(".asset-card")).to_have_count(2)
    page.get_by_label("Search the prompts").fill("kite")
    page.get_by_label("Review").select_option("changes_requested")
    page.get_by_role("button", name="Show assets").click()
    expect(page.locator(".asset-card")).to_have_count(1)
    expect(page.locator("#library-count")).to_contain_text("1 asset matches the filters")
    page.locator(".asset-card-link").first.click()

    page.wait_for_url(f"{base}{reverse('portal:asset', args=[asset.pk])}")
    expect(page.locator("#asset-review-state")).to_have_text("Changes requested")
    expect(page.locator("#review-history")).to_contain_text("Name the Kite up front.")
    expect(page.locator("#asset-signed")).to_have_text("Not signed yet")
    page.get_by_label("Revise the text").fill("Kite: the intro, with the Kite up front.")
    with capture():
        page.get_by_role("button", name="Save as a new version").click()
        page.wait_for_url(lambda url: str(asset.pk) not in url and "/assets/" in url)
    new = Asset.objects.get(parent=asset)
    expect(page.get_by_role("heading", level=1)).to_contain_text("version 2 of 2")
    expect(page.locator(".compare ins").first).to_be_visible()  # the diff with version 1
    expect(page.locator("#versions")).to_contain_text("Edited by cara")

    # the checks finish, the editor approves, the real signing service signs
    with capture():
        run_checks(str(new.pk))
        new_review = Review.objects.get(asset=new)
        workflow.decide(users["reviewer"], new_review, decision="approve",
                        content_sha256=new.sha256)
    assert sign_approved(str(new.pk), new_review.pk) is not None

    page.reload()
    expect(page.locator("#asset-signed")).to_have_text("Signed")
    expect(page.locator("#credentials")).to_contain_text("Intact and signed")
    expect(page.locator("#credential-approvals")).to_contain_text("rui")
    expect(page.locator("#download-link")).to_contain_text("launch-blurb-v2.txt")
    with page.expect_download() as download:
        page.locator("#download-link").click()
    assert download.value.suggested_filename == "launch-blurb-v2.txt"
    page.screenshot(path=SHOT, full_page=True)

    # the library now says the first version has a newer one, and the new one is signed
    page.goto(f"{base}{reverse('portal:assets')}?signed=true")
    expect(page.locator(".asset-card")).to_have_count(1)
    expect(page.locator(".asset-card")).to_contain_text("Signed")
    page.goto(f"{base}{reverse('portal:asset', args=[asset.pk])}")
    expect(page.locator("#newer-version")).to_contain_text("A newer version exists")
