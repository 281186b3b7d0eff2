"""Build the demo image model offline: a tiny, randomly initialised Stable Diffusion pipeline.

No model hub is reachable from Assay's build and test machines, yet the image generator
needs a real diffusers pipeline to exercise loading, batching, seeding, img2img, progress,
cancellation and provenance end to end. This module assembles one from tiny configs (UNet,
VAE, CLIP text encoder, a CLIP tokenizer whose vocab.json/merges.txt are written here, an
Euler scheduler) in a couple of seconds, with fixed seeds, so the same machine always writes
the same bytes and :func:`folder_revision` can pin them.

The weights are random, so the pictures are noise: demo image models produce noise until a
real model is registered. Everything else about the folder is a standard Stable Diffusion
layout that ``DiffusionPipeline.from_pretrained(folder)`` loads, and that
``StableDiffusionImg2ImgPipeline.from_pipe`` reuses for image-to-image.

torch, transformers and diffusers are imported inside the builder only: importing this
module stays cheap in processes that never build anything.
"""

from __future__ import annotations

import json
import shutil
from itertools import pairwise
from pathlib import Path
from typing import Any

from assay import STAMP_NAME, build_model_folder, folder_revision, read_stamp

__all__ = (
    "BUILDER_VERSION",
    "DEMO_LICENCE",
    "DEMO_NAME",
    "STAMP_NAME",
    "UNET_CONFIG",
    "build_demo_image_model",
    "folder_revision",
    "read_stamp",
    "tiny_sd_components",
)

#: Bump when the recipe changes (configs, tokenizer, seeds): existing builds are redone.
BUILDER_VERSION = 1
#: Written last into a finished build; its contents decide whether a rebuild is needed.
DEMO_NAME = "assay-demo-image"
DEMO_LICENCE = "demo model built locally, no licence restrictions"

_SEED = 4321
#: 64 px images are 8x8 latents (the VAE downsamples by 8, as Stable Diffusion's does).
_SAMPLE_SIZE = 64
_CONTEXT = 77  # CLIP's prompt length; CLIPTokenizer and the pipeline expect exactly this
_HIDDEN = 32  # text encoder width = UNet cross-attention width

#: The tiny UNet's configuration (the video demo sizes its motion adapter from it).
UNET_CONFIG = {
    "sample_size": _SAMPLE_SIZE // 8,
    "in_channels": 4,
    "out_channels": 4,
    "layers_per_block": 1,
    "block_out_channels": (32, 64),
    "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
    "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
    "cross_attention_dim": _HIDDEN,
    "attention_head_dim": 8,
    "norm_num_groups": 16,
}
_VAE = {
    "sample_size": _SAMPLE_SIZE,
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 4,
    "layers_per_block": 1,
    "block_out_channels": (16, 32, 32, 32),
    "down_block_types": ("DownEncoderBlock2D",) * 4,
    "up_block_types": ("UpDecoderBlock2D",) * 4,
    "norm_num_groups": 16,
}
_TEXT = {
    "hidden_size": _HIDDEN,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "max_position_embeddings": _CONTEXT,
    "projection_dim": _HIDDEN,
}
#: Stable Diffusion 1.x's noise schedule, with Euler steps (no noise added while sampling,
#: so each image depends only on its initial latents, drawn from its own generator).
_SCHEDULER = {
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "prediction_type": "epsilon",
    "timestep_spacing": "leading",
    "steps_offset": 1,
}
#: Words the tokenizer knows whole; anything else still encodes, letter by letter.
_WORDS = (
    "a an the of and in on with at by for to from photo picture image painting drawing "
    "portrait landscape city street sky sea sun moon night day light dark red green blue "
    "yellow white black orange purple cat dog bird horse tree flower forest mountain river "
    "house car boat person woman man child face eye hand product logo poster banner bottle "
    "cup shoe watch bag studio style high quality detailed realistic cartoon simple clean "
    "modern vintage bright soft sharp blurry noise"
).split()


def _expected_stamp() -> dict[str, Any]:
    return {
        "builder_version": BUILDER_VERSION,
        "name": DEMO_NAME,
        "licence": DEMO_LICENCE,
        "seed": _SEED,
    }


