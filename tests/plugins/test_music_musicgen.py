"""The music-musicgen plugin against its demo MusicGen: seeds, batching, duration, progress.

Most tests are plain (no database): the plugin is exercised the way a worker uses it,
through ``load`` and ``generate``. The last ones go through REST and the real runtime.
The demo model is built once per machine into ``var/test-models/demo-music`` and reused
across runs (its stamp makes the build a no-op).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from assay import GenerationRequest, ModelRef, NullProgress, folder_revision
from assay.generation.models import GenerationJob
from assay.generation.registry import default_model_is_demo
from assay.generation.runtime import run_job
from assay.generation.services import submit_generation
from assay.studio.models import Asset
from plugins.music_musicgen import plugin
from plugins.music_musicgen.demo_model import build_demo_music_model
from plugins.music_musicgen.generator import MusicgenAudioGenerator
from tests.conftest import make_template
from tests.fixtures.generation import (
    RecordingProgress,
    assert_refused_out_of_bounds,
    loaded_generator,
    modules_loaded_by,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = ROOT / "var" / "test-models"
RATE = 8000  # the demo codec's sampling rate
HOP = 160  # samples per codec frame (50 frames a second)


@pytest.fixture(scope="session")
def demo_music_model() -> Path:
    """The demo MusicGen folder (built on the first run, found up to date afterwards)."""
    return build_demo_music_model(MODELS_DIR / "demo-music")


@pytest.fixture(scope="session")
def generator(demo_music_model: Path, one_thread: None) -> MusicgenAudioGenerator:
    """One loaded generator for the session, as a worker's model cache keeps it."""
    return loaded_generator(MusicgenAudioGenerator, MODELS_DIR, demo_music_model, "float32")


def request(prompt: str, seed: int, **params: object) -> GenerationRequest:
    return GenerationRequest(job_id=f"job-{prompt}-{seed}", prompt=prompt,
                             parameters={"duration": 1.0, **params}, seed=seed)


def read_wav(data: bytes) -> tuple[object, int]:
    import soundfile

    samples, rate = soundfile.read(io.BytesIO(data))
    return samples, rate


# -- the demo model ---------------------------------------------------------------------------


def test_build_is_deterministic_small_and_idempotent(demo_music_model: Path,
                                                     tmp_path: Path) -> None:
    revision = folder_revision(demo_music_model)
    assert build_demo_music_model(demo_music_model) == demo_music_model
    assert folder_revision(demo_music_model) == revision
    rebuilt = build_demo_music_model(tmp_path / "demo-music", force=True)
    assert folder_revision(rebuilt) == revision
    names = {p.name for p in demo_music_model.iterdir()}
    assert {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
            "processor_config.json"} <= names
    assert sum(p.stat().st_size for p in demo_music_model.rglob("*") if p.is_file()) < 2_000_000


def test_hooks_register_the_generator_and_build_the_model(demo_music_model: Path) -> None:
    assert plugin.register_generators() == [MusicgenAudioGenerator]
    assert plugin.build_demo_models(models_dir=str(MODELS_DIR), force=False) == ["demo-music"]
    assert plugin.ASSAY_API == ">=1,<2"
    ref = MusicgenAudioGenerator.default_model(str(MODELS_DIR))
    assert ref.name == "assay-demo-music"  # named assay-demo-*: the portal says it is noise
    info = MusicgenAudioGenerator.id, MusicgenAudioGenerator.modality, MusicgenAudioGenerator.queue
    assert info == ("music-musicgen", "audio", "gpu.audio")


def test_importing_the_plugin_does_not_import_torch() -> None:
    assert modules_loaded_by("plugins.music_musicgen.plugin",
                             {"torch", "transformers", "soundfile"}) == []


def test_model_info_and_a_changed_folder_is_refused(generator: MusicgenAudioGenerator,
                                                    demo_music_model: Path) -> None:
    info = generator.model_info()
    assert info["revision"] == folder_revision(demo_music_model)
    assert info["name"] == "assay-demo-music" and "no licence" in info["licence"]
    assert 0 < generator.approximate_size_bytes() < 5_000_000
    pinned = ModelRef(str(demo_music_model), "sha256:" + "0" * 64, "assay-demo-music")
    with pytest.raises(ValueError, match="was pinned"):
        MusicgenAudioGenerator().load(pinned, "cpu")


# -- parameters -------------------------------------------------------------------------------


