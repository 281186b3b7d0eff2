"""The video-animatediff plugin against its demo pipeline, directly and through the platform.

Direct tests exercise the plugin the way a worker does (``load`` and ``generate``); the
platform tests submit over REST or through the service and run jobs with the real
runtime. The demo models are built once per machine into var/test-models (their stamps
make later builds no-ops). Sizes stay at 64 px, 8 frames and 2 steps.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from assay import GenerationRequest, NullProgress, folder_revision
from assay.generation.models import GenerationJob
from assay.generation.runtime import run_job
from assay.generation.services import submit_generation
from assay.studio.models import Asset
from plugins.image_diffusers.demo_model import build_demo_image_model
from plugins.video_animatediff import plugin
from plugins.video_animatediff.demo_model import build_demo_video_model
from plugins.video_animatediff.generator import AnimateDiffVideoGenerator, split_source
from tests.conftest import make_template
from tests.fixtures.generation import (
    RecordingProgress,
    assert_refused_out_of_bounds,
    loaded_generator,
    modules_loaded_by,
    post_generation,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SMALL = {"frames": 8, "width": 64, "height": 64, "steps": 2}


@pytest.fixture(scope="session")
def demo_video_model() -> Path:
    """The demo video pipeline (and the image one, for starting images), built once."""
    models = Path(settings.ASSAY_MODELS_DIR)
    build_demo_image_model(models / "demo-image")
    return build_demo_video_model(models / "demo-video")


@pytest.fixture(scope="session")
def generator(demo_video_model: Path, one_thread: None) -> AnimateDiffVideoGenerator:
    """One loaded generator for the session, as a worker's model cache keeps it."""
    models = str(settings.ASSAY_MODELS_DIR)
    assert AnimateDiffVideoGenerator.default_model(models).name == "assay-demo-video"
    return loaded_generator(AnimateDiffVideoGenerator, models, demo_video_model, "float32")


def request(prompt: str, seed: int, inputs: dict[str, bytes] | None = None,
            **params: object) -> GenerationRequest:
    return GenerationRequest(job_id=f"job-{prompt}-{seed}", prompt=prompt,
                             parameters={**SMALL, **params}, seed=seed, inputs=inputs or {})


def read_video(data: bytes, tmp_path: Path) -> tuple[int, float, tuple[int, int]]:
    """(frames, fps, (width, height)) as imageio's ffmpeg reader sees the MP4."""
    import imageio.v2 as iio

    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    reader = iio.get_reader(str(path), format="FFMPEG")
    try:
        meta = reader.get_meta_data()
        return reader.count_frames(), float(meta["fps"]), tuple(meta["size"])
    finally:
        reader.close()


# -- the demo model and the plugin's surface --------------------------------------------------


def test_demo_build_is_idempotent_deterministic_and_small(demo_video_model: Path,
                                                          tmp_path: Path) -> None:
    revision = folder_revision(demo_video_model)
    assert build_demo_video_model(demo_video_model) == demo_video_model
    assert folder_revision(demo_video_model) == revision
    for part in ("unet", "motion_adapter", "vae", "text_encoder", "tokenizer", "scheduler"):
        assert (demo_video_model / part).is_dir()
    weights = list(demo_video_model.rglob("*.safetensors"))
    assert sum(p.stat().st_size for p in weights) < 20_000_000
    again = build_demo_video_model(tmp_path / "demo-video")
    assert folder_revision(again) == revision  # same recipe, same bytes


def test_hooks_register_the_generator_and_build_the_model(demo_video_model: Path) -> None:
    assert plugin.register_generators() == [AnimateDiffVideoGenerator]
    models = str(settings.ASSAY_MODELS_DIR)
    assert plugin.build_demo_models(models_dir=models, force=False) == ["demo-video"]
    assert plugin.ASSAY_API == ">=1,<2"


def test_importing_the_plugin_does_not_import_torch() -> None:
    assert modules_loaded_by("plugins.video_animatediff.plugin",
                             {"torch", "diffusers", "PIL", "imageio_ffmpeg"}) == []


def test_the_schema_has_plain_labels_and_the_video_queue() -> None:
    gen = AnimateDiffVideoGenerator
    assert (gen.id, gen.modality, gen.queue) == ("video-animatediff", "video", "gpu.video")
    described = {p.name: p.describe() for p in gen.all_parameters()}
    assert {"frames", "fps", "width", "height", "steps", "seed", "format", "strength",
            "num_videos"} <= set(described)
    assert all(p.label for p in gen.parameters)
    assert {n for n, d in described.items() if d["plain"]} == {"frames", "num_videos"}
    assert described["format"]["choices"] == ["mp4", "gif", "webp"]
    assert described["format"]["default"] == "mp4"
    assert described["strength"]["only_with_inputs"] is True


