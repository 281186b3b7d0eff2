"""The speech-vits plugin against its demo voice: seeds, batches, rate, formats, progress.

Most tests use the generator the way a worker does (``load`` and ``generate``); the last
ones go through the platform: the REST API refusing out-of-bounds parameters before
anything is queued, and jobs run by the real runtime into stored WAV assets. The demo
voice is built once per session into the test models folder (its stamp makes a rebuild a
no-op), where the generator's default model points.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from assay import GenerationRequest, ModelRef, NullProgress, folder_revision
from assay.generation.models import GenerationJob
from assay.generation.runtime import run_job
from assay.generation.services import submit_generation
from assay.studio.models import Asset
from plugins.speech_vits import plugin
from plugins.speech_vits.demo_model import build_demo_speech_model
from plugins.speech_vits.encoding import OGG_SERIAL, encode
from plugins.speech_vits.generator import DEMO_FOLDER, VitsSpeechGenerator
from tests.conftest import make_template
from tests.fixtures.generation import (
    RecordingProgress,
    assert_refused_out_of_bounds,
    loaded_generator,
    modules_loaded_by,
)

SCRIPT = "Meet the new kite, made for windy days."


@pytest.fixture(scope="session")
def demo_voice() -> Path:
    """The demo voice folder where the default model points (built once per session)."""
    return build_demo_speech_model(Path(settings.ASSAY_MODELS_DIR) / DEMO_FOLDER)


@pytest.fixture(scope="session")
def generator(demo_voice: Path, one_thread: None) -> VitsSpeechGenerator:
    """One loaded generator for the session, as a worker's model cache keeps it."""
    return loaded_generator(VitsSpeechGenerator, settings.ASSAY_MODELS_DIR, demo_voice)


def request(prompt: str, seed: int, **params: object) -> GenerationRequest:
    return GenerationRequest(job_id=f"job-{seed}", prompt=prompt, parameters=dict(params),
                             seed=seed)


def read_audio(data: bytes) -> tuple[object, int, str]:
    import soundfile

    with soundfile.SoundFile(io.BytesIO(data)) as sound:
        return sound.read(), sound.samplerate, sound.format


# -- the demo model ---------------------------------------------------------------------------


def test_build_is_tiny_deterministic_and_idempotent(demo_voice: Path, tmp_path: Path) -> None:
    revision = folder_revision(demo_voice)
    assert build_demo_speech_model(demo_voice) == demo_voice  # up to date: nothing redone
    assert folder_revision(demo_voice) == revision
    other = build_demo_speech_model(tmp_path / DEMO_FOLDER)
    assert folder_revision(other) == revision  # same recipe, same bytes
    (other / "stale.txt").write_text("left from an older build")
    assert not (build_demo_speech_model(other, force=True) / "stale.txt").exists()
    names = {p.name for p in demo_voice.iterdir()}
    assert {"config.json", "model.safetensors", "vocab.json", "tokenizer_config.json"} <= names
    assert sum(p.stat().st_size for p in demo_voice.rglob("*") if p.is_file()) < 500_000


def test_hooks_register_the_generator_and_build_the_model(demo_voice: Path) -> None:
    assert plugin.register_generators() == [VitsSpeechGenerator]
    assert plugin.build_demo_models(models_dir=str(demo_voice.parent), force=False) == [
        DEMO_FOLDER]
    assert plugin.ASSAY_API == ">=1,<2"
    ref = VitsSpeechGenerator.default_model("/models")
    assert ref.name == "assay-demo-speech"  # the portal says such output is noise


def test_importing_the_plugin_does_not_import_the_model_stack() -> None:
    assert modules_loaded_by("plugins.speech_vits.plugin",
                             {"torch", "transformers", "soundfile", "numpy"}) == []


def test_model_info(generator: VitsSpeechGenerator, demo_voice: Path) -> None:
    info = generator.model_info()
    assert info["source"] == str(demo_voice)
    assert info["revision"] == folder_revision(demo_voice)
    assert "no licence restrictions" in info["licence"]
    assert generator.num_speakers == 2 and generator.sample_rate == 16000
    assert 0 < generator.approximate_size_bytes() < 1_000_000


