"""Build the demo music model offline: a tiny, randomly initialised MusicGen.

No model hub is reachable from Assay's build and test machines, yet the music generator
needs a real ``MusicgenForConditionalGeneration`` to exercise loading, batching, seeding,
duration, progress, cancellation and storage end to end. This module assembles one from
tiny configs (a T5 text encoder, an EnCodec audio codec at 8 kHz and 50 frames a second,
a two-layer MusicGen decoder over four codebooks) and a word-level tokenizer written here,
in a couple of seconds, with a fixed seed, so the same machine always writes the same
bytes and :func:`folder_revision` can pin them.

The weights are random, so the audio is noise: demo music models produce noise until a
real model is registered. The folder is the standard MusicGen layout (config, generation
config, safetensors, tokenizer, processor) that ``from_pretrained(folder)`` loads.

torch, tokenizers and transformers are imported inside the builder only: importing this
module stays cheap in processes that never build anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assay import STAMP_NAME, build_model_folder, folder_revision, read_stamp

__all__ = (
    "BUILDER_VERSION",
    "DEMO_LICENCE",
    "DEMO_NAME",
    "STAMP_NAME",
    "build_demo_music_model",
    "folder_revision",
    "read_stamp",
)

#: Bump when the recipe changes (configs, tokenizer, seed): existing builds are redone.
BUILDER_VERSION = 1
DEMO_NAME = "assay-demo-music"
DEMO_LICENCE = "demo model built locally, no licence restrictions"

_SEED = 2718
_CODEBOOKS = 4  # as facebook/musicgen-small: four EnCodec codebooks, delayed by one step each
_CODES = 64  # entries per codebook (2048 in the real model)
_SAMPLING_RATE = 8000
#: EnCodec's hop is the product of its upsampling ratios: 160 samples, 50 frames a second
#: at 8 kHz (the real model: 640 samples at 32 kHz, also 50 frames a second).
_UPSAMPLING = (8, 5, 4)
_TEXT = {"d_model": 16, "d_kv": 8, "d_ff": 32, "num_layers": 1, "num_heads": 2,
         "relative_attention_num_buckets": 8}
_AUDIO = {"hidden_size": 16, "num_filters": 4, "num_lstm_layers": 1, "kernel_size": 3,
          "last_kernel_size": 3, "residual_kernel_size": 3,
          # 1.2 kbps at 50 frames x 6 bits = exactly 4 quantizers, one per codebook
          "target_bandwidths": [1.2]}
_DECODER = {"hidden_size": 32, "ffn_dim": 64, "num_hidden_layers": 2,
            "num_attention_heads": 2, "max_position_embeddings": 2048, "dropout": 0.0}
#: Words the tokenizer knows whole; any other word is unknown (letters and digits alone
#: are known too, so a one-character word still gets its own token).
_WORDS = (
    "a an the of and in on with for to by at from music song jingle tune melody beat "
    "rhythm loop intro outro background ad radio podcast upbeat calm happy sad bright dark "
    "slow fast soft loud energetic relaxed warm cheerful epic gentle jazz rock pop folk "
    "classical electronic ambient acoustic cinematic lofi piano guitar drums bass synth "
    "strings violin flute brass choir voice whistle claps bells"
).split()
_PAD, _EOS, _UNK = "<pad>", "</s>", "<unk>"


def _expected_stamp() -> dict[str, Any]:
    return {"builder_version": BUILDER_VERSION, "name": DEMO_NAME, "licence": DEMO_LICENCE,
            "seed": _SEED}


def build_demo_music_model(target: Path | str, *, force: bool = False) -> Path:
    """Build the demo MusicGen into ``target`` unless an identical build is already there
    (atomically and under a lock: see :func:`assay.build_model_folder`)."""
    return build_model_folder(target, _expected_stamp(), _build_into, force=force)


def _vocab() -> dict[str, int]:
    """Specials first (T5's ids: pad 0, end 1, unknown 2), then letters, digits and words."""
    tokens = [_PAD, _EOS, _UNK, *"abcdefghijklmnopqrstuvwxyz0123456789"]
    tokens += [w for w in _WORDS if w not in tokens]
    return {token: i for i, token in enumerate(tokens)}


def _tokenizer() -> Any:
    """A lowercasing word-level tokenizer that ends every prompt with ``</s>``, as T5's."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = _vocab()
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token=_UNK))
    core.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    core.post_processor = processors.TemplateProcessing(
        single=f"$A {_EOS}", special_tokens=[(_EOS, vocab[_EOS])])
    return PreTrainedTokenizerFast(tokenizer_object=core, pad_token=_PAD, eos_token=_EOS,
                                   unk_token=_UNK, model_max_length=512)


def _build_into(folder: Path) -> None:
    """Assemble the model from seeded tiny configs and save it with its processor."""
    import torch
    from transformers import (
        EncodecConfig,
        EncodecFeatureExtractor,
        GenerationConfig,
        MusicgenConfig,
        MusicgenDecoderConfig,
        MusicgenForConditionalGeneration,
        MusicgenProcessor,
        T5Config,
    )

    tokenizer = _tokenizer()
    vocab = _vocab()
    text = T5Config(vocab_size=len(vocab), pad_token_id=vocab[_PAD], eos_token_id=vocab[_EOS],
                    decoder_start_token_id=vocab[_PAD], **_TEXT)
    audio = EncodecConfig(sampling_rate=_SAMPLING_RATE, upsampling_ratios=list(_UPSAMPLING),
                          codebook_size=_CODES, **_AUDIO)
    # The decoder's pad/start token is one past the codebook (its embeddings have room).
    decoder = MusicgenDecoderConfig(vocab_size=_CODES, num_codebooks=_CODEBOOKS,
                                    pad_token_id=_CODES, bos_token_id=_CODES, **_DECODER)
    config = MusicgenConfig(text_encoder=text, audio_encoder=audio, decoder=decoder)
    # fork_rng: seed for a reproducible build without disturbing the caller's global RNG.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(_SEED)
        model = MusicgenForConditionalGeneration(config).eval()
        # EnCodec initialises its codebooks to zeros (a trained model fills them): every
        # code would decode to the same sound. Random vectors make codes audible.
        for layer in model.audio_encoder.quantizer.layers:
            embed = torch.randn(layer.codebook.embed.shape)
            layer.codebook.embed.copy_(embed)
            layer.codebook.embed_avg.copy_(embed)
    # What facebook/musicgen-small ships, scaled to this codebook: sample from the 50 most
    # likely codes with classifier-free guidance 3.
    model.generation_config = GenerationConfig(
        do_sample=True, guidance_scale=3.0, top_k=50, max_length=1500,
        pad_token_id=_CODES, bos_token_id=_CODES, decoder_start_token_id=_CODES)
    model.save_pretrained(folder, safe_serialization=True)
    extractor = EncodecFeatureExtractor(feature_size=1, sampling_rate=_SAMPLING_RATE)
    MusicgenProcessor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(folder)