def test_parameters_have_plain_labels_and_bounds() -> None:
    described = {p.name: p.describe() for p in MusicgenAudioGenerator.all_parameters()}
    assert set(described) == {"duration", "guidance", "seed"}
    assert described["duration"]["label"] == "Length (seconds)" and described["duration"]["plain"]
    assert described["guidance"]["label"] == "Follow the description"
    _, errors = MusicgenAudioGenerator.validate_parameters({"duration": 31, "guidance": 0.5})
    assert errors == {"duration": "must be at most 30 (got 31)",
                      "guidance": "must be at least 1 (got 0.5)"}


# -- generation -------------------------------------------------------------------------------


def test_output_is_a_wav_of_the_asked_duration(generator: MusicgenAudioGenerator) -> None:
    for seconds in (1.0, 1.37):
        [result] = generator.generate([request("upbeat jazz", 3, duration=seconds)],
                                      NullProgress())
        [output] = result.outputs
        assert output.kind == "audio" and output.media_type == "audio/wav"
        assert output.data is not None and output.data[:4] == b"RIFF"
        samples, rate = read_wav(output.data)
        assert rate == RATE and output.metadata["sample_rate"] == RATE
        assert abs(len(samples) - seconds * RATE) <= HOP  # within a frame (here: exact)
        assert output.metadata["duration_seconds"] == pytest.approx(seconds, abs=HOP / RATE)
        assert result.usage["audio_seconds"] == output.metadata["duration_seconds"]


def test_same_seed_same_bytes_alone_and_in_a_batch(generator: MusicgenAudioGenerator) -> None:
    [alone] = generator.generate([request("upbeat jazz", 42)], NullProgress())
    [again] = generator.generate([request("upbeat jazz", 42)], NullProgress())
    batch = generator.generate(
        [request("calm piano for a sad podcast intro", 7),  # a longer prompt: padding
         request("upbeat jazz", 42),
         request("upbeat jazz", 1234)],
        NullProgress(),
    )
    assert alone.outputs[0].data == again.outputs[0].data
    assert batch[1].outputs[0].data == alone.outputs[0].data
    assert len({r.outputs[0].data for r in batch}) == 3  # other seeds, other prompts differ
    # Without guidance too (one row per codebook instead of two).
    [plain] = generator.generate([request("upbeat jazz", 42, guidance=1.0)], NullProgress())
    pair = generator.generate([request("calm", 5, guidance=1.0),
                               request("upbeat jazz", 42, guidance=1.0)], NullProgress())
    assert pair[1].outputs[0].data == plain.outputs[0].data != alone.outputs[0].data


def test_a_mixed_batch_runs_one_call_per_setting_with_the_same_bytes(
        generator: MusicgenAudioGenerator) -> None:
    [short] = generator.generate([request("upbeat jazz", 42)], NullProgress())
    [long] = generator.generate([request("calm", 9, duration=1.5)], NullProgress())
    mixed = generator.generate([request("calm", 9, duration=1.5), request("upbeat jazz", 42)],
                               NullProgress())
    assert mixed[0].outputs[0].data == long.outputs[0].data
    assert mixed[1].outputs[0].data == short.outputs[0].data


def test_one_call_per_request_gives_the_same_bytes(generator: MusicgenAudioGenerator) -> None:
    batch = [request("jazz", 1), request("calm piano intro", 2)]
    batched = generator.generate(batch, NullProgress())
    calls: list[int] = []

    class PerRequest(MusicgenAudioGenerator):
        one_call_per_request = True

        def _run(self, jobs, progress):  # type: ignore[no-untyped-def]
            calls.append(len(jobs))
            return super()._run(jobs, progress)

    single = PerRequest()
    single.__dict__.update(generator.__dict__)  # the loaded model, without a second load
    apart = single.generate(batch, NullProgress())
    assert calls == [1, 1]
    assert [r.outputs[0].data for r in apart] == [r.outputs[0].data for r in batched]


# -- progress and cancellation ----------------------------------------------------------------


def test_progress_is_reported_per_generated_frame(generator: MusicgenAudioGenerator) -> None:
    progress = RecordingProgress()
    generator.generate([request("jazz", 1), request("rock", 2)], progress)
    for index in (0, 1):
        fractions = [f for i, f in progress.updates if i == index]
        assert fractions == sorted(fractions)
        assert fractions[0] > 0 and fractions[-1] == 1.0
        assert len(fractions) >= 50  # 1 second = 50 frames, one update each