def build_demo_image_model(target: Path | str, *, force: bool = False) -> Path:
    """Build the demo pipeline into ``target`` unless an identical build is already there
    (atomically and under a lock: see :func:`assay.build_model_folder`)."""
    expected = _expected_stamp()
    return build_model_folder(target, expected, lambda folder: _build_into(folder),
                              force=force)


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's byte-to-character table: every byte gets a printable stand-in."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    table, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            table[byte] = chr(byte)
        else:
            table[byte] = chr(256 + extra)
            extra += 1
    return table


def _vocab_and_merges() -> tuple[dict[str, int], list[str]]:
    """A CLIP-style byte-level BPE vocabulary: all bytes, then whole words, then specials.

    Every byte has a token (alone and word-final with ``</w>``), so any prompt encodes.
    Each word in ``_WORDS`` is first split by the merges learnt so far, then its remaining
    pieces are joined left to right by new merges, as a BPE trainer would: every listed
    word then encodes to a single token.
    """
    chars = list(_bytes_to_unicode().values())
    tokens = [*chars, *(c + "</w>" for c in chars)]
    merges: list[str] = []
    ranks: dict[tuple[str, str], int] = {}
    for word in _WORDS:
        pieces = _apply_merges([*word[:-1], word[-1] + "</w>"], ranks)
        current = pieces[0]
        for piece in pieces[1:]:
            ranks[(current, piece)] = len(merges)
            merges.append(f"{current} {piece}")
            current += piece
            tokens.append(current)
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    return {token: i for i, token in enumerate(tokens)}, merges


def _apply_merges(pieces: list[str], ranks: dict[tuple[str, str], int]) -> list[str]:
    """Byte-pair encoding of one word: merge the lowest-ranked adjacent pair until none."""
    while len(pieces) > 1:
        pairs = [(ranks.get(pair, len(ranks)), i) for i, pair in enumerate(pairwise(pieces))]
        rank, i = min(pairs)
        if rank == len(ranks):
            break
        pieces = [*pieces[:i], pieces[i] + pieces[i + 1], *pieces[i + 2 :]]
    return pieces


def tiny_sd_components(folder: Path, seed: int) -> dict[str, Any]:
    """The seeded tiny Stable Diffusion parts (tokenizer, text encoder, UNet, VAE, Euler
    scheduler), as pipeline keyword arguments, in eval mode.

    Shared with the video plugin's demo build, which adds a motion adapter. The UNet, VAE
    and text encoder are seeded ``seed``, ``seed + 1`` and ``seed + 2``; the tokenizer's
    source files are written into ``folder`` and removed again.
    """
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    # The tokenizer is read back from the classic vocab.json/merges.txt pair, the format
    # CLIP checkpoints ship; save_pretrained then writes it in the current format.
    vocab, merges = _vocab_and_merges()
    source = folder / ".tokenizer-source"
    source.mkdir()
    (source / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (source / "merges.txt").write_text(
        "#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8"
    )
    tokenizer = CLIPTokenizer.from_pretrained(str(source), model_max_length=_CONTEXT)
    shutil.rmtree(source)

    text_config = CLIPTextConfig(
        vocab_size=len(vocab),
        bos_token_id=vocab["<|startoftext|>"],
        eos_token_id=vocab["<|endoftext|>"],
        pad_token_id=vocab["<|endoftext|>"],
        **_TEXT,
    )
    # fork_rng: seed for a reproducible build without disturbing the caller's global RNG.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet = UNet2DConditionModel(**UNET_CONFIG)
        torch.manual_seed(seed + 1)
        vae = AutoencoderKL(**_VAE)
        torch.manual_seed(seed + 2)
        text_encoder = CLIPTextModel(text_config)
    return {
        "vae": vae.eval(),
        "text_encoder": text_encoder.eval(),
        "tokenizer": tokenizer,
        "unet": unet.eval(),
        "scheduler": EulerDiscreteScheduler.from_config(_SCHEDULER),
    }


def _build_into(folder: Path) -> None:
    """Assemble the pipeline from seeded tiny components and save it (safetensors)."""
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline(
        **tiny_sd_components(folder, _SEED),
        safety_checker=None,
        feature_extractor=None,
        image_encoder=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
