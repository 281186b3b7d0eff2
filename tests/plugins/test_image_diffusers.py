"""The image-diffusers plugin against its demo pipeline: seeds, batching, img2img, progress.

Plain tests (no database): the plugin is exercised the way a worker uses it, through
``load`` and ``generate``. The demo model is built once per machine into
``var/test-models/demo-image`` and reused across runs (its stamp makes the build a no-op).
"""

from __future__ import annotations

import io
import os
import struct
import time
import zlib
from pathlib import Path

import pytest

from assay import GenerationRequest, NullProgress, folder_revision
from plugins.image_diffusers import plugin
from plugins.image_diffusers.demo_model import build_demo_image_model
from plugins.image_diffusers.generator import DiffusersImageGenerator
from tests.fixtures.generation import RecordingProgress, loaded_generator, modules_loaded_by

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = ROOT / "var" / "test-models"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="session")
def demo_image_model() -> Path:
    """The demo pipeline folder (built on the first run, found up to date afterwards)."""
    return build_demo_image_model(MODELS_DIR / "demo-image")


@pytest.fixture(scope="session")
def generator(demo_image_model: Path, one_thread: None) -> DiffusersImageGenerator:
    """One loaded generator for the whole session, as a worker's model cache keeps it."""
    return loaded_generator(DiffusersImageGenerator, MODELS_DIR, demo_image_model, "float32")


def request(prompt: str, seed: int, inputs: dict[str, bytes] | None = None, **params: object
            ) -> GenerationRequest:
    return GenerationRequest(job_id=f"job-{prompt}-{seed}", prompt=prompt,
                             parameters=dict(params), seed=seed, inputs=inputs or {})


def png_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as picture:
        assert picture.format == "PNG"
        return picture.size


# -- the demo model ---------------------------------------------------------------------------


def test_build_is_idempotent_and_complete(demo_image_model: Path) -> None:
    revision = folder_revision(demo_image_model)
    started = time.perf_counter()
    again = build_demo_image_model(demo_image_model)
    assert time.perf_counter() - started < 1.0
    assert again == demo_image_model
    assert folder_revision(demo_image_model) == revision
    for part in ("unet", "vae", "text_encoder", "tokenizer", "scheduler"):
        assert (demo_image_model / part).is_dir()
    weights = list(demo_image_model.rglob("*.safetensors"))
    assert len(weights) == 3
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in demo_image_model.rglob("*")
               if p.is_file())
    assert sum(p.stat().st_size for p in weights) < 10_000_000
    assert not list(demo_image_model.parent.glob(".demo-image.*.tmp"))  # no half-built folder


def test_build_is_deterministic_and_force_rebuilds(demo_image_model: Path,
                                                   tmp_path: Path) -> None:
    target = build_demo_image_model(tmp_path / "demo-image")
    (target / "stale.txt").write_text("left from an older build")
    rebuilt = build_demo_image_model(target, force=True)
    assert not (rebuilt / "stale.txt").exists()
    assert folder_revision(rebuilt) == folder_revision(demo_image_model)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".demo-image.lock", "demo-image"]


def test_hooks_register_the_generator_and_build_the_model(demo_image_model: Path) -> None:
    assert plugin.register_generators() == [DiffusersImageGenerator]
    assert plugin.build_demo_models(models_dir=str(MODELS_DIR), force=False) == ["demo-image"]
    assert plugin.ASSAY_API == ">=1,<2"


def test_importing_the_plugin_does_not_import_torch() -> None:
    assert modules_loaded_by("plugins.image_diffusers.plugin", {"torch", "diffusers", "PIL"}) == []


def test_model_info_and_size(generator: DiffusersImageGenerator, demo_image_model: Path) -> None:
    info = generator.model_info()
    assert info["source"] == str(demo_image_model)
    assert info["revision"] == folder_revision(demo_image_model)
    assert info["name"] == "assay-demo-image"
    assert "no licence restrictions" in info["licence"]
    assert 1_000_000 < generator.approximate_size_bytes() < 20_000_000


# -- parameters -------------------------------------------------------------------------------


def test_validation_refuses_out_of_bounds_values() -> None:
    _, errors = DiffusersImageGenerator.validate_parameters({"width": 100000, "steps": 10000})
    assert errors["width"] == "must be at most 1024 (got 100000)"
    assert errors["steps"] == "must be at most 100 (got 10000)"
    clean, errors = DiffusersImageGenerator.validate_parameters({})
    assert errors == {}
    assert clean["width"] == clean["height"] == 64 and clean["steps"] == 4


