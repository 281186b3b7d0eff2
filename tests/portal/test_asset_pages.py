"""The asset library and the asset page: filters, search, scoping, query counts, versions
with their diff, the Content Credentials panel of a really signed asset, downloads under a
readable name with the served bytes' hash and size, and revising (edit or regenerate)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.urls import reverse

from assay.audit.models import AuditEvent
from assay.core.exceptions import Conflict, InvalidInput
from assay.generation.runtime import run_job
from assay.generation.services import submit_generation
from assay.portal.versions import text_diff
from assay.studio.models import Asset
from governance.provenance.services import sign_approved
from governance.review import workflow
from governance.review.checks import run_checks
from governance.review.models import Review
from tests.conftest import generate_checked, make_template
from tests.provenance.conftest import approve, image_bytes, make_image_asset, make_image_job

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def signing(settings: Any, dev_signing: Path, tmp_path: Path) -> None:
    """Real signing with development credentials; media in a fresh folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def signed_approval(asset: Asset, users: dict[str, Any], capture: Any) -> Review:
    """Approve through the workflow, then sign through the real service (the task's)."""
    review, _send = approve(asset, users["creator"], users["reviewer"], capture)
    assert sign_approved(str(asset.pk), review.pk) is not None
    return review


def library_ids(client: Any, **params: str) -> set[str]:
    response = client.get(reverse("portal:assets"), params)
    assert response.status_code == 200, response.content.decode()[:500]
    return {str(a.pk) for a in response.context["assets"]}


def api_ids(client: Any, **params: str) -> set[str]:
    response = client.get("/api/v1/assets/", params)
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


# -- the diff ------------------------------------------------------------------------------
def test_text_diff_is_word_level_and_each_side_joins_back():
    old, new = "Meet the Kite.\nIt flies far.", "Meet the new Kite!\nIt flies far."
    diff = text_diff(old, new)
    assert diff[0] == ("same", "Meet the ") and diff[-1] == ("same", "\nIt flies far.")
    assert ("removed", "Kite.") in diff and ("added", "new Kite!") in diff
    assert "".join(t for op, t in diff if op != "added") == old
    assert "".join(t for op, t in diff if op != "removed") == new
    assert text_diff("same", "same") == [("same", "same")]


# -- the library ---------------------------------------------------------------------------
@pytest.fixture
def shelf(users, project, template, other_project, django_capture_on_commit_callbacks):
    """A library: texts from two templates, an image, an approved+signed text, an edit."""
    capture = django_capture_on_commit_callbacks
    make_template(project, users["owner"], slug="tagline",
                  text="A tagline for {{ product }} for {{ audience }}.")
    kite = generate_checked(users["creator"], project, capture, product="Kite")
    drone = generate_checked(users["creator"], project, capture, product="Drone")
    with capture(execute=False):
        job = submit_generation(users["owner"], project=project, template="tagline",
                                variables={"product": "Balloon"})
    with capture(execute=False):
        run_job(str(job.pk), worker="w")
    balloon = Asset.objects.get(job=job)
    image = make_image_asset(project, users["owner"],
                             make_image_job(project, users["owner"], template),
                             image_bytes())
    signed_approval(drone, users, capture)
    with capture(execute=False):
        edit = workflow.revise_text(users["owner"], kite, text="Meet the Kite, edited.")
    Asset.objects.filter(pk=image.pk).update(created_at=dt.datetime(2024, 1, 5, tzinfo=dt.UTC))
    make_template(other_project, users["outsider"])
    secret = generate_checked(users["outsider"], other_project, capture, product="Secret")
    return {"kite": str(kite.pk), "drone": str(drone.pk), "balloon": str(balloon.pk),
            "image": str(image.pk), "edit": str(edit.pk), "secret": str(secret.pk)}


def outside_details(html: str) -> str:
    """The page as read without opening any "Details" fold."""
    return re.sub(r"<details.*?</details>", "", html, flags=re.S)