def test_schema_has_plain_labels_and_bounds() -> None:
    described = {p.name: p.describe() for p in VitsSpeechGenerator.all_parameters()}
    assert described["speaker"]["label"] == "Voice" and described["speaker"]["plain"]
    assert described["speaking_rate"]["label"] == "Speaking speed"
    assert (described["speaking_rate"]["minimum"], described["speaking_rate"]["maximum"]) == (
        0.5, 2.0)
    assert described["format"]["choices"] == ["wav", "mp3", "ogg"]
    assert "seed" in described
    _, errors = VitsSpeechGenerator.validate_parameters(
        {"speaking_rate": 3, "format": "flac", "speaker": -1})
    assert errors == {"speaking_rate": "must be at most 2 (got 3)",
                      "format": "must be one of wav, mp3, ogg (got 'flac')",
                      "speaker": "must be at least 0 (got -1)"}


def test_a_model_folder_with_another_revision_is_refused(demo_voice: Path) -> None:
    ref = ModelRef(str(demo_voice), "sha256:" + "0" * 64, "assay-demo-speech")
    with pytest.raises(ValueError, match="was pinned"):
        VitsSpeechGenerator().load(ref, "cpu")


# -- speech -----------------------------------------------------------------------------------


def test_speaks_the_script_as_wav(generator: VitsSpeechGenerator) -> None:
    [result] = generator.generate([request(SCRIPT, 3)], NullProgress())
    [output] = result.outputs
    assert output.kind == "audio" and output.media_type == "audio/wav"
    samples, rate, fmt = read_audio(output.data or b"")
    assert (rate, fmt) == (16000, "WAV")
    seconds = len(samples) / 16000  # type: ignore[arg-type]
    assert output.metadata == {"duration_seconds": round(seconds, 4), "sample_rate": 16000,
                               "speaker": 0, "speaking_rate": 1.0, "seed": 3,
                               "script": SCRIPT}
    assert result.usage == {"audio_seconds": round(seconds, 4),
                            "input_characters": len(SCRIPT)}
    assert seconds > 0


def test_same_seed_same_bytes_alone_and_in_a_batch(generator: VitsSpeechGenerator) -> None:
    alone = generator.generate([request(SCRIPT, 42)], NullProgress())
    again = generator.generate([request(SCRIPT, 42)], NullProgress())
    batch = generator.generate(
        [request("A much longer line comes first, to pad any batch.", 7, speaker=1),
         request(SCRIPT, 42),
         request("Short.", 1234, speaking_rate=1.5, format="mp3")],
        NullProgress(),
    )
    assert alone[0].outputs[0].data == again[0].outputs[0].data
    assert alone[0].outputs[0].data == batch[1].outputs[0].data
    assert len({r.outputs[0].data for r in batch}) == 3


def test_different_seeds_and_voices_differ(generator: VitsSpeechGenerator) -> None:
    one, two, voice = generator.generate(
        [request(SCRIPT, 1), request(SCRIPT, 2), request(SCRIPT, 1, speaker=1)],
        NullProgress())
    assert one.outputs[0].data != two.outputs[0].data
    assert one.outputs[0].data != voice.outputs[0].data
    assert voice.outputs[0].metadata["speaker"] == 1


def test_speaking_rate_changes_the_duration(generator: VitsSpeechGenerator) -> None:
    slow, normal, fast = generator.generate(
        [request(SCRIPT, 5, speaking_rate=0.5), request(SCRIPT, 5),
         request(SCRIPT, 5, speaking_rate=2.0)], NullProgress())
    durations = [r.usage["audio_seconds"] for r in (slow, normal, fast)]
    assert durations[0] > durations[1] > durations[2] > 0
    assert fast.outputs[0].metadata["speaking_rate"] == 2.0


@pytest.mark.parametrize("fmt,media_type,container", [
    ("mp3", "audio/mpeg", "MP3"), ("ogg", "audio/ogg", "OGG")])
def test_mp3_and_ogg_when_asked_with_stable_bytes(generator: VitsSpeechGenerator, fmt: str,
                                                  media_type: str, container: str) -> None:
    first, wav = generator.generate([request(SCRIPT, 9, format=fmt), request(SCRIPT, 9)],
                                    NullProgress())
    [second] = generator.generate([request(SCRIPT, 9, format=fmt)], NullProgress())
    output = first.outputs[0]
    assert output.media_type == media_type
    assert output.data == second.outputs[0].data
    assert len(output.data or b"") < len(wav.outputs[0].data or b"")  # compressed
    samples, rate, read_format = read_audio(output.data or b"")
    assert (rate, read_format) == (16000, container)
    assert abs(len(samples) / 16000 - output.metadata["duration_seconds"]) < 0.1  # type: ignore[arg-type]


