"""The structureless-noise check: noise (and the demo image model's output) warns, pictures
pass. Plain pytest, no database; images are drawn with Pillow and numpy.

The thresholds were set on other images (see plugins/quality_checks/noise.py); these cases
guard them.
"""

from __future__ import annotations

import importlib.util
import io
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from assay import CheckContext, CheckSubject
from assay.plugins.contracts import GenerationRequest, NullProgress
from plugins.image_diffusers.demo_model import build_demo_image_model
from plugins.image_diffusers.generator import DiffusersImageGenerator
from plugins.quality_checks import plugin
from plugins.quality_checks.noise import StructurelessNoiseCheck, noise_statistics

RNG_SEED = 20250601


def subject(data: bytes | None) -> CheckSubject:
    return CheckSubject("asset-1", "image", "image/png", "0" * 64, data=data)


def ctx() -> CheckContext:
    return CheckContext("acme", date(2025, 6, 1))


def encode(img: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def run(data: bytes):
    return StructurelessNoiseCheck().run(subject(data), ctx())


def uniform(shape, seed: int = 1) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8))


def gaussian(sigma: float, shape, seed: int = 2) -> Image.Image:
    values = 128 + np.random.default_rng(seed).normal(0, sigma, shape)
    return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8))


def shapes() -> Image.Image:
    img = Image.new("RGB", (480, 320), (236, 232, 220))
    draw = ImageDraw.Draw(img)
    draw.rectangle([30, 30, 220, 170], fill=(190, 40, 30))
    draw.ellipse([250, 90, 440, 300], fill=(30, 80, 190))
    draw.line([0, 319, 479, 0], fill=(10, 10, 10), width=4)
    return img


def photo_like(seed: int = 3) -> Image.Image:
    """A scene: sky gradient, hills, a sun, soft shading, a little sensor noise."""
    rng = np.random.default_rng(seed)
    height, width = 360, 540
    y, x = np.mgrid[0:height, 0:width]
    sky = np.stack([120 + 0.2 * y, 160 + 0.15 * y, 230 - 0.1 * y], -1)
    img = Image.fromarray(np.clip(sky, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    draw.ellipse([380, 40, 460, 120], fill=(250, 220, 120))
    for k, colour in enumerate(((60, 120, 50), (40, 95, 40), (30, 70, 30))):
        top = 200 + 40 * k
        points = [(0, height)] + [(px, top + int(25 * np.sin(px / (60 + 20 * k) + k)))
                                  for px in range(0, width + 1, 20)] + [(width, height)]
        draw.polygon(points, fill=colour)
    img = img.filter(ImageFilter.GaussianBlur(1.2))
    noisy = np.asarray(img, dtype=np.float64) + rng.normal(0, 4, (height, width, 3))
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def text_banner(size: int) -> Image.Image:
    img = Image.new("RGB", (800, 450), (250, 230, 200))
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=size)
    for top in range(0, 440, size + 6):
        draw.text((12, top), "Spring sale: 20% off every kettle this week only.",
                  fill=(60, 20, 0), font=font)
    return img


NOISE = {
    "uniform colour": lambda: encode(uniform((300, 400, 3))),
    "uniform grey, small": lambda: encode(uniform((64, 64))),
    "gaussian grey": lambda: encode(gaussian(20, (300, 300))),
    "gaussian colour, large": lambda: encode(gaussian(50, (900, 1200, 3))),
    "uniform as JPEG": lambda: encode(uniform((300, 300, 3)), "JPEG", quality=75),
    "gaussian as WebP": lambda: encode(gaussian(30, (256, 256, 3)), "WEBP", quality=80),
    "noise upscaled 2x": lambda: encode(uniform((128, 128, 3)).resize(
        (256, 256), Image.Resampling.BILINEAR)),
}

PICTURES = {
    "horizontal gradient": lambda: encode(Image.fromarray(
        np.tile(np.linspace(0, 255, 400), (300, 1)).astype(np.uint8))),
    "shapes": lambda: encode(shapes()),
    "shapes as JPEG q30": lambda: encode(shapes(), "JPEG", quality=30),
    "photo-like scene": lambda: encode(photo_like()),
    "photo-like scene as JPEG q40": lambda: encode(photo_like(4), "JPEG", quality=40),
    "photo-like scene, 96 px": lambda: encode(photo_like(5).resize((96, 64))),
    "dense text, 30 px": lambda: encode(text_banner(30)),
    "dense text, 14 px as JPEG": lambda: encode(text_banner(14), "JPEG", quality=60),
    "checkerboard": lambda: encode(Image.fromarray(
        (np.indices((256, 256)).sum(0) // 16 % 2 * 255).astype(np.uint8))),
}


@pytest.mark.parametrize("name", NOISE)
def test_noise_warns_in_words(name):
    data = NOISE[name]()
    outcome = run(data)
    assert (outcome.status, outcome.severity) == ("warn", "medium"), (name, outcome.summary)
    assert outcome.summary == "looks like random noise, not a picture"
    [evidence] = outcome.evidence
    assert evidence.message.startswith("This image looks like random noise, not a picture")
    assert evidence.region == (0, 0, *Image.open(io.BytesIO(data)).size)
    assert outcome.score == evidence.data["correlation_at_lag"]


@pytest.mark.parametrize("name", PICTURES)
def test_pictures_pass(name):
    outcome = run(PICTURES[name]())
    assert (outcome.status, outcome.severity) == ("pass", "info"), (name, noise_statistics(
        PICTURES[name]()))
    assert outcome.evidence == []


def test_blank_unreadable_and_tiny_images_are_left_to_the_other_checks():
    assert run(encode(Image.new("RGB", (200, 200), "white"))).summary.startswith("blank")
    unreadable = run(b"not an image")
    assert (unreadable.status, unreadable.severity) == ("fail", "high")
    assert run(encode(uniform((16, 16, 3)))).summary == "too small to judge whether it is noise"


def test_the_check_is_registered_and_overridable():
    assert StructurelessNoiseCheck in plugin.register_checks()
    assert StructurelessNoiseCheck.default_severity not in ("high", "critical")


REAL_PHOTOS = [Path(spec.origin).parent / "datasets" / "images" / name
               for spec in [importlib.util.find_spec("sklearn")] if spec and spec.origin
               for name in ("china.jpg", "flower.jpg")]


@pytest.mark.parametrize("path", REAL_PHOTOS, ids=lambda p: p.name)
def test_real_photos_pass(path):
    if not path.exists():
        pytest.skip(f"{path} is not installed")
    data = path.read_bytes()
    assert run(data).status == "pass"
    assert run(encode(Image.open(io.BytesIO(data)).resize((128, 86)), "JPEG",
                      quality=50)).status == "pass"


def test_the_demo_image_models_output_warns():
    """What the embedded default draws until a real model is registered."""
    models = Path(__file__).resolve().parents[2] / "var" / "test-models"
    build_demo_image_model(models / "demo-image")
    generator = DiffusersImageGenerator()
    generator.load(DiffusersImageGenerator.default_model(str(models)), "cpu", "float32")
    batch = [GenerationRequest(job_id=f"job-{seed}", prompt=prompt, seed=seed, inputs={},
                               parameters={"width": size, "height": size})
             for seed, prompt, size in ((41, "a kettle on a table", 64),
                                        (42, "a summer banner", 128))]
    for result in generator.generate(batch, NullProgress()):
        [output] = result.outputs
        assert run(output.data).status == "warn"
