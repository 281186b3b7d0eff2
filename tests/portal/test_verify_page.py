"""The Verify page: a signed image, a signed text with its sidecar, a tampered file, a file
without Content Credentials and refusals, all read in words through the verify service."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from assay.audit.models import AuditEvent
from tests.portal.signed_files import (  # noqa: F401 (fixtures)
    signed_png_fixture,
    signed_text_fixture,
    signing_fixture,
)
from tests.provenance.conftest import image_bytes

pytestmark = pytest.mark.django_db
URL = "/verify/"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client: Client, data: bytes, name: str = "picture.png",
           sidecar: bytes | None = None):
    files = {"file": SimpleUploadedFile(name, data)}
    if sidecar is not None:
        files["sidecar"] = SimpleUploadedFile("copy.c2pa", sidecar)
    return client.post(URL, files)


def verdict(response) -> str:
    match = re.search(r'id="verdict-state">([^<]+)<', response.content.decode())
    return match.group(1) if match else ""


def visible(response) -> str:
    """The page text outside <details> folds, whitespace collapsed."""
    html = re.sub(r"<details.*?</details>", " ", response.content.decode(), flags=re.S)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_page_is_in_the_nav_and_anonymous_users_sign_in_first(users):
    anonymous = Client().get(URL)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/?next=")
    assert Client().post(URL, {}).status_code == 302
    page = client_for(users["outsider"]).get(URL)
    assert page.status_code == 200
    assert b'href="/verify/">Verify a file</a>' in page.content
    assert b'enctype="multipart/form-data"' in page.content


def test_a_signed_png_reads_trusted_in_words(signed_png, users):
    response = upload(client_for(users["outsider"]), signed_png)
    assert response.status_code == 200
    assert verdict(response) == "Trusted Content Credentials"
    text = visible(response)
    for words in ("Signed by", "Made by AI Yes: made by a generative AI model", "Model sd-turbo",
                  "Prompt template “blurb”, version 1", "Project Launch",
                  "Approved at the “review” stage by reviewer-", "(reviewer) on",
                  "None: this is the first signed version."):
        assert words in text, words
    assert "image-diffusers" not in text and "org.assay" not in text
    assert not re.search(r"\b[0-9a-f]{64}\b", text), "a hash outside the Details fold"
    assert "image-diffusers" in response.content.decode()  # inside the fold
    event = AuditEvent.objects.filter(action="provenance.file.verified").latest("id")
    assert event.data["outcome"] == "trusted" and event.actor_display == "otto"


def test_a_signed_text_with_its_sidecar_reads_trusted(signed_text, users):
    text, sidecar = signed_text
    response = upload(client_for(users["creator"]), text, "copy.txt", sidecar)
    assert response.status_code == 200, visible(response)
    assert verdict(response) == "Trusted Content Credentials"
    words = visible(response)
    assert "Text: copy.txt" in words and "Approved at the “review” stage" in words
    assert "Automatic checks before approval" in words


def test_text_without_its_sidecar_is_told_to_add_it(users):
    response = upload(client_for(users["creator"]), b"Hello, Kite.", "copy.txt")
    assert response.status_code == 400
    assert "its Content Credentials are in a separate .c2pa file" in visible(response)


def test_a_tampered_file_reads_invalid(signed_png, signed_text, users):
    client = client_for(users["creator"])
    at = signed_png.rindex(b"IDAT") + 8  # a pixel byte, inside the compressed image data
    tampered = signed_png[:at] + bytes([signed_png[at] ^ 1]) + signed_png[at + 1:]
    response = upload(client, tampered)
    assert response.status_code == 200
    assert verdict(response) == "Content Credentials do not match this file"
    words = visible(response)
    assert "What is wrong" in words and "changed after it was signed" in words
    assert "What the credentials claim (not confirmed)" in words and "it says:" in words
    assert "assertion.dataHash.mismatch" not in words  # the code is in the fold
    assert "assertion.dataHash.mismatch" in response.content.decode()
    text, sidecar = signed_text
    edited = upload(client, text.replace(b"Kite", b"Kitf", 1), "copy.txt", sidecar)
    assert verdict(edited) == "Content Credentials do not match this file"


def test_a_file_without_credentials_says_so(users):
    response = upload(client_for(users["creator"]), image_bytes())
    assert response.status_code == 200
    assert verdict(response) == "No Content Credentials"
    assert "carries no C2PA manifest" in visible(response)


@pytest.mark.parametrize(("data", "status", "words"), [
    (bytes(range(256)) * 4, 415, "Content Credentials cannot be read from this kind of file"),
    (image_bytes()[:40], 400, "could not be read: it may be cut short or damaged"),
    (b"", 400, "is empty"),
])
def test_unreadable_files_are_a_message_not_a_500(users, data, status, words):
    response = upload(client_for(users["creator"]), data, "junk.png")
    assert response.status_code == status
    text = visible(response)
    assert words in text, text
    assert "ASSAY_" not in text and "unsupported_type" not in text


def test_a_bad_sidecar_and_an_oversized_file_are_refused_in_words(users, settings):
    client = client_for(users["creator"])
    bad = upload(client, b"Hello, Kite.", "copy.txt", b"not a manifest")
    assert bad.status_code == 400 and "is not a .c2pa file" in visible(bad)
    settings.ASSAY_VERIFY_MAX_BYTES = 1000
    big = upload(client, b"\x89PNG" + b"0" * 1500)
    assert big.status_code == 413 and "larger than the 1000" in visible(big)
    huge = upload(client, b"x" * 70_000)  # refused from Content-Length, before parsing
    assert huge.status_code == 413 and "this server checks files up to" in visible(huge)


def test_csrf_is_checked_after_the_size(users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["creator"])
    assert upload(client, image_bytes()).status_code == 403


def test_query_budget(users, signed_png, django_assert_max_num_queries):
    client = client_for(users["creator"])
    with django_assert_max_num_queries(3):
        assert client.get(URL).status_code == 200
    with django_assert_max_num_queries(4):
        assert upload(client, signed_png).status_code == 200
