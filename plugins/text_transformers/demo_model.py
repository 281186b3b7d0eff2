"""Build the demo text model offline: a tiny GPT-2 trained for seconds on a bundled corpus.

No model hub is reachable from Assay's build and test machines, yet the text generator needs
real weights to exercise loading, batching, sampling and provenance end to end. This module
makes them from ``corpus.txt`` in about ten seconds on two CPU cores, deterministically, so
the same machine always produces the same bytes and :func:`folder_revision` can pin them.

torch, tokenizers and transformers are imported inside the builder: importing this module
(for :func:`folder_revision`) stays cheap in processes that never build anything.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assay import build_model_folder

#: Bump when the recipe changes (tokenizer, config, training): existing builds are redone.
BUILDER_VERSION = 1
#: Written last into a finished build; its contents decide whether a rebuild is needed.
DEMO_NAME = "assay-demo-text"
DEMO_LICENCE = "demo model built locally, no licence restrictions"
CORPUS_PATH = Path(__file__).with_name("corpus.txt")

DEFAULT_STEPS = 300
_SEED = 1234
#: A cap, not reached: with min_frequency=1 BPE merges every corpus word into one token
#: (~2400 in all), so sampled text is made of real words rather than invented ones.
_VOCAB_SIZE = 4096
_CONTEXT = 2048  # max_new_tokens goes up to 1024, plus room for the prompt
_BLOCK = 32  # training window (tokens); a 2-layer model uses little more context
_BATCH = 16
_LR = 6e-3
PAD, BOS, EOS = "<|pad|>", "<|bos|>", "<|endoftext|>"
_MODEL_SHAPE = {"n_embd": 64, "n_layer": 2, "n_head": 4}


def corpus_sha256() -> str:
    """Hash of the bundled corpus: a changed corpus means a different model."""
    return hashlib.sha256(CORPUS_PATH.read_bytes()).hexdigest()


def _expected_stamp(steps: int) -> dict[str, Any]:
    return {
        "builder_version": BUILDER_VERSION,
        "corpus_sha256": corpus_sha256(),
        "name": DEMO_NAME,
        "licence": DEMO_LICENCE,
        "steps": steps,
        # The recipe too, so that changing a constant rebuilds even if the version is not bumped.
        "recipe": {
            "seed": _SEED,
            "vocab_size": _VOCAB_SIZE,
            "context": _CONTEXT,
            "block": _BLOCK,
            "batch": _BATCH,
            "lr": _LR,
            **_MODEL_SHAPE,
        },
    }


def build_demo_text_model(target: Path, *, force: bool = False, steps: int = DEFAULT_STEPS) -> Path:
    """Build the demo model into ``target`` unless an identical build is already there
    (atomically and under a lock: see :func:`assay.build_model_folder`)."""
    expected = _expected_stamp(steps)
    return build_model_folder(target, expected, lambda folder: _build_into(folder, steps),
                              force=force)


@contextlib.contextmanager
def _single_thread(torch: Any) -> Iterator[None]:
    """Train on one intra-op thread, then restore the caller's setting.

    Reductions split across threads round differently, so the bytes (and the revision)
    would depend on the thread count of whichever process built the model. One thread also
    keeps the build at ~10 s when the CPUs are busy: two OpenMP threads sharing a loaded
    core were measured 15x slower here. The cost on an idle machine is a few seconds.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _documents() -> list[str]:
    """One product's copy per document (blocks are separated by a blank line).

    Each document ends with EOS in training. Whole blocks rather than single sentences,
    so the model runs on for a few sentences instead of stopping after a prompt's period.
    """
    text = CORPUS_PATH.read_text(encoding="ascii")
    return [" ".join(block.split()) for block in text.split("\n\n") if block.strip()]


def _build_into(folder: Path, steps: int) -> None:
    """Train tokenizer and model and save both, loadable by the Auto* classes."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    documents = _documents()

    # Byte-level BPE: any input text encodes, nothing maps to an unknown token.
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=_VOCAB_SIZE,
        min_frequency=1,
        special_tokens=[PAD, BOS, EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(documents, trainer)
    pad_id, bos_id, eos_id = (tok.token_to_id(t) for t in (PAD, BOS, EOS))
    # Every encoded prompt starts with BOS, as every training document does.
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, bos_id)]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        padding_side="left",  # decoder-only batches pad on the left
        model_max_length=_CONTEXT,
        clean_up_tokenization_spaces=False,
    )

    stream: list[int] = []
    for document in documents:
        stream += [bos_id, *tok.encode(document, add_special_tokens=False).ids, eos_id]
    data = torch.tensor(stream, dtype=torch.long)

    config = GPT2Config(
        vocab_size=tok.get_vocab_size(),
        n_positions=_CONTEXT,
        bos_token_id=bos_id,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        **_MODEL_SHAPE,
    )
    # fork_rng: seed for a reproducible build without disturbing the caller's global RNG.
    with torch.random.fork_rng(devices=[]), _single_thread(torch):
        torch.manual_seed(_SEED)
        model = GPT2LMHeadModel(config)
        # No position embeddings (zeroed, frozen): training windows are 32 tokens but a
        # request may run to 2048, and learned positions past the window stay random and
        # derail the text. A causal decoder infers order from its mask alone, so this
        # tiny model stays readable at any length; it also trained to a lower loss.
        model.transformer.wpe.weight.data.zero_()
        model.transformer.wpe.weight.requires_grad_(False)
        model.loss_type = "ForCausalLM"  # GPT2LMHeadModel's name maps to none: it warns
        model.train()
        trainable = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(trainable, lr=_LR, weight_decay=0.01)
        warmup = max(1, steps // 10)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            lambda s: min(1.0, (s + 1) / warmup) * max(0.05, 1 - s / max(1, steps)),
        )
        draw = torch.Generator().manual_seed(_SEED)
        span = torch.arange(_BLOCK)
        for _ in range(steps):
            starts = torch.randint(0, len(data) - _BLOCK, (_BATCH,), generator=draw)
            batch = data[starts[:, None] + span]
            loss = model(input_ids=batch, labels=batch).loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            schedule.step()
        model.eval()

    model.generation_config.pad_token_id = pad_id
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