@pytest.mark.parametrize("params,name", [
    ({"frames": 64}, "frames"), ({"frames": 2}, "frames"), ({"fps": 60}, "fps"),
    ({"width": 4096}, "width"), ({"height": 100}, "height"), ({"format": "avi"}, "format"),
    ({"steps": 0}, "steps"), ({"num_videos": 9}, "num_videos"),
])
def test_validation_refuses_out_of_bounds_values(params: dict, name: str) -> None:
    _, errors = AnimateDiffVideoGenerator.validate_parameters(params)
    assert set(errors) == {name}


def test_split_source_needs_a_pinned_adapter() -> None:
    commit = "a" * 40
    assert split_source("/models/demo-video") == ("/models/demo-video", None, None)
    assert split_source(f"org/sd15+org/adapter@{commit}") == ("org/sd15", "org/adapter", commit)
    for bad in ("org/sd15+org/adapter", "org/sd15+org/adapter@main", "+org/adapter@" + commit):
        with pytest.raises(ValueError, match="40-hex"):
            split_source(bad)


# -- generating ---------------------------------------------------------------------------------


def test_mp4_with_poster_usage_and_metadata(generator: AnimateDiffVideoGenerator,
                                            tmp_path: Path) -> None:
    [result] = generator.generate([request("a cat", 1, fps=6)], NullProgress())
    [out] = result.outputs
    assert (out.kind, out.media_type, out.width, out.height) == ("video", "video/mp4", 64, 64)
    assert out.metadata == {"seed": 1, "fps": 6, "frames": 8, "duration_seconds": 1.333,
                            "format": "mp4"}
    assert out.poster is not None and out.poster.startswith(PNG_SIGNATURE)
    assert read_video(out.data, tmp_path) == (8, 6.0, (64, 64))
    assert result.usage == {"videos": 1, "frames": 8, "video_seconds": 1.333, "steps": 2}


def test_same_seed_same_bytes_alone_and_in_a_batch(generator: AnimateDiffVideoGenerator
                                                   ) -> None:
    [alone] = generator.generate([request("a cat", 7)], NullProgress())
    again = generator.generate([request("a cat", 7)], NullProgress())[0]
    batch = generator.generate(
        [request("a dog", 3), request("a cat", 7), request("a cat", 7, num_videos=2),
         request("a cat", 7, fps=12)],
        NullProgress())
    first = alone.outputs[0].data
    assert again.outputs[0].data == first
    assert batch[1].outputs[0].data == first
    assert batch[2].outputs[0].data == first  # video 0 of a request is seeded seed + 0
    assert batch[2].outputs[1].metadata["seed"] == 8
    assert batch[2].outputs[1].data != first
    assert batch[0].outputs[0].data != first
    assert batch[3].outputs[0].poster == alone.outputs[0].poster  # same frames, other fps
    assert batch[3].outputs[0].data != first


def test_gif_and_webp_fallbacks(generator: AnimateDiffVideoGenerator) -> None:
    from PIL import Image

    gif, webp = generator.generate(
        [request("a cat", 1, format="gif", fps=4), request("a cat", 1, format="webp", fps=4)],
        NullProgress())
    for result, fmt in ((gif, "GIF"), (webp, "WEBP")):
        [out] = result.outputs
        assert out.kind == "video" and out.media_type == f"image/{fmt.lower()}"
        with Image.open(io.BytesIO(out.data)) as picture:
            assert picture.format == fmt and picture.n_frames == 8
            picture.seek(7)
            picture.load()  # WebP reports a frame's duration once it is decoded
            assert picture.info["duration"] == 250
    again = generator.generate([request("a cat", 1, format="gif", fps=4)], NullProgress())
    assert again[0].outputs[0].data == gif.outputs[0].data


def test_image_to_video_starts_from_the_image(generator: AnimateDiffVideoGenerator) -> None:
    [plain] = generator.generate([request("a cat", 5)], NullProgress())
    start = plain.outputs[0].poster
    assert start is not None
    runs = [generator.generate([request("a cat", 5, inputs={"init_image": start},
                                        strength=0.5)], NullProgress())[0] for _ in range(2)]
    assert runs[0].outputs[0].data == runs[1].outputs[0].data
    assert runs[0].outputs[0].data != plain.outputs[0].data
    assert runs[0].usage["steps"] == 1  # int(2 x 0.5) denoising steps
    with pytest.raises(ValueError, match="not a readable"):
        generator.generate([request("a cat", 5, inputs={"init_image": b"not an image"})],
                           NullProgress())


def test_progress_reaches_one_monotonically(generator: AnimateDiffVideoGenerator) -> None:
    progress = RecordingProgress()
    generator.generate([request("a cat", 1, steps=3)], progress)
    fractions = [f for _, f in progress.updates]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) >= 3


def test_cancelling_mid_run_stops_early(generator: AnimateDiffVideoGenerator) -> None:
    progress = RecordingProgress(cancel={0, 1}, cancel_after=1)
    results = generator.generate([request("a cat", 1, steps=4), request("a dog", 2, steps=4)],
                                 progress)
    assert all(r.cancelled and not r.outputs for r in results)
    assert results[0].usage["steps"] == 1
    assert max(f for _, f in progress.updates) < 1.0


