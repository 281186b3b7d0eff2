"""Build the demo video model offline: a tiny, randomly initialised AnimateDiff pipeline.

No model hub is reachable from Assay's build and test machines, yet the video generator
needs a real diffusers AnimateDiff pipeline to exercise loading, batching, seeding,
image-to-video, progress, cancellation and MP4 encoding end to end. This module reuses
the image plugin's tiny Stable Diffusion recipe (UNet, VAE, CLIP text encoder and the
locally written CLIP tokenizer) and adds a tiny, seeded ``MotionAdapter``; the
``AnimateDiffPipeline`` then turns the UNet into a ``UNetMotionModel``. It builds in a
couple of seconds, the same bytes every time, so :func:`folder_revision` can pin it.

The weights are random, so the videos are noise: demo video models produce noise until a
real model is registered.

torch, transformers and diffusers are imported inside the builder only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assay import build_model_folder
from plugins.image_diffusers.demo_model import UNET_CONFIG, tiny_sd_components

#: Bump when the recipe changes (configs, tokenizer, seeds): existing builds are redone.
BUILDER_VERSION = 1
DEMO_NAME = "assay-demo-video"
DEMO_LICENCE = "demo model built locally, no licence restrictions"

_SEED = 8642
#: Longest clip the motion modules' position embeddings cover (as real adapters: 32).
MAX_FRAMES = 32
_ADAPTER = {
    "block_out_channels": UNET_CONFIG["block_out_channels"],
    "motion_layers_per_block": UNET_CONFIG["layers_per_block"],
    "motion_num_attention_heads": 4,
    "motion_norm_num_groups": 16,
    "motion_max_seq_length": MAX_FRAMES,
    "use_motion_mid_block": True,
}


def _expected_stamp() -> dict[str, Any]:
    return {
        "builder_version": BUILDER_VERSION,
        "name": DEMO_NAME,
        "licence": DEMO_LICENCE,
        "seed": _SEED,
    }


def build_demo_video_model(target: Path | str, *, force: bool = False) -> Path:
    """Build the demo pipeline into ``target`` unless an identical build is already there
    (atomically and under a lock: see :func:`assay.build_model_folder`)."""
    return build_model_folder(target, _expected_stamp(), _build_into, force=force)


def _build_into(folder: Path) -> None:
    """Assemble the pipeline from seeded tiny components and save it (safetensors)."""
    import torch
    from diffusers import AnimateDiffPipeline, MotionAdapter

    components = tiny_sd_components(folder, _SEED)  # seeds _SEED to _SEED + 2
    # fork_rng: seed for a reproducible build without disturbing the caller's global RNG.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(_SEED + 3)
        adapter = MotionAdapter(**_ADAPTER)
    pipe = AnimateDiffPipeline(
        **components,
        motion_adapter=adapter.eval(),
        feature_extractor=None,
        image_encoder=None,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