def test_extra_validation_refuses_sizes_not_a_multiple_of_8() -> None:
    errors = DiffusersImageGenerator.extra_validation({"width": 100, "height": 64})
    assert errors == {"width": "must be a multiple of 8 (got 100; try 96 or 104)"}
    assert DiffusersImageGenerator.extra_validation({"width": 512, "height": 768}) == {}


def test_a_model_folder_with_another_revision_is_refused(demo_image_model: Path) -> None:
    from assay import ModelRef

    ref = ModelRef(str(demo_image_model), "sha256:" + "0" * 64, "assay-demo-image")
    with pytest.raises(ValueError, match="was pinned"):
        DiffusersImageGenerator().load(ref, "cpu")


# -- text to image ----------------------------------------------------------------------------


def test_txt2img_makes_pngs_of_the_asked_size(generator: DiffusersImageGenerator) -> None:
    [result] = generator.generate([request("a red cat", 3, width=64, height=96)], NullProgress())
    assert not result.cancelled
    [output] = result.outputs
    assert output.kind == "image" and output.media_type == "image/png"
    assert output.data is not None and output.data.startswith(PNG_SIGNATURE)
    assert (output.width, output.height) == (64, 96)
    assert png_size(output.data) == (64, 96)
    assert output.metadata == {"seed": 3}
    assert result.usage == {"images": 1, "steps": 4}


def test_same_seed_same_bytes_alone_and_in_a_batch(generator: DiffusersImageGenerator) -> None:
    # 128 px: at 64 px a plainly batched call happens to round to the same pixels, at
    # 128 px and above it does not, so this size really tests the batch invariance.
    size = {"width": 128, "height": 128}
    alone = generator.generate([request("a red cat", 42, **size)], NullProgress())
    again = generator.generate([request("a red cat", 42, **size)], NullProgress())
    batch = generator.generate(
        [request("a blue dog", 7, negative_prompt="blurry", **size),
         request("a red cat", 42, **size),
         request("a green tree", 1234, **size)],
        NullProgress(),
    )
    assert alone[0].outputs[0].data == again[0].outputs[0].data
    assert alone[0].outputs[0].data == batch[1].outputs[0].data
    assert len({r.outputs[0].data for r in batch}) == 3


def test_different_seeds_differ(generator: DiffusersImageGenerator) -> None:
    results = generator.generate([request("a red cat", 1), request("a red cat", 2)],
                                 NullProgress())
    assert results[0].outputs[0].data != results[1].outputs[0].data


def test_num_images_gives_distinct_seeds(generator: DiffusersImageGenerator) -> None:
    [result] = generator.generate([request("a red cat", 10, num_images=2)], NullProgress())
    assert [o.metadata["seed"] for o in result.outputs] == [10, 11]
    assert result.outputs[0].data != result.outputs[1].data
    assert result.usage == {"images": 2, "steps": 4}
    # Image k of a request is seeded seed + k: the second image is the seed-11 image.
    [single] = generator.generate([request("a red cat", 11)], NullProgress())
    assert single.outputs[0].data == result.outputs[1].data


def test_mixed_image_counts_share_one_batch(generator: DiffusersImageGenerator) -> None:
    mixed = generator.generate([request("a cat", 5, num_images=2), request("a dog", 8)],
                               NullProgress())
    assert [len(r.outputs) for r in mixed] == [2, 1]
    [dog] = generator.generate([request("a dog", 8)], NullProgress())
    assert mixed[1].outputs[0].data == dog.outputs[0].data


# -- image to image ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def init_png() -> bytes:
    from PIL import Image

    picture = Image.new("RGB", (80, 60))
    picture.putdata([(x * 3 % 256, y * 4 % 256, 128) for y in range(60) for x in range(80)])
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def test_img2img_uses_the_init_image(generator: DiffusersImageGenerator, init_png: bytes) -> None:
    inputs = {"init_image": init_png}
    [txt] = generator.generate([request("a cat", 9, width=64, height=64)], NullProgress())
    [img] = generator.generate([request("a cat", 9, inputs, width=64, height=64)],
                               NullProgress())
    assert png_size(img.outputs[0].data) == (64, 64)
    assert img.outputs[0].data != txt.outputs[0].data
    assert img.usage == {"images": 1, "steps": 2}  # int(4 steps x strength 0.6)
    batch = generator.generate(
        [request("a dog", 1, inputs, width=64, height=64, num_images=2),
         request("a cat", 9, inputs, width=64, height=64)],
        NullProgress(),
    )
    assert batch[1].outputs[0].data == img.outputs[0].data
    [other] = generator.generate([request("a cat", 9, inputs, width=64, height=64,
                                          strength=1.0)], NullProgress())
    assert other.outputs[0].data != img.outputs[0].data


