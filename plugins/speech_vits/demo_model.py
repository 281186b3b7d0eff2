"""Build the demo speech model offline: a tiny, randomly initialised VITS with two voices.

No model hub is reachable from Assay's build and test machines, yet the speech generator
needs a real ``VitsModel`` to exercise loading, voices, speaking rate, seeding, progress,
cancellation and the audio formats end to end. This module writes one from a tiny
``VitsConfig`` and a character vocabulary (the format MMS-TTS checkpoints ship for
``VitsTokenizer``), with a fixed seed, in well under a second: about 140 KB of
safetensors, the same bytes on the same machine, so :func:`folder_revision` pins them.

The weights are random, so the audio is noise: demo speech models produce noise until a
real model (an MMS-TTS voice) is registered. It has two speakers so that the voice
parameter has something to choose; real MMS-TTS voices have one.

torch and transformers are imported inside the builder only: importing this module stays
cheap in processes that never build anything.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from assay import STAMP_NAME, build_model_folder, folder_revision, read_stamp

__all__ = (
    "BUILDER_VERSION",
    "DEMO_LICENCE",
    "DEMO_NAME",
    "STAMP_NAME",
    "build_demo_speech_model",
    "folder_revision",
    "read_stamp",
)

#: Bump when the recipe changes (config, vocabulary, seed): existing builds are redone.
BUILDER_VERSION = 1
DEMO_NAME = "assay-demo-speech"
DEMO_LICENCE = "demo model built locally, no licence restrictions"
DEMO_DESCRIPTION = "Tiny random VITS speech model built offline: its audio is noise."

_SEED = 2718
#: Lower-case letters, digits, space and punctuation: what English scripts are made of.
#: VitsTokenizer lower-cases text for a vocabulary without capitals and drops characters
#: it does not know, as MMS-TTS does.
_CHARACTERS = " abcdefghijklmnopqrstuvwxyz0123456789'.,!?;:-\""
#: Sizes chosen to be tiny but to keep every part of VITS: text encoder with relative
#: attention, stochastic duration predictor, normalising flow, HiFi-GAN decoder. The
#: decoder upsamples by 8 * 8 * 4 = 256, MMS-TTS's hop length at 16 kHz.
_CONFIG: dict[str, Any] = {
    "hidden_size": 16,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "ffn_dim": 32,
    "flow_size": 8,
    "spectrogram_bins": 9,
    "upsample_initial_channel": 16,
    "upsample_rates": (8, 8, 4),
    "upsample_kernel_sizes": (16, 16, 8),
    "resblock_kernel_sizes": (3,),
    "resblock_dilation_sizes": ((1, 3),),
    "depth_separable_num_layers": 2,
    "duration_predictor_filter_channels": 16,
    "duration_predictor_num_flows": 2,
    "prior_encoder_num_flows": 2,
    "prior_encoder_num_wavenet_layers": 1,
    "posterior_encoder_num_wavenet_layers": 1,
    "num_speakers": 2,
    "speaker_embedding_size": 8,
    "sampling_rate": 16000,
}


def _expected_stamp() -> dict[str, Any]:
    return {
        "builder_version": BUILDER_VERSION,
        "name": DEMO_NAME,
        "licence": DEMO_LICENCE,
        "description": DEMO_DESCRIPTION,
        "seed": _SEED,
    }


def build_demo_speech_model(target: Path | str, *, force: bool = False) -> Path:
    """Build the demo VITS into ``target`` unless an identical build is already there
    (atomically and under a lock: see :func:`assay.build_model_folder`)."""
    return build_model_folder(target, _expected_stamp(), _build_into, force=force)


def _vocabulary() -> dict[str, int]:
    """Token ids: padding first (VitsTokenizer's blank between characters is id 0)."""
    vocab = {"<pad>": 0, "<unk>": 1}
    for character in _CHARACTERS:
        vocab[character] = len(vocab)
    return vocab


def _build_into(folder: Path) -> None:
    """Write the tokenizer and the seeded tiny model (safetensors) into ``folder``."""
    import torch
    from transformers import VitsConfig, VitsModel, VitsTokenizer

    vocab = _vocabulary()
    source = folder / ".tokenizer-source"
    source.mkdir()
    (source / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    # phonemize=False: MMS-TTS voices read characters, and no phonemizer is installed.
    tokenizer = VitsTokenizer(str(source / "vocab.json"), phonemize=False, normalize=True,
                              add_blank=True)
    shutil.rmtree(source)

    config = VitsConfig(vocab_size=len(vocab), pad_token_id=vocab["<pad>"], **_CONFIG)
    # fork_rng: seed for a reproducible build without disturbing the caller's global RNG.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(_SEED)
        model = VitsModel(config).eval()
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
