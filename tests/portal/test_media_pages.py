"""Audio and video in the portal: byte ranges for seeking, the poster view, the players on
each page, durations in words, units on the generate form, and time-anchored comments
through the portal form and the REST endpoint (bad input and the wrong kind refused)."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from assay.plugins.contracts import Param
from assay.portal.forms import _param_field
from assay.portal.ranges import parse_range, ranged
from assay.portal.templatetags.media_words import clock
from assay.portal.units import unit_for
from governance.review.models import Comment
from tests.conftest import generate_checked
from tests.portal.media_helpers import media_asset, png_bytes, video_bytes, wav_bytes
from tests.portal.review_helpers import image_asset, open_review, text_asset

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def audio(users, project):
    return media_asset(project, users["creator"], "audio", wav_bytes(2.0), "audio/wav",
                       seconds=2.0)


@pytest.fixture
def video(users, project):
    return media_asset(project, users["creator"], "video", video_bytes(1.0, fps=4), "video/mp4",
                       seconds=1.0, poster=png_bytes(), width=64, height=64)


# -- ranges -------------------------------------------------------------------------------
@pytest.mark.parametrize(("header", "expected"), [
    ("bytes=0-9", (0, 9)), ("bytes=10-", (10, 99)), ("bytes=-5", (95, 99)),
    ("bytes=90-1000", (90, 99)), ("bytes=-500", (0, 99)), ("", None), ("bytes=0-1,5-6", None),
    ("items=0-5", None), ("bytes=9-3", None), ("bytes=100-", False), ("bytes=-0", False),
])
def test_parse_range(header, expected):
    assert parse_range(header, 100) == expected


def test_asset_content_answers_a_range_with_206(users, audio):
    client = _client(users["reviewer"])
    url = reverse("portal:asset_content", args=[audio.pk])
    whole = client.get(url)
    data = _body(whole)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    part = client.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert part["Content-Length"] == "100" and _body(part) == data[100:200]
    assert part["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert part["X-Content-SHA256"] == audio.sha256
    tail = client.get(url, HTTP_RANGE="bytes=-10")
    assert tail.status_code == 206 and _body(tail) == data[-10:]
    beyond = client.get(url, HTTP_RANGE=f"bytes={len(data)}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(data)}"
    # If-Range naming other bytes: the whole file again
    stale = client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"somethingelse"')
    assert stale.status_code == 200 and _body(stale) == data


def test_an_outsider_gets_no_range_either(users, audio):
    url = reverse("portal:asset_content", args=[audio.pk])
    assert _client(users["outsider"]).get(url, HTTP_RANGE="bytes=0-9").status_code == 404


def test_ranged_slices_an_in_memory_response():
    request = RequestFactory().get("/", HTTP_RANGE="bytes=2-4")
    response = ranged(request, HttpResponse(b"abcdefgh", content_type="text/plain"))
    assert response.status_code == 206 and _body(response) == b"cde"


# -- poster -------------------------------------------------------------------------------
def test_poster_is_served_to_members_only(users, video, audio):
    url = reverse("portal:asset_poster", args=[video.pk])
    response = _client(users["reviewer"]).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert _body(response) == png_bytes()
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert _client(users["outsider"]).get(url).status_code == 404
    assert Client().get(url).status_code == 302
    none = reverse("portal:asset_poster", args=[audio.pk])
    assert _client(users["reviewer"]).get(none).status_code == 404


# -- players and words --------------------------------------------------------------------
def test_clock_words():
    assert [clock(0), clock(12), clock(75.6), clock(3723)] == ["0:00", "0:12", "1:15", "1:02:03"]
    assert clock(None) == "" and clock(True) == "" and clock(float("nan")) == ""


def test_asset_page_and_library_show_players(users, audio, video):
    client = _client(users["creator"])
    page = client.get(reverse("portal:asset", args=[video.pk])).content.decode()
    assert f'poster="{reverse("portal:asset_poster", args=[video.pk])}"' in page
    assert "<video" in page and reverse("portal:asset_content", args=[video.pk]) in page
    assert "0:01" in page and "/media/" not in page
    page = client.get(reverse("portal:asset", args=[audio.pk])).content.decode()
    assert "<audio" in page and "0:02" in page
    library = client.get(reverse("portal:assets")).content.decode()
    assert "<audio" in library and reverse("portal:asset_poster", args=[video.pk]) in library
    assert "Audio" in library and "Video" in library and "0:02" in library


def test_review_queue_preview_has_a_compact_player(users, audio, project):
    open_review(audio, users["creator"])
    page = _client(users["reviewer"]).get(reverse("portal:reviews")).content.decode()
    assert "<audio" in page and "media-compact" in page


def test_generate_form_says_units_in_words():
    assert unit_for(Param("duration", float, 5.0, 1, 30, label="Duration")) == "seconds"
    assert unit_for(Param("fps", int, 8, 4, 24, label="Speed")) == "frames per second"
    assert unit_for(Param("fps", int, 8, 4, 24, label="Frames per second")) == ""
    assert unit_for(Param("frames", int, 16, 8, 32, label="Length (frames)")) == ""
    assert unit_for(Param("steps", int, 4, 1, 50)) == ""
    field = _param_field(Param("duration", float, 5.0, 1, 30, label="Duration",
                               help="How long the music runs", plain=True), 5.0)
    assert field.help_text == "How long the music runs. In seconds. From 1 to 30."
    voice = _param_field(Param("speaker", str, "a", choices=("a", "b"), label="Voice"), "a")
    assert voice.widget.__class__.__name__ == "Select"


# -- time-anchored comments: the portal form ----------------------------------------------
def test_portal_comment_at_a_time_and_a_range(users, audio):
    review = open_review(audio, users["creator"])
    client = _client(users["reviewer"])
    url = reverse("portal:review_comment", args=[review.pk])
    assert client.post(url, {"body": "Too loud here", "time_start": "1.5"}).status_code == 302
    assert client.post(url, {"body": "This stretch", "time_start": "0:01",
                             "time_end": "1.8"}).status_code == 302
    moment, stretch = Comment.objects.filter(review=review).order_by("pk")
    assert (moment.time_start, moment.time_end) == (1.5, None)
    assert (stretch.time_start, stretch.time_end) == (1.0, 1.8)
    page = client.get(reverse("portal:review", args=[review.pk])).content.decode()
    assert 'id="media-player"' in page and "media_review.js" in page
    assert 'data-seek="1.500000"' in page and ">0:01</a>" in page and "–0:01" in page
    assert 'id="id_time_start"' in page


@pytest.mark.parametrize(("typed", "words"), [
    ({"time_start": "-1"}, "before the start"),
    ({"time_start": "1", "time_end": "0.5"}, "must end after it starts"),
    ({"time_start": "9"}, "2 seconds long"),
    ({"time_start": "soon"}, "numbers of seconds"),
    ({"time_end": "1"}, "needs its start"),
    ({"span_start": "0", "span_end": "3"}, "no text passage"),
    ({"region_x": "0", "region_y": "0", "region_w": "3", "region_h": "3"}, "no image area"),
])
def test_portal_refuses_bad_times_in_words(users, audio, typed, words):
    review = open_review(audio, users["creator"])
    response = _client(users["reviewer"]).post(
        reverse("portal:review_comment", args=[review.pk]), {"body": "x", **typed})
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not Comment.objects.filter(review=review).exists()


def test_portal_refuses_a_time_on_an_image(users, project):
    review = open_review(image_asset(project, users["creator"]), users["creator"])
    response = _client(users["reviewer"]).post(
        reverse("portal:review_comment", args=[review.pk]), {"body": "x", "time_start": "1"})
    assert response.status_code == 400
    assert "Only audio and video comments can be anchored to a time" in response.content.decode()


# -- time-anchored comments: REST ---------------------------------------------------------
def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_rest_comment_with_a_time(users, video):
    review = open_review(video, users["creator"])
    url = f"/api/v1/reviews/{review.pk}/comments/"
    ok = _api(users["reviewer"]).post(url, {"body": "Flicker", "time_start": 0.25,
                                            "time_end": 0.75}, format="json")
    assert ok.status_code == 201, ok.content
    assert ok.json()["time_start"] == 0.25 and ok.json()["time_end"] == 0.75
    stored = Comment.objects.get(review=review)
    assert (stored.time_start, stored.time_end) == (0.25, 0.75)
    shown = _api(users["reviewer"]).get(f"/api/v1/reviews/{review.pk}/").json()
    assert shown["comments"][0]["time_start"] == 0.25


@pytest.mark.parametrize("payload", [
    {"time_start": -1}, {"time_start": "1"}, {"time_start": True},
    {"time_start": 0.5, "time_end": 0.5}, {"time_start": 5}, {"time_end": 0.5},
    {"span": [0, 3]}, {"region": [0, 0, 3, 3]},
])
def test_rest_refuses_bad_times(users, video, payload):
    review = open_review(video, users["creator"])
    response = _api(users["reviewer"]).post(f"/api/v1/reviews/{review.pk}/comments/",
                                            {"body": "x", **payload}, format="json")
    assert response.status_code == 400, response.content
    assert not Comment.objects.filter(review=review).exists()


def test_rest_refuses_a_time_on_a_text(users, project):
    review = open_review(text_asset(project, users["creator"], "Kettles."), users["creator"])
    response = _api(users["reviewer"]).post(f"/api/v1/reviews/{review.pk}/comments/",
                                            {"body": "x", "time_start": 1}, format="json")
    assert response.status_code == 400
    assert "Only audio and video" in response.json()["detail"]


def test_without_a_known_duration_any_later_time_is_taken(users, project):
    asset = media_asset(project, users["creator"], "audio", wav_bytes(0.5), "audio/wav",
                        seconds=None)
    review = open_review(asset, users["creator"])
    response = _api(users["reviewer"]).post(f"/api/v1/reviews/{review.pk}/comments/",
                                            {"body": "x", "time_start": 30}, format="json")
    assert response.status_code == 201


def test_job_page_plays_its_audio_and_video(users, project, template,
                                            django_capture_on_commit_callbacks):
    job = generate_checked(users["creator"], project, django_capture_on_commit_callbacks).job
    for index, asset in enumerate((
            media_asset(project, users["creator"], "audio", wav_bytes(1.0), "audio/wav",
                        seconds=1.0),
            media_asset(project, users["creator"], "video", video_bytes(1.0, fps=4),
                        "video/mp4", seconds=12.0, poster=png_bytes(), width=64, height=64)),
            start=1):
        asset.job, asset.index = job, index
        asset.save()
    page = _client(users["creator"]).get(reverse("portal:job", args=[job.pk])).content.decode()
    assert "<audio" in page and "<video" in page and "/poster/" in page
    assert "Video · <span class=\"media-length\">0:12</span>" in page


def test_job_page_says_demo_audio_is_noise(users, project, template,
                                           django_capture_on_commit_callbacks):
    job = generate_checked(users["creator"], project, django_capture_on_commit_callbacks).job
    type(job).objects.filter(pk=job.pk).update(modality="audio",
                                               model_ref={"name": "assay-demo-vits"})
    page = _client(users["creator"]).get(reverse("portal:job", args=[job.pk])).content.decode()
    assert 'id="demo-media-note"' in page and "demo model that makes noise" in page
