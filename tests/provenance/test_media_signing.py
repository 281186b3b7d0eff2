"""Audio and video carry the same signed, embedded Content Credentials as images (issue 13).

Media bytes are made here (numpy + soundfile for audio, imageio-ffmpeg for MP4), signed by
the real signing task after a real approval, downloaded through the API, then read three
ways: Assay's verifier, ``manage.py verify_provenance``, and c2pa-python's Reader on its
own (the held-out reader: no Assay code between the file and the verdict).
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import c2pa
import imageio.v2 as imageio
import numpy as np
import pytest
import soundfile
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image
from rest_framework.test import APIClient

from assay.generation.models import GenerationJob
from assay.studio.models import Asset
from governance.provenance import explain, formats
from governance.provenance.credentials import ROOT_CERT
from governance.provenance.errors import UnsupportedFormat
from governance.provenance.services import resize_signed, sign_asset
from governance.provenance.tasks import sign_asset_task
from governance.provenance.verify import verify_bytes
from governance.review.models import CheckResult
from tests.provenance.conftest import (
    MODEL_REF,
    approve,
    generate_text,
    image_bytes,
    make_image_asset,
    make_image_job,
)

pytestmark = pytest.mark.django_db
ASSERTION = "org.assay.governance"


# -- media made in the test ---------------------------------------------------------------

def tone(seconds: float = 0.25, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype("float32")


def audio_bytes(fmt: str, subtype: str | None = None) -> bytes:
    out = io.BytesIO()
    soundfile.write(out, tone(), 16000, format=fmt, subtype=subtype)
    return out.getvalue()


def mp4_bytes(frames: int = 8, size: int = 32) -> bytes:
    clip = np.zeros((frames, size, size, 3), np.uint8)
    for i in range(frames):
        clip[i, :, :, 1] = 20 * i
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.mp4"
        imageio.mimwrite(path, list(clip), fps=8, codec="libx264", macro_block_size=16)
        return path.read_bytes()


def gif_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 200, 30)).save(out, "GIF")
    return out.getvalue()


def animated(fmt: str) -> bytes:
    """A video generator's fallback output: an animated GIF or WebP (kind video)."""
    frames = [Image.new("RGB", (16, 16), (40 * i, 90, 200 - 40 * i)) for i in range(4)]
    out = io.BytesIO()
    frames[0].save(out, fmt, save_all=True, append_images=frames[1:], duration=125, loop=0)
    return out.getvalue()


MEDIA = {  # id: (media type the asset is stored as, kind, bytes maker, what sniffing says)
    "wav": ("audio/wav", "audio", lambda: audio_bytes("WAV", "PCM_16"), "audio/wav"),
    "x-wav": ("audio/x-wav", "audio", lambda: audio_bytes("WAV", "PCM_16"), "audio/wav"),
    "mp3": ("audio/mpeg", "audio", lambda: audio_bytes("MP3"), "audio/mpeg"),
    "flac": ("audio/flac", "audio", lambda: audio_bytes("FLAC"), "audio/flac"),
    "mp4": ("video/mp4", "video", mp4_bytes, "video/mp4"),
    "gif": ("image/gif", "image", gif_bytes, "image/gif"),
    "gif-video": ("image/gif", "video", lambda: animated("GIF"), "image/gif"),
    "webp-video": ("image/webp", "video", lambda: animated("WEBP"), "image/webp"),
}


def media_offset(data: bytes, media_type: str) -> int:
    """A byte inside the media data itself (never the manifest's own box or chunk)."""
    if media_type == "audio/wav":
        return data.index(b"data") + 8 + 100
    if media_type == "audio/mpeg":  # after the ID3 tag c2pa writes (syncsafe size)
        size = 0
        for byte in data[6:10]:
            size = (size << 7) | byte
        return 10 + size + 200
    if media_type == "video/mp4":
        return data.index(b"mdat") + 4 + 16
    if media_type == "audio/flac":
        return len(data) - 200  # frames follow the metadata blocks, to the end
    if media_type == "image/gif":
        return len(data) - 3  # the last image-data byte: then the terminator and trailer
    if media_type == "image/webp":
        return data.index(b"ANMF") + 8 + 30  # inside the first frame's bitstream
    raise AssertionError(media_type)