def test_cancelling_one_request_finishes_the_other(generator: AnimateDiffVideoGenerator
                                                   ) -> None:
    progress = RecordingProgress(cancel={1}, cancel_after=1)
    kept, dropped = generator.generate([request("a cat", 1), request("a dog", 2)], progress)
    assert not kept.cancelled and len(kept.outputs) == 1
    assert dropped.cancelled and not dropped.outputs


# -- through the platform ----------------------------------------------------------------------


@pytest.fixture
def clip_template(project, users, demo_video_model):
    return make_template(project, users["owner"], slug="clip", generator="video-animatediff",
                         text="a clip of {{ product }} for {{ audience }}")


@pytest.mark.django_db
@pytest.mark.parametrize("params,field,words", [
    ({"frames": 1000}, "parameters.frames", "at most 32"),
    ({"fps": 1}, "parameters.fps", "at least 4"),
    ({"width": 100}, "width", "multiple of 8"),
    ({"format": "avi"}, "parameters.format", "must be one of"),
])
def test_out_of_bounds_parameters_are_a_400_and_nothing_is_queued(
        users, clip_template, django_capture_on_commit_callbacks, params, field, words):
    assert_refused_out_of_bounds(users["creator"], django_capture_on_commit_callbacks,
                                 "clip", params, field, words)


def _run(user, project, template, capture, parent=None, **params):
    with capture(execute=False):
        job = submit_generation(user, project=project, template=template,
                                variables={"product": "Kite"}, parameters=params,
                                parent_asset=parent)
    assert run_job(str(job.pk), worker="w") == "succeeded"
    job.refresh_from_db()
    return job, Asset.objects.filter(job=job).order_by("index")


@pytest.mark.django_db
def test_a_job_stores_an_mp4_and_its_poster(users, project, clip_template, settings,
                                            django_capture_on_commit_callbacks,
                                            tmp_path) -> None:
    settings.ASSAY_BATCH_WINDOW_MS = 0
    job, assets = _run(users["creator"], project, "clip", django_capture_on_commit_callbacks,
                       seed=4, fps=6, **SMALL)
    asset = assets.get()
    assert (asset.kind, asset.media_type, asset.width, asset.height) == (
        "video", "video/mp4", 64, 64)
    assert read_video(asset.read_bytes(), tmp_path) == (8, 6.0, (64, 64))
    poster = asset.metadata["poster"]
    assert poster.endswith(".png") and poster != asset.file.name
    with default_storage.open(poster) as handle:
        assert handle.read().startswith(PNG_SIGNATURE)
    assert job.usage["frames"] == 8 and job.usage["video_seconds"] == 1.333
    assert job.queue == "gpu.video"


@pytest.mark.django_db
def test_image_to_video_records_the_image_as_parent(
        users, project, clip_template, settings, django_capture_on_commit_callbacks) -> None:
    settings.ASSAY_BATCH_WINDOW_MS = 0
    make_template(project, users["owner"], slug="shot", generator="image-diffusers",
                  text="a photo of {{ product }}")
    _, images = _run(users["creator"], project, "shot", django_capture_on_commit_callbacks,
                     seed=1, steps=1)
    image = images.get()
    job, assets = _run(users["creator"], project, "clip", django_capture_on_commit_callbacks,
                       parent=str(image.pk), seed=2, strength=0.7, format="gif", **SMALL)
    video = assets.get()
    assert job.parent_asset_id == image.pk and video.parent_id == image.pk
    assert video.kind == "video" and video.media_type == "image/gif"
    assert job.parameters["strength"] == 0.7
    # A video is no starting image.
    response = post_generation(users["creator"], {"project": "launch", "template": "clip",
                                                  "variables": {"product": "Kite"},
                                                  "parent_asset": str(video.pk)})
    assert response.status_code == 400
    assert "must be an image" in response.json()["detail"]


@pytest.mark.django_db
def test_same_seed_same_bytes_alone_and_batched_by_the_runtime(
        require_postgres, users, project, clip_template, settings,
        django_capture_on_commit_callbacks) -> None:
    settings.ASSAY_BATCH_WINDOW_MS = 0
    _, alone = _run(users["creator"], project, "clip", django_capture_on_commit_callbacks,
                    seed=42, **SMALL)
    jobs = []
    for seed in (1, 42, 3):
        with django_capture_on_commit_callbacks(execute=False):
            jobs.append(submit_generation(users["creator"], project=project, template="clip",
                                          variables={"product": "Kite"},
                                          parameters={**SMALL, "seed": seed}))
    assert run_job(str(jobs[0].pk), worker="w") == "succeeded"
    assert GenerationJob.objects.get(pk=jobs[1].pk).usage["batch_size"] == 3
    assert Asset.objects.get(job=jobs[1]).sha256 == alone.get().sha256