def test_ogg_serial_is_pinned() -> None:
    import numpy as np

    noise = np.random.default_rng(0).uniform(-0.5, 0.5, 16000).astype("float32")
    data = encode(noise, 16000, "ogg")
    assert data == encode(noise, 16000, "ogg")  # libsndfile alone draws a new serial
    assert int.from_bytes(data[14:18], "little") == OGG_SERIAL


def test_refuses_a_voice_the_model_lacks_and_an_unspeakable_script(
        generator: VitsSpeechGenerator) -> None:
    with pytest.raises(ValueError, match="this model has 2 voices"):
        generator.generate([request(SCRIPT, 1, speaker=2)], NullProgress())
    with pytest.raises(ValueError, match="nothing in the script"):
        generator.generate([request("€€ ™", 1)], NullProgress())
    with pytest.raises(ValueError, match="at most 2000"):
        generator.generate([request("a" * 2001, 1)], NullProgress())


# -- progress and cancellation ----------------------------------------------------------------


def test_progress_per_request_reaches_one_monotonically(generator: VitsSpeechGenerator) -> None:
    progress = RecordingProgress()
    generator.generate([request(SCRIPT, 1), request("Second line.", 2)], progress)
    for index in (0, 1):
        fractions = [f for i, f in progress.updates if i == index]
        assert fractions == sorted(fractions)
        assert fractions[0] > 0 and fractions[-1] == 1.0 and len(fractions) >= 4
    assert [i for i, _ in progress.updates] == sorted(i for i, _ in progress.updates)


def test_cancel_mid_run_stops_that_request_and_finishes_the_others(
        generator: VitsSpeechGenerator) -> None:
    # Request 0 reports 5 updates; request 1 is cancelled after two of its stages.
    progress = RecordingProgress(cancel={1}, cancel_after=7)
    results = generator.generate(
        [request(SCRIPT, 1), request(SCRIPT, 2), request(SCRIPT, 3)], progress)
    assert not results[0].cancelled and len(results[0].outputs) == 1
    assert results[1].cancelled and results[1].outputs == []
    assert results[1].usage["audio_seconds"] == 0.0
    assert max(f for i, f in progress.updates if i == 1) < 1.0
    assert not results[2].cancelled
    [alone] = generator.generate([request(SCRIPT, 3)], NullProgress())
    assert alone.outputs[0].data == results[2].outputs[0].data


def test_cancelled_before_the_start_is_left_out(generator: VitsSpeechGenerator) -> None:
    progress = RecordingProgress(cancel={0, 1})
    results = generator.generate([request(SCRIPT, 1), request(SCRIPT, 2)], progress)
    assert all(r.cancelled and r.outputs == [] for r in results)
    assert progress.updates == []


# -- through the platform ---------------------------------------------------------------------


@pytest.fixture
def voice_template(project, users, demo_voice):
    return make_template(project, users["owner"], slug="voice", generator="speech-vits",
                         text="Meet {{ product }}, made for {{ audience }}.")


@pytest.mark.django_db
@pytest.mark.parametrize("params,field,words", [
    ({"speaking_rate": 5}, "parameters.speaking_rate", "at most 2"),
    ({"speaking_rate": 0.1}, "parameters.speaking_rate", "at least 0.5"),
    ({"speaker": -1}, "parameters.speaker", "at least 0"),
    ({"format": "flac"}, "parameters.format", "must be one of"),
])
def test_out_of_bounds_parameters_are_a_400_and_nothing_is_queued(
        users, voice_template, django_capture_on_commit_callbacks, params, field, words):
    assert voice_template.latest_version().modality == "audio"
    assert_refused_out_of_bounds(users["creator"], django_capture_on_commit_callbacks,
                                 "voice", params, field, words)


def _submit(user, project, capture, **params):
    with capture(execute=False):
        return submit_generation(user, project=project, template="voice",
                                 variables={"product": params.pop("product", "Kite")},
                                 parameters=params)