def tamper(data: bytes, media_type: str) -> bytes:
    damaged = bytearray(data)
    damaged[media_offset(data, media_type)] ^= 0x01
    return bytes(damaged)


# -- assets, jobs, reading ----------------------------------------------------------------

def make_job(project: Any, user: Any, template: Any, modality: str, *,
             parameters: dict[str, Any] | None = None, **extra: Any) -> GenerationJob:
    """A finished job of a generator not installed here (its parameters kept whole)."""
    return GenerationJob.objects.create(
        project=project, prompt_version=template.latest_version(), rendered_prompt="a jingle",
        modality=modality, generator_id=f"test-{modality}", generator_version="0.1",
        plugin_name=f"test_{modality}", model_ref=MODEL_REF,
        parameters=parameters or {"seed": 3}, seed=3, queue=f"gpu.{modality}",
        requested_by=user, correlation_id="c0ffee", status="succeeded", **extra)


def make_media_asset(project: Any, user: Any, job: GenerationJob | None, data: bytes,
                     media_type: str, kind: str, *, parent: Asset | None = None,
                     metadata: dict[str, Any] | None = None) -> Asset:
    digest = hashlib.sha256(data).hexdigest()
    asset = Asset(project=project, job=job, kind=kind, media_type=media_type,
                  byte_size=len(data), sha256=digest, created_by=user, parent=parent,
                  metadata=metadata or {})
    asset.file.save(f"output.{formats.extension(media_type)}", ContentFile(data), save=False)
    asset.save()
    CheckResult.objects.create(asset=asset, project=project, content_sha256=digest,
                               check_id=f"{kind}-duration", check_version="1.0",
                               status="pass", severity="medium", plugin="media_checks")
    return asset


def approve_and_sign(asset: Asset, users: dict[str, Any], capture: Any) -> Any:
    """Approve through the workflow, then run the signing task the approval queued."""
    review, send = approve(asset, users["creator"], users["reviewer"], capture)
    [call] = send.call_args_list
    assert call.kwargs["args"][:2] == [str(asset.pk), review.pk]
    assert sign_asset_task(*call.kwargs["args"]) is not None
    return sign_asset(asset, review)  # the row the task made (idempotent)


def downloaded(user: Any, asset: Asset) -> bytes:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(f"/api/v1/assets/{asset.pk}/content/")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def anchors() -> str:
    return (Path(settings.ASSAY_SIGNING_DIR) / ROOT_CERT).read_text()


def held_out(data: bytes, media_type: str | None, sidecar: bytes | None = None
             ) -> dict[str, Any]:
    """The manifest store as c2pa-python reads it on its own, trusting our root only."""
    config = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
              "trust": {"user_anchors": anchors()}}
    with c2pa.Context.from_dict(config) as ctx, \
            c2pa.Reader(media_type, io.BytesIO(data), sidecar, ctx) as reader:
        return json.loads(reader.json())


def active(store: dict[str, Any]) -> dict[str, Any]:
    return store["manifests"][store["active_manifest"]]


def assertion(manifest: dict[str, Any], label: str) -> dict[str, Any]:
    return next(a["data"] for a in manifest["assertions"] if a["label"] == label)


def parent_ingredient(manifest: dict[str, Any]) -> dict[str, Any]:
    [ingredient] = [i for i in manifest["ingredients"] if i["relationship"] == "parentOf"]
    return ingredient


# -- every embeddable format --------------------------------------------------------------