def test_cancelling_every_request_stops_mid_run(generator: MusicgenAudioGenerator) -> None:
    # 2 updates a step: the 20th comes at step 10 after request 0 was checked, so
    # both read as cancelled at step 11, out of 1503.
    progress = RecordingProgress(cancel={0, 1}, cancel_after=20)
    results = generator.generate([request("jazz", 1, duration=30.0),
                                  request("rock", 2, duration=30.0)], progress)
    assert all(r.cancelled and r.outputs == [] for r in results)
    assert results[0].usage["steps"] == 11
    assert max(f for _, f in progress.updates) < 0.01


def test_cancelling_some_requests_finishes_the_others(generator: MusicgenAudioGenerator) -> None:
    progress = RecordingProgress(cancel={1}, cancel_after=4)
    results = generator.generate([request("jazz", 1), request("rock", 2)], progress)
    assert not results[0].cancelled and len(results[0].outputs) == 1
    assert results[1].cancelled and results[1].outputs == []
    [alone] = generator.generate([request("jazz", 1)], NullProgress())
    assert alone.outputs[0].data == results[0].outputs[0].data


def test_a_request_cancelled_before_the_start_is_left_out(
        generator: MusicgenAudioGenerator) -> None:
    progress = RecordingProgress(cancel={0})
    results = generator.generate([request("jazz", 1), request("rock", 2)], progress)
    assert results[0].cancelled and results[0].outputs == []
    assert len(results[1].outputs) == 1
    assert {i for i, _ in progress.updates} == {1}


# -- through the platform ---------------------------------------------------------------------


@pytest.fixture
def jingle_template(project, users, demo_music_model, one_thread, settings):
    settings.ASSAY_MODELS_DIR = MODELS_DIR
    return make_template(project, users["owner"], slug="jingle", generator="music-musicgen",
                         text="upbeat jingle for {{ product }}")


@pytest.mark.django_db
@pytest.mark.parametrize("params,field,words", [
    ({"duration": 0.5}, "duration", "at least 1"),
    ({"duration": 600}, "duration", "at most 30"),
    ({"guidance": 50}, "guidance", "at most 10"),
    ({"duration": "long"}, "duration", "must be a number"),
])
def test_out_of_bounds_parameters_are_a_clear_400_and_nothing_is_queued(
        users, jingle_template, django_capture_on_commit_callbacks, params, field, words):
    assert_refused_out_of_bounds(users["creator"], django_capture_on_commit_callbacks,
                                 "jingle", params, field, words)


@pytest.mark.django_db
def test_a_job_through_the_runtime_stores_a_wav_of_the_asked_duration(
        users, project, jingle_template, django_capture_on_commit_callbacks, settings):
    settings.ASSAY_BATCH_WINDOW_MS = 0
    with django_capture_on_commit_callbacks(execute=False):
        job = submit_generation(users["creator"], project=project, template="jingle",
                                variables={"product": "Kite"},
                                parameters={"duration": 1.5, "seed": 11})
    assert run_job(str(job.pk), worker="w") == "succeeded"
    asset = Asset.objects.get(job=job)
    assert asset.kind == "audio" and asset.media_type == "audio/wav"
    assert asset.file.name.endswith(".wav")
    samples, rate = read_wav(asset.read_bytes())
    assert rate == RATE and len(samples) == int(1.5 * RATE)
    assert asset.metadata["duration_seconds"] == 1.5
    job = GenerationJob.objects.get(pk=job.pk)
    assert job.usage["audio_seconds"] == 1.5
    assert job.model_ref["name"] == "assay-demo-music"
    # A stand-in model: the portal says its output is noise.
    assert default_model_is_demo(project, MusicgenAudioGenerator, str(MODELS_DIR))


@pytest.mark.django_db
def test_the_platform_batches_music_jobs_and_keeps_their_bytes(
        require_postgres, users, project, jingle_template, django_capture_on_commit_callbacks,
        settings):
    settings.ASSAY_BATCH_WINDOW_MS = 0

    def submit(product: str, seed: int) -> GenerationJob:
        with django_capture_on_commit_callbacks(execute=False):
            return submit_generation(users["creator"], project=project, template="jingle",
                                     variables={"product": product},
                                     parameters={"duration": 1.0, "seed": seed})

    alone = submit("Kite", 42)
    assert run_job(str(alone.pk), worker="w") == "succeeded"
    jobs = [submit("Lamp", 1), submit("Kite", 42), submit("Mug", 2)]
    assert run_job(str(jobs[0].pk), worker="w") == "succeeded"
    assert GenerationJob.objects.get(pk=jobs[1].pk).usage["batch_size"] == 3
    assert Asset.objects.get(job=jobs[1]).sha256 == Asset.objects.get(job=alone).sha256