@pytest.mark.django_db
def test_a_job_stores_a_wav_asset_soundfile_reads_back(
        users, project, voice_template, django_capture_on_commit_callbacks, settings):
    settings.ASSAY_BATCH_WINDOW_MS = 0
    job = _submit(users["creator"], project, django_capture_on_commit_callbacks, seed=11)
    with django_capture_on_commit_callbacks(execute=False):
        assert run_job(str(job.pk), worker="w") == "succeeded"
    asset = Asset.objects.get(job=job)
    assert asset.kind == "audio" and asset.media_type == "audio/wav"
    assert asset.file.name.endswith(".wav")
    data = asset.read_bytes()
    assert hashlib.sha256(data).hexdigest() == asset.sha256
    samples, rate, fmt = read_audio(data)
    assert (rate, fmt) == (16000, "WAV")
    assert asset.metadata["script"] == "Meet Kite, made for everyone."
    job.refresh_from_db()
    assert job.usage["audio_seconds"] == asset.metadata["duration_seconds"] > 0
    assert job.usage["input_characters"] == len("Meet Kite, made for everyone.")


@pytest.mark.django_db
def test_same_seed_same_asset_alone_and_batched_by_the_runtime(
        require_postgres, users, project, voice_template, django_capture_on_commit_callbacks,
        settings):
    settings.ASSAY_BATCH_WINDOW_MS = 0
    capture = django_capture_on_commit_callbacks
    alone = _submit(users["creator"], project, capture, seed=42, format="ogg")
    with capture(execute=False):
        assert run_job(str(alone.pk), worker="w") == "succeeded"
    jobs = [_submit(users["creator"], project, capture, product=product, format="ogg",
                    seed=42 if product == "Kite" else i)
            for i, product in enumerate(["Lamp", "Kite", "Mug"])]
    with capture(execute=False):
        assert run_job(str(jobs[0].pk), worker="w") == "succeeded"
    assert GenerationJob.objects.get(pk=jobs[1].pk).usage["batch_size"] == 3
    batched = Asset.objects.get(job=jobs[1])
    assert batched.media_type == "audio/ogg" and batched.file.name.endswith(".ogg")
    assert batched.sha256 == Asset.objects.get(job=alone).sha256


@pytest.mark.django_db
def test_a_text_asset_is_read_aloud_as_the_script_and_recorded_as_the_parent(
        users, project, template, voice_template, django_capture_on_commit_callbacks,
        settings):
    """Speech from an existing text (REST ``parent_asset``): the text is what is spoken,
    the audio's parent is the text (provenance names it the script ingredient), and the
    other kinds of starting asset are refused in words."""
    settings.ASSAY_BATCH_WINDOW_MS = 0
    with django_capture_on_commit_callbacks(execute=False):
        text_job = submit_generation(users["creator"], project=project, template="blurb",
                                     variables={"product": "Kite"})
        assert run_job(str(text_job.pk), worker="w") == "succeeded"
    script = Asset.objects.get(job=text_job)
    client = APIClient()
    client.force_authenticate(users["creator"])
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/api/v1/generations/", {
            "project": "launch", "template": "voice", "variables": {"product": "Kite"},
            "parent_asset": str(script.pk), "parameters": {"seed": 5}}, format="json")
    assert response.status_code == 201, response.json()
    job = GenerationJob.objects.get(pk=response.json()["id"])
    assert job.parent_asset == script
    with django_capture_on_commit_callbacks(execute=False):
        assert run_job(str(job.pk), worker="w") == "succeeded"
    spoken = Asset.objects.get(job=job)
    assert spoken.metadata["script"] == script.text != job.rendered_prompt
    assert spoken.parent == script
    job.refresh_from_db()
    assert job.usage["input_characters"] == len(script.text)

    refused = client.post("/api/v1/generations/", {
        "project": "launch", "template": "voice", "variables": {"product": "Kite"},
        "parent_asset": str(spoken.pk)}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"]["parent_asset"] == ["is audio, not a text"]
    echo = client.post("/api/v1/generations/", {
        "project": "launch", "template": "blurb", "variables": {"product": "Kite"},
        "parent_asset": str(script.pk)}, format="json")
    assert echo.status_code == 400
    assert echo.json()["errors"]["parent_asset"] == [
        "this generator cannot start from an existing asset"]