@pytest.mark.parametrize("name", list(MEDIA))
def test_media_is_signed_embedded_trusted_and_tamper_evident(
        name, users, project, template, django_capture_on_commit_callbacks):
    media_type, kind, make, sniffed = MEDIA[name]
    data = make()
    job = make_job(project, users["creator"], template, kind)
    asset = make_media_asset(project, users["creator"], job, data, media_type, kind)
    signed = approve_and_sign(asset, users, django_capture_on_commit_callbacks)
    assert signed.embedded and not signed.sidecar and signed.format == media_type

    served = downloaded(users["creator"], asset)
    assert hashlib.sha256(served).hexdigest() == signed.signed_sha256
    assert formats.sniff(served) == sniffed
    report = verify_bytes(served, anchors=anchors())
    assert report.state == "trusted", report.failures
    assert report.embedded and report.format == sniffed
    assert report.manifest_label == signed.manifest_label
    assert report.summary["ai_generated"] and report.summary["model"]["id"] == "sd-turbo"
    assert report.summary["approvals"][0]["content_sha256"] == asset.sha256

    store = held_out(served, sniffed)  # the outside reader agrees, on the raw store
    assert store["validation_state"] == "Trusted"
    assert store["active_manifest"] == signed.manifest_label
    manifest = active(store)
    [created] = assertion(manifest, "c2pa.actions.v2")["actions"]
    assert created["action"] == "c2pa.created"
    assert created["softwareAgent"]["name"] == f"test-{kind}"
    gov = assertion(manifest, ASSERTION)
    assert gov["asset"] == {"id": str(asset.pk), "kind": kind, "media_type": media_type,
                            "sha256": asset.sha256}
    assert gov["checks"][0]["check_id"] == f"{kind}-duration"
    assert gov["approvals"][0]["decision"] == "approve"
    assert "style" not in gov["generation"]

    damaged = tamper(served, sniffed)
    broken = verify_bytes(damaged, anchors=anchors())
    assert broken.state == "invalid"
    assert any(f["code"].endswith("Hash.mismatch") for f in broken.failures), broken.failures
    assert held_out(damaged, sniffed)["validation_state"] == "Invalid"


def test_the_command_verifies_audio_and_video(
        users, project, template, django_capture_on_commit_callbacks, tmp_path, capsys):
    for name in ("wav", "mp4"):
        media_type, kind, make, sniffed = MEDIA[name]
        asset = make_media_asset(project, users["creator"],
                                 make_job(project, users["creator"], template, kind),
                                 make(), media_type, kind)
        signed = approve_and_sign(asset, users, django_capture_on_commit_callbacks)
        with signed.file.open("rb") as handle:
            data = handle.read()
        good, bad = tmp_path / f"good.{name}", tmp_path / f"bad.{name}"
        good.write_bytes(data)
        bad.write_bytes(tamper(data, sniffed))
        call_command("verify_provenance", str(good))
        assert f"good.{name}: TRUSTED" in capsys.readouterr().out
        with pytest.raises(SystemExit) as stopped:
            call_command("verify_provenance", str(bad))
        assert stopped.value.code == 1
        assert f"bad.{name}: INVALID" in capsys.readouterr().out


def test_the_rest_and_portal_verify_read_an_mp3(
        users, project, template, django_capture_on_commit_callbacks, client):
    asset = make_media_asset(project, users["creator"],
                             make_job(project, users["creator"], template, "audio"),
                             audio_bytes("MP3"), "audio/mpeg", "audio")
    data = downloaded(users["creator"], approve_and_sign(
        asset, users, django_capture_on_commit_callbacks).asset)
    api = APIClient()
    api.force_authenticate(users["outsider"])
    body = api.post("/api/v1/provenance/verify/", {"file": SimpleUploadedFile(
        "jingle.mp3", data, content_type="application/octet-stream")},
        format="multipart").json()
    assert body["state"] == "trusted" and body["format"] == "audio/mpeg" and body["embedded"]
    client.force_login(users["outsider"])
    page = client.post("/verify/", {"file": SimpleUploadedFile("jingle.mp3", data)})
    assert page.status_code == 200
    assert page.context["verdict"].state == "trusted"


# -- ingredients: the starting image, the script, the style reference ---------------------

