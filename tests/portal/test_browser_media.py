"""Audio and video reviews in a real browser: the players play and seek (byte ranges), and
a reviewer leaves a comment at the player's current time, listed as m:ss, stored in
seconds, and its time link seeks the player.

Headless Chromium (Debian package) via Playwright. The WAV is a sine tone from soundfile;
the MP4 is H.264 from the ffmpeg that imageio-ffmpeg ships (Debian's Chromium plays it).
Players are muted before ``play()`` so the autoplay policy allows playing without a click.
"""

from __future__ import annotations

import pytest

from governance.review.models import Comment
from tests.portal.conftest import sign_in
from tests.portal.media_helpers import media_asset, png_bytes, video_bytes, wav_bytes
from tests.portal.review_helpers import open_review

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLAY = """async () => { const m = document.getElementById('media-player');
  m.muted = true; await m.play(); return true; }"""
SEEK = """async (at) => { const m = document.getElementById('media-player'); m.pause();
  await new Promise((done) => { m.addEventListener('seeked', done, {once: true});
                                m.currentTime = at; });
  return [m.currentTime, m.seekable.length ? m.seekable.end(0) : 0]; }"""


def _play_seek_and_comment(page, base: str, review, *, at: float, body: str) -> Comment:
    from playwright.sync_api import expect

    page.goto(f"{base}/reviews/{review.pk}/")
    player = page.locator("#media-player")
    expect(player).to_be_visible()
    assert page.evaluate(PLAY)
    page.wait_for_function("() => { const m = document.getElementById('media-player');"
                           " return m.readyState >= 2 && m.currentTime > 0.1; }")
    assert page.evaluate("() => document.getElementById('media-player').error") is None
    now, seekable_end = page.evaluate(SEEK, at)
    assert abs(now - at) < 0.05 and seekable_end > at  # seeking works: ranges are served
    expect(page.locator("#media-now")).to_have_text("at 0:01")

    page.get_by_role("button", name="Comment at the current time").click()
    expect(page.locator("#id_time_start")).to_have_value(str(at))
    page.get_by_label("Your comment").fill(body)
    page.get_by_role("button", name="Add comment").click()
    expect(page.get_by_role("status")).to_contain_text("Comment added.")
    listed = page.locator(".comment").filter(has_text=body)
    expect(listed.locator("a.comment-time")).to_have_text("0:01")

    page.evaluate(SEEK, 0)
    listed.locator("a.comment-time").click()
    page.wait_for_function(f"() => Math.abs(document.getElementById('media-player')"
                           f".currentTime - {at}) < 0.05")
    return Comment.objects.get(review=review, body=body)


def test_reviewer_plays_seeks_and_comments_on_audio_and_video(page, live_server, users,
                                                              project):
    audio = media_asset(project, users["creator"], "audio", wav_bytes(2.0), "audio/wav",
                        seconds=2.0)
    video = media_asset(project, users["creator"], "video", video_bytes(2.0, fps=8),
                        "video/mp4", seconds=2.0, poster=png_bytes(), width=64, height=64)
    audio_review = open_review(audio, users["creator"])
    video_review = open_review(video, users["creator"])
    base = live_server.url
    sign_in(page, base, "rui")

    said = _play_seek_and_comment(page, base, audio_review, at=1.2, body="Breath noise here")
    assert (said.time_start, said.time_end) == (1.2, None)

    shown = _play_seek_and_comment(page, base, video_review, at=1.5, body="Flicker at 1.5")
    assert (shown.time_start, shown.time_end) == (1.5, None)
    assert page.locator("#media-player").get_attribute("poster").endswith(
        f"/assets/{video.pk}/poster/")