def test_img2img_with_too_few_steps_runs_one(generator: DiffusersImageGenerator,
                                             init_png: bytes) -> None:
    # 1 step x strength 0.6 rounds to 0 steps, which diffusers refuses: the schedule is
    # stretched so that one denoising step runs.
    [result] = generator.generate(
        [request("a cat", 9, {"init_image": init_png}, steps=1, strength=0.6)], NullProgress()
    )
    assert len(result.outputs) == 1
    assert result.usage["steps"] == 1


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares a huge canvas, with almost no data behind it."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0"))
            + chunk(b"IEND", b""))


@pytest.mark.parametrize("side", [5000, 20000])
def test_img2img_refuses_decompression_bombs(generator: DiffusersImageGenerator,
                                             side: int) -> None:
    bomb = {"init_image": _png_header_only(side, side)}
    with pytest.raises(ValueError, match="init image"):
        generator.generate([request("a cat", 1, bomb)], NullProgress())


def test_img2img_refuses_what_is_not_an_image(generator: DiffusersImageGenerator) -> None:
    with pytest.raises(ValueError, match="not a readable"):
        generator.generate([request("a cat", 1, {"init_image": b"%PDF-1.4"})], NullProgress())


# -- progress and cancellation ----------------------------------------------------------------


def test_progress_reaches_one_monotonically(generator: DiffusersImageGenerator) -> None:
    progress = RecordingProgress()
    generator.generate([request("a cat", 1, steps=5), request("a dog", 2, steps=5)], progress)
    for index in (0, 1):
        fractions = [f for i, f in progress.updates if i == index]
        assert fractions == sorted(fractions)
        assert fractions[0] > 0 and fractions[-1] == 1.0
        assert len(fractions) >= 5


def test_cancelling_every_request_stops_early(generator: DiffusersImageGenerator) -> None:
    progress = RecordingProgress(cancel={0, 1}, cancel_after=6)  # 2 requests: after step 3
    results = generator.generate([request("a cat", 1, steps=40), request("a dog", 2, steps=40)],
                                 progress)
    assert all(r.cancelled and r.outputs == [] for r in results)
    assert max(f for _, f in progress.updates) <= 3 / 40
    assert results[0].usage["steps"] == 3


def test_cancelling_some_requests_finishes_the_others(generator: DiffusersImageGenerator) -> None:
    progress = RecordingProgress(cancel={1}, cancel_after=2)
    results = generator.generate([request("a cat", 1, steps=4), request("a dog", 2, steps=4)],
                                 progress)
    assert not results[0].cancelled and len(results[0].outputs) == 1
    assert results[1].cancelled and results[1].outputs == []
    [alone] = generator.generate([request("a cat", 1, steps=4)], NullProgress())
    assert alone.outputs[0].data == results[0].outputs[0].data


def test_a_request_cancelled_before_the_start_is_left_out(
    generator: DiffusersImageGenerator,
) -> None:
    progress = RecordingProgress(cancel={0})
    results = generator.generate([request("a cat", 1), request("a dog", 2)], progress)
    assert results[0].cancelled and results[0].outputs == []
    assert len(results[1].outputs) == 1
    assert {i for i, _ in progress.updates} == {1}


def test_no_guidance_and_mixed_modes(generator: DiffusersImageGenerator, init_png: bytes) -> None:
    # guidance <= 1 turns classifier-free guidance off: one UNet row per image.
    plain = {"width": 128, "height": 128, "guidance": 1.0}
    [alone] = generator.generate([request("a cat", 4, **plain)], NullProgress())
    pair = generator.generate([request("a dog", 5, **plain), request("a cat", 4, **plain)],
                              NullProgress())
    assert pair[1].outputs[0].data == alone.outputs[0].data
    # A batch mixing txt2img and img2img (the batcher should not make one) still works.
    [img] = generator.generate([request("a cat", 9, {"init_image": init_png})], NullProgress())
    mixed = generator.generate([request("a cat", 4, **plain),
                                request("a cat", 9, {"init_image": init_png})], NullProgress())
    assert mixed[0].outputs[0].data == alone.outputs[0].data
    assert mixed[1].outputs[0].data == img.outputs[0].data