def test_image_to_video_carries_its_starting_image_as_ingredient(
        users, project, template, django_capture_on_commit_callbacks):
    creator = users["creator"]
    start = make_image_asset(project, creator, make_image_job(project, creator, template),
                             image_bytes(color=(30, 60, 90)))
    start_signed = approve_and_sign(start, users, django_capture_on_commit_callbacks)
    job = make_job(project, creator, template, "video", parent_asset=start,
                   parameters={"frames": 8, "fps": 8, "seed": 3})
    clip = make_media_asset(project, creator, job, mp4_bytes(), "video/mp4", "video",
                            parent=start)
    signed = approve_and_sign(clip, users, django_capture_on_commit_callbacks)
    data = downloaded(creator, clip)

    store = held_out(data, "video/mp4")
    assert store["validation_state"] == "Trusted"
    manifest = active(store)
    opened, edited = assertion(manifest, "c2pa.actions.v2")["actions"]
    assert opened["action"] == "c2pa.opened" and edited["action"] == "c2pa.edited"
    assert "image-to-video" in edited["description"]
    ingredient = parent_ingredient(manifest)
    assert ingredient["format"] == "image/png"
    assert ingredient["active_manifest"] == start_signed.manifest_label
    gov = assertion(manifest, ASSERTION)
    assert gov["parent"]["role"] == "starting_image" and gov["parent"]["kind"] == "image"
    assert gov["parent"]["sha256"] == start.sha256

    report = verify_bytes(data, anchors=anchors())
    assert report.state == "trusted", report.failures
    assert [h["manifest"] for h in report.summary["history"]] == [
        signed.manifest_label, start_signed.manifest_label]


@pytest.mark.parametrize("approve_script", [True, False], ids=["approved", "in-review"])
def test_speech_carries_its_script_asset_with_the_scripts_own_manifest(
        approve_script, users, project, template, django_capture_on_commit_callbacks):
    creator = users["creator"]
    script = generate_text(creator, project, django_capture_on_commit_callbacks)
    script_signed = (approve_and_sign(script, users, django_capture_on_commit_callbacks)
                     if approve_script else None)
    job = make_job(project, creator, template, "audio", parent_asset=script)
    speech = make_media_asset(project, creator, job, audio_bytes("WAV", "PCM_16"),
                              "audio/wav", "audio", parent=script,
                              metadata={"script": script.text})
    approve_and_sign(speech, users, django_capture_on_commit_callbacks)
    data = downloaded(creator, speech)

    store = held_out(data, "audio/wav")
    assert store["validation_state"] == "Trusted", store["validation_results"]
    manifest = active(store)
    _, edited = assertion(manifest, "c2pa.actions.v2")["actions"]
    assert "text-to-speech" in edited["description"]
    ingredient = parent_ingredient(manifest)
    assert ingredient["format"] == "text/plain"
    recorded = store["manifests"][ingredient["active_manifest"]]
    script_gov = assertion(recorded, ASSERTION)
    assert script_gov["asset"]["sha256"] == script.sha256
    if approve_script:  # the signed text, with its sidecar's manifest
        assert ingredient["active_manifest"] == script_signed.manifest_label
        assert script_gov["approved"] is True
    else:  # recorded now, saying plainly it was not approved
        assert script_gov["approved"] is False and "approvals" not in script_gov
    gov = assertion(manifest, ASSERTION)
    assert gov["parent"]["role"] == "script"
    assert gov["generation"]["script"] == {
        "sha256": hashlib.sha256(script.text.encode()).hexdigest(),
        "characters": len(script.text)}
    assert verify_bytes(data, anchors=anchors()).state == "trusted"


def test_a_brand_style_is_named_and_its_reference_is_the_ingredient(
        users, project, template, django_capture_on_commit_callbacks):
    creator = users["creator"]
    reference = make_image_asset(project, creator, make_image_job(project, creator, template),
                                 image_bytes(color=(250, 200, 0)))
    reference_signed = approve_and_sign(reference, users, django_capture_on_commit_callbacks)
    job = make_image_job(project, creator, template, parent_asset=reference, parameters={
        "steps": 4, "guidance": 0.0, "width": 64, "height": 48, "strength": 0.5, "seed": 7,
        "style": "Spring launch"})
    styled = make_image_asset(project, creator, job, image_bytes(color=(240, 190, 10)),
                              parent=reference)
    approve_and_sign(styled, users, django_capture_on_commit_callbacks)
    data = downloaded(creator, styled)

    manifest = active(held_out(data, "image/png"))
    gov = assertion(manifest, ASSERTION)
    assert gov["generation"]["style"] == "Spring launch"
    assert gov["parent"]["role"] == "style_reference"
    _, edited = assertion(manifest, "c2pa.actions.v2")["actions"]
    assert "brand style 'Spring launch'" in edited["description"]
    assert parent_ingredient(manifest)["active_manifest"] == reference_signed.manifest_label
    report = verify_bytes(data, anchors=anchors())
    assert report.state == "trusted" and report.summary["style"] == "Spring launch"
    assert "Brand style: Spring launch." in report.lines