def test_each_library_filter_narrows_the_list_on_both_faces(client, users, shelf):
    client.force_login(users["creator"])
    # our creator reviews in the other project too, so its asset is in their library
    everything = {shelf[k] for k in ("kite", "drone", "balloon", "image", "edit", "secret")}
    cases = {
        (): everything,
        (("template", "tagline"),): {shelf["balloon"]},
        # the edit has no job of its own: its template is its origin's
        (("template", "blurb"),): everything - {shelf["balloon"]},
        (("project", "secret"),): {shelf["secret"]},
        (("kind", "image"),): {shelf["image"]},
        (("review_state", "approved"),): {shelf["drone"]},
        (("review_state", "superseded"),): {shelf["kite"]},
        (("review_state", "none"),): {shelf["balloon"], shelf["image"], shelf["edit"]},
        (("signed", "true"),): {shelf["drone"]},
        (("signed", "false"),): everything - {shelf["drone"]},
        (("creator", "olga"),): {shelf["balloon"], shelf["image"], shelf["edit"]},
        (("created_before", "2024-12-31"),): {shelf["image"]},
        (("created_after", "2025-01-01"),): everything - {shelf["image"]},
        (("q", "balloon"),): {shelf["balloon"]},
        # the variables and the prompt, in any case (the image's prompt is "a kite")
        (("q", "KITE"),): {shelf["kite"], shelf["edit"], shelf["image"]},
        (("latest", "true"),): everything - {shelf["kite"]},
        (("project", "launch"), ("kind", "text"), ("creator", "cara")):
            {shelf["kite"], shelf["drone"]},
    }
    for params, expected in cases.items():
        assert library_ids(client, **dict(params)) == expected, params
        assert api_ids(client, **dict(params)) == expected, params


def test_library_sorts_newest_first_or_oldest_first(client, users, shelf):
    client.force_login(users["creator"])
    newest = client.get(reverse("portal:assets")).context["assets"]
    oldest = client.get(reverse("portal:assets"), {"sort": "oldest"}).context["assets"]
    assert [a.pk for a in newest] == [a.pk for a in reversed(oldest)]
    assert str(oldest[0].pk) == shelf["image"]


def test_bad_filter_values_are_a_400_that_names_the_filter(client, users, shelf):
    client.force_login(users["creator"])
    response = client.get(reverse("portal:assets"), {"created_after": "yesterday",
                                                    "kind": "hologram"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Made from" in html or "From" in html
    assert "Select a valid choice" in html
    assert client.get("/api/v1/assets/", {"kind": "hologram"}).status_code == 400


def test_the_outsider_sees_none_of_the_projects_assets(client, users, shelf):
    client.force_login(users["outsider"])
    assert library_ids(client) == {shelf["secret"]}
    assert api_ids(client) == {shelf["secret"]}
    assert client.get(reverse("portal:asset", args=[shelf["kite"]])).status_code == 404
    assert client.get(reverse("portal:asset_download", args=[shelf["kite"]])).status_code == 404


def test_library_page_shows_cards_in_words_with_a_bounded_query_count(
        client, users, shelf, django_assert_max_num_queries):
    client.force_login(users["creator"])
    with django_assert_max_num_queries(10):
        response = client.get(reverse("portal:assets"))
    html = response.content.decode()
    assert 'id="asset-grid"' in html and "Signed" in html and "Approved" in html
    assert reverse("portal:asset_content", args=[shelf["image"]]) in html  # a thumbnail
    assert "Meet the Kite, edited." in html  # a text excerpt
    assert "Newer version exists" in html
    assert "sha256" not in html.lower()
    # more assets do not mean more queries
    for n in range(6):
        Asset.objects.create(project_id=Asset.objects.get(pk=shelf["kite"]).project_id,
                             kind="text", media_type="text/plain", text=f"extra {n}",
                             byte_size=7, sha256=f"{n:064d}")
    with django_assert_max_num_queries(10):
        client.get(reverse("portal:assets"))


def test_library_paginates(client, users, project, template, settings):
    for n in range(30):
        Asset.objects.create(project=project, kind="text", media_type="text/plain",
                             text=f"text {n}", byte_size=6, sha256=f"{n:064d}")
    client.force_login(users["creator"])
    first = client.get(reverse("portal:assets"), {"kind": "text"})
    assert len(first.context["assets"]) == 24 and "page=2" in first.content.decode()
    assert "kind=text" in first.content.decode()
    second = client.get(reverse("portal:assets"), {"kind": "text", "page": "2"})
    assert len(second.context["assets"]) == 6
    assert client.get("/api/v1/assets/", {"limit": "5"}).json()["count"] == 30


# -- the asset page ------------------------------------------------------------------------
def test_asset_page_shows_versions_diff_and_the_signed_credentials(
        client, users, project, template, django_capture_on_commit_callbacks,
        django_assert_max_num_queries):
    capture = django_capture_on_commit_callbacks
    first = generate_checked(users["creator"], project, capture, product="Kite")
    with capture(execute=False):
        second = workflow.revise_text(users["creator"], first,
                                      text=first.text + " Now with longer string.")
    run_checks(str(second.pk))
    signed_approval(second, users, capture)

    client.force_login(users["creator"])
    with django_assert_max_num_queries(30):
        response = client.get(reverse("portal:asset", args=[second.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "version 2 of 2" in html
    assert "Edited by cara" in html and "Generated by cara" in html
    assert "<ins>" in html and "longer" in html  # the diff against version 1
    assert 'id="credentials"' in html and "Intact and signed" in html
    assert "by <strong>rui</strong> (reviewer)" in html  # who approved, at which stage
    assert "review" in html and "template blurb, version 1" in html
    assert "earlier version" in html
    assert 'id="settings"' in html and "Number of variants" in html  # Param.label
    shown = outside_details(html)
    for raw in ("num_variants", "step_seconds", "dummy-echo", second.sha256):
        assert raw not in shown, raw
    # the older version says a newer one exists and links to it
    old = client.get(reverse("portal:asset", args=[first.pk])).content.decode()
    assert "A newer version exists" in old
    assert reverse("portal:asset", args=[second.pk]) in old
    assert "Superseded" in old or "Replaced by a newer version" in old


def test_download_has_a_readable_name_and_the_served_hash_and_size(
        client, users, project, template, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    asset = generate_checked(users["creator"], project, capture, product="Kite")
    client.force_login(users["creator"])
    url = reverse("portal:asset_download", args=[asset.pk])

    unsigned = client.get(url)
    assert 'attachment; filename="launch-blurb-v1.txt"' == unsigned["Content-Disposition"]
    assert unsigned["X-Content-SHA256"] == asset.sha256

    signed_approval(asset, users, capture)
    response = client.get(url)
    data = body(response)
    assert response["Content-Disposition"] == 'attachment; filename="launch-blurb-v1.txt"'
    served = hashlib.sha256(data).hexdigest()
    assert response["X-Content-SHA256"] == served
    page = client.get(reverse("portal:asset", args=[asset.pk])).content.decode()
    assert f'id="served-sha256">{served}</code>' in page
    assert f"{len(data)} bytes" in page
    sidecar = client.get(reverse("portal:asset_sidecar", args=[asset.pk]))
    assert sidecar.status_code == 200
    assert "launch-blurb-v1.txt.c2pa" in sidecar["Content-Disposition"]

    api = client.get(f"/api/v1/assets/{asset.pk}/content/")
    assert api["Content-Disposition"] == 'attachment; filename="launch-blurb-v1.txt"'
    assert body(api) == data


def test_an_image_downloads_as_png_and_offers_use_as_starting_image(
        client, users, project, template):
    image = make_image_asset(project, users["creator"],
                             make_image_job(project, users["creator"], template), image_bytes())
    client.force_login(users["creator"])
    response = client.get(reverse("portal:asset_download", args=[image.pk]))
    assert response["Content-Disposition"] == 'attachment; filename="launch-blurb-v1.png"'
    html = client.get(reverse("portal:asset", args=[image.pk])).content.decode()
    generate = reverse("portal:generate", args=[project.slug])
    assert f"{generate}?parent_asset={image.pk}" in html
    assert f"{generate}?from_job={image.job_id}&amp;revise={image.pk}" in html


def test_actions_are_links_to_the_generate_form(client, users, project, template,
                                                django_capture_on_commit_callbacks):
    asset = generate_checked(users["creator"], project, django_capture_on_commit_callbacks)
    client.force_login(users["creator"])
    html = client.get(reverse("portal:asset", args=[asset.pk])).content.decode()
    generate = reverse("portal:generate", args=[project.slug])
    assert f'href="{generate}?from_job={asset.job_id}"' in html
    assert f'href="{generate}?from_job={asset.job_id}&amp;edit=1"' in html
    assert f'href="{generate}?from_job={asset.job_id}&amp;revise={asset.pk}"' in html
    assert 'id="revise-form"' in html
    # a reviewer reads the page but gets no actions
    client.force_login(users["reviewer"])
    html = client.get(reverse("portal:asset", args=[asset.pk])).content.decode()
    assert 'id="revise-form"' not in html and "Regenerate" not in html


# -- revising ------------------------------------------------------------------------------
def test_revise_by_editing_makes_a_new_version_that_supersedes_the_review(
        client, users, project, template, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    asset = generate_checked(users["creator"], project, capture)
    old_review = Review.objects.get(asset=asset)
    client.force_login(users["creator"])
    with capture(execute=False) as sent:
        response = client.post(reverse("portal:asset_revise", args=[asset.pk]),
                               {"text": "A better intro for the Kite."})
    assert response.status_code == 302
    new = Asset.objects.get(parent=asset)
    assert response["Location"] == reverse("portal:asset", args=[new.pk])
    assert new.is_revision and new.metadata["edited_from"] == str(asset.pk)
    assert sent  # its checks were queued
    old_review.refresh_from_db()
    assert old_review.status == "superseded"
    run_checks(str(new.pk))
    assert Review.objects.get(asset=new).status == "in_review"
    assert asset.newest_version() == new


def test_revise_refusals_are_shown_on_the_page(client, users, project, template,
                                               django_capture_on_commit_callbacks):
    asset = generate_checked(users["creator"], project, django_capture_on_commit_callbacks)
    client.force_login(users["creator"])
    response = client.post(reverse("portal:asset_revise", args=[asset.pk]), {"text": "  "})
    assert response.status_code == 400
    assert "The new text is empty." in response.content.decode()
    client.force_login(users["reviewer"])
    response = client.post(reverse("portal:asset_revise", args=[asset.pk]), {"text": "x"})
    assert response.status_code == 403
    assert not Asset.objects.filter(parent=asset).exists()


def test_regenerating_as_a_revision_supersedes_the_old_review_when_the_new_one_opens(
        users, project, template, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    asset = generate_checked(users["creator"], project, capture)
    old_review = Review.objects.get(asset=asset)
    with capture(execute=False):
        job = submit_generation(users["creator"], project=project, template="blurb",
                                variables={"product": "Kite"}, revision_of=str(asset.pk),
                                parameters={"seed": 99})
    assert job.revision_of_id == asset.pk
    with capture(execute=False):
        assert run_job(str(job.pk), worker="w") == "succeeded"
    new = Asset.objects.get(job=job)
    assert new.parent_id == asset.pk and new.metadata["revision_of"] == str(asset.pk)
    assert new.is_revision and asset.newest_version() == new
    old_review.refresh_from_db()
    assert old_review.status == "in_review"  # until the new version's review opens
    run_checks(str(new.pk))
    old_review.refresh_from_db()
    assert old_review.status == "superseded"
    assert Review.objects.get(asset=new).status == "in_review"
    assert AuditEvent.objects.filter(action="review.asset.superseded",
                                     target_id=str(asset.pk)).count() == 1
    # an older version cannot be revised again: versions never fork
    with pytest.raises(Conflict, match="newer version"):
        submit_generation(users["creator"], project=project, template="blurb",
                          variables={"product": "Kite"}, revision_of=str(asset.pk))


def test_revision_of_is_refused_across_projects_and_kinds(
        users, project, template, other_project, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    make_template(other_project, users["outsider"])
    theirs = generate_checked(users["outsider"], other_project, capture)
    with pytest.raises(InvalidInput, match="must be an asset of project launch"):
        submit_generation(users["creator"], project=project, template="blurb",
                          variables={"product": "Kite"}, revision_of=str(theirs.pk))
    image = make_image_asset(project, users["creator"], None, image_bytes())
    with pytest.raises(InvalidInput, match="is image"):
        submit_generation(users["creator"], project=project, template="blurb",
                          variables={"product": "Kite"}, revision_of=str(image.pk))
    with pytest.raises(InvalidInput, match="not an asset id"):
        submit_generation(users["creator"], project=project, template="blurb",
                          variables={"product": "Kite"}, revision_of="nope")


def test_the_job_page_caption_says_a_newer_version_exists(
        client, users, project, template, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    asset = generate_checked(users["creator"], project, capture)
    client.force_login(users["creator"])
    job_url = reverse("portal:job", args=[asset.job_id])
    assert "A newer version exists" not in client.get(job_url).content.decode()
    with capture(execute=False):
        new = workflow.revise_text(users["creator"], asset, text="Edited.")
    html = client.get(job_url).content.decode()
    assert "A newer version exists" in html
    assert reverse("portal:asset", args=[new.pk]) in html


def test_approval_of_the_new_version_signs_it_and_the_page_shows_it(
        client, users, project, template, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    asset = generate_checked(users["creator"], project, capture)
    with mock.patch("assay.celery.app.send_task"):
        review = workflow.decide(users["reviewer"], Review.objects.get(asset=asset),
                                 decision="request_changes", content_sha256=asset.sha256,
                                 comment="Name the product in the first line.")
    assert review.status == "changes_requested"
    with capture(execute=False):
        new = workflow.revise_text(users["creator"], asset, text="Kite: the intro, revised.")
    run_checks(str(new.pk))
    client.force_login(users["creator"])
    page = client.get(reverse("portal:asset", args=[new.pk])).content.decode()
    assert "Not signed yet" in page
    review = Review.objects.get(asset=new)
    with capture(execute=True), mock.patch("assay.celery.app.send_task"):
        workflow.decide(users["reviewer"], review, decision="approve",
                        content_sha256=new.sha256)
    sign_approved(str(new.pk), review.pk)
    page = client.get(reverse("portal:asset", args=[new.pk])).content.decode()
    assert 'id="asset-signed">Signed' in page
    assert "Name the product in the first line." in client.get(
        reverse("portal:asset", args=[asset.pk])).content.decode()