def test_a_style_without_a_reference_image_is_still_named(
        users, project, template, django_capture_on_commit_callbacks):
    creator = users["creator"]
    job = make_job(project, creator, template, "video",
                   parameters={"seed": 3, "style": "Night mode"})
    clip = make_media_asset(project, creator, job, mp4_bytes(), "video/mp4", "video")
    signed = approve_and_sign(clip, users, django_capture_on_commit_callbacks)
    with signed.file.open("rb") as handle:
        manifest = active(held_out(handle.read(), "video/mp4"))
    assert assertion(manifest, ASSERTION)["generation"]["style"] == "Night mode"
    assert not manifest.get("ingredients")


# -- Ogg: C2PA cannot embed into it, so a sidecar -------------------------------------------

def test_ogg_is_signed_with_a_sidecar_bound_to_its_bytes(
        users, project, template, django_capture_on_commit_callbacks):
    assert "audio/ogg" not in c2pa.Builder.get_supported_mime_types()  # why: no embedding
    data = audio_bytes("OGG", "VORBIS")
    asset = make_media_asset(project, users["creator"],
                             make_job(project, users["creator"], template, "audio"),
                             data, "audio/ogg", "audio")
    signed = approve_and_sign(asset, users, django_capture_on_commit_callbacks)
    assert not signed.embedded and signed.sidecar
    served = downloaded(users["creator"], asset)
    assert served == data  # the bytes are untouched; the manifest is beside them
    with signed.sidecar.open("rb") as handle:
        sidecar = handle.read()

    alone = verify_bytes(served, anchors=anchors())
    assert alone.state == "none" and alone.headline == explain.NO_SIDECAR_AUDIO
    report = verify_bytes(served, sidecar=sidecar, anchors=anchors())
    assert report.state == "trusted" and report.format == "audio/ogg"
    assert held_out(served, "audio/ogg", sidecar)["validation_state"] == "Trusted"
    damaged = bytearray(served)
    damaged[len(damaged) // 2] ^= 1
    assert verify_bytes(bytes(damaged), sidecar=sidecar, anchors=anchors()).state == "invalid"

    api = APIClient()
    api.force_authenticate(users["creator"])
    refused = api.post("/api/v1/provenance/verify/", {"file": SimpleUploadedFile(
        "voice.ogg", served)}, format="multipart")
    assert refused.status_code == 400 and "sidecar" in refused.json()["errors"]
    assert api.get(f"/api/v1/assets/{asset.pk}/sidecar/").status_code == 200


# -- formats decided by the bytes and by what c2pa writes -----------------------------------

def test_formats_follow_the_bytes_and_the_installed_c2pa():
    writable = formats.embedded_types()
    for media_type in ("audio/wav", "audio/x-wav", "audio/mpeg", "video/mp4", "image/gif"):
        assert media_type in writable and formats.can_sign(media_type)
    assert formats.is_sidecar("audio/ogg") and formats.can_sign("audio/ogg")
    assert not formats.can_sign("audio/webm")
    raw_mp3 = audio_bytes("MP3")
    assert not raw_mp3.startswith(b"ID3") and formats.sniff(raw_mp3) == "audio/mpeg"
    assert formats.sniff(audio_bytes("OGG", "VORBIS")) == "audio/ogg"
    assert formats.sniff(b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00") == "audio/mp4"
    assert formats.sniff(b"\xff\xf0\x00\x00") is None  # not a valid MPEG audio header
    assert formats.extension("audio/x-wav") == "wav" and formats.extension("video/mp4") == "mp4"


@pytest.mark.parametrize("name", ["wav", "webp-video"])
def test_audio_and_video_are_not_resized(
        name, users, project, template, django_capture_on_commit_callbacks):
    media_type, kind, make, _ = MEDIA[name]
    asset = make_media_asset(project, users["creator"],
                             make_job(project, users["creator"], template, kind),
                             make(), media_type, kind)
    approve_and_sign(asset, users, django_capture_on_commit_callbacks)
    with pytest.raises(UnsupportedFormat):  # a resize would keep one frame, or fail
        resize_signed(asset, 10, 10)
