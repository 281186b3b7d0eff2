"""The text-transformers plugin against the real demo model (built once into var/test-models).

Plain pytest: no database, nothing Django, so these run with or without pytest-django.
"""

from __future__ import annotations

import os
import re
import stat
import time
from pathlib import Path

import pytest

from assay import (
    STAMP_NAME,
    GenerationRequest,
    ModelRef,
    NullProgress,
    Progress,
    RequestResult,
    folder_revision,
    read_stamp,
)
from plugins.text_transformers import plugin
from plugins.text_transformers.demo_model import (
    CORPUS_PATH,
    DEMO_LICENCE,
    build_demo_text_model,
)
from plugins.text_transformers.generator import TransformersTextGenerator

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a model hub

REPO = Path(__file__).resolve().parents[2]
MODELS_DIR = REPO / "var" / "test-models"
CORPUS_WORDS = {w.lower() for w in re.findall(r"[A-Za-z]{3,}", CORPUS_PATH.read_text())}


@pytest.fixture(scope="module")
def demo_folder() -> Path:
    """The demo model, built on the first run and reused afterwards thanks to its stamp."""
    return build_demo_text_model(MODELS_DIR / "demo-text")


@pytest.fixture(scope="module")
def generator(demo_folder: Path) -> TransformersTextGenerator:
    gen = TransformersTextGenerator()
    gen.load(TransformersTextGenerator.default_model(str(MODELS_DIR)), "cpu", "float32")
    return gen


def req(prompt: str, seed: int, **parameters: object) -> GenerationRequest:
    return GenerationRequest(job_id=f"job-{seed}", prompt=prompt, parameters=parameters, seed=seed)


def text_of(result: RequestResult) -> str:
    assert not result.cancelled and len(result.outputs) == 1
    output = result.outputs[0]
    assert output.kind == "text" and output.media_type == "text/plain; charset=utf-8"
    assert output.text is not None
    return output.text


class Recorder(Progress):
    """Records every update; cancels ``cancel_index`` once it has had ``after`` updates."""

    def __init__(self, cancel_index: int | None = None, after: int = 0) -> None:
        self.updates: dict[int, list[float]] = {}
        self.cancel_index, self.after = cancel_index, after

    def update(self, index: int, fraction: float) -> None:
        self.updates.setdefault(index, []).append(fraction)

    def is_cancelled(self, index: int) -> bool:
        return index == self.cancel_index and len(self.updates.get(index, [])) >= self.after


# -- building -----------------------------------------------------------------------------


def test_build_is_idempotent_and_readable_by_others(demo_folder):
    revision = folder_revision(demo_folder)
    started = time.perf_counter()
    assert build_demo_text_model(demo_folder) == demo_folder
    assert time.perf_counter() - started < 0.5
    assert folder_revision(demo_folder) == revision and revision.startswith("sha256:")
    assert read_stamp(demo_folder)["licence"] == DEMO_LICENCE
    for path in demo_folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path.name  # not safetensors' 0600
    assert not [
        p for p in demo_folder.parent.iterdir() if p.name.startswith(".demo-text.") and p.is_dir()
    ], "a temporary build folder was left behind"


def test_build_is_deterministic_and_rebuilds_on_change(tmp_path):
    first = build_demo_text_model(tmp_path / "a", steps=3)
    second = build_demo_text_model(tmp_path / "b", steps=3)
    assert folder_revision(first) == folder_revision(second)
    stamp = (first / STAMP_NAME).stat().st_mtime_ns
    build_demo_text_model(first, steps=4)  # a different recipe is not "up to date"
    assert read_stamp(first)["steps"] == 4 and (first / STAMP_NAME).stat().st_mtime_ns != stamp
    assert folder_revision(first) != folder_revision(second)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["a", "b"]


def test_a_folder_that_is_not_a_demo_build_is_never_replaced(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "weights.bin").write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="not replacing"):
        build_demo_text_model(tmp_path / "mine", force=True, steps=1)
    assert (tmp_path / "mine" / "weights.bin").read_bytes() == b"precious"


def test_plugin_module_registers_the_generator_and_builds_the_demo(demo_folder):
    assert plugin.ASSAY_API == ">=1,<2"
    assert plugin.register_generators() == [TransformersTextGenerator]
    assert plugin.build_demo_models(models_dir=str(MODELS_DIR), force=False) == ["assay-demo-text"]
    ref = TransformersTextGenerator.default_model("/models")
    assert ref == ModelRef(source="/models/demo-text", revision=None, name="assay-demo-text")


# -- loading ------------------------------------------------------------------------------


def test_model_info_pins_the_local_folder(generator, demo_folder):
    info = generator.model_info()
    assert info["revision"] == folder_revision(demo_folder)
    assert info["name"] == "assay-demo-text" and info["licence"] == DEMO_LICENCE
    assert 100_000 < generator.approximate_size_bytes() < 50_000_000


def test_a_pinned_revision_that_does_not_match_is_refused(demo_folder):
    ref = ModelRef(str(demo_folder), revision="sha256:" + "0" * 64, name="assay-demo-text")
    with pytest.raises(ValueError, match="pinned"):
        TransformersTextGenerator().load(ref, "cpu")


def test_a_missing_folder_says_how_to_build_it(tmp_path):
    ref = TransformersTextGenerator.default_model(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="manage.py build_demo_models"):
        TransformersTextGenerator().load(ref, "cpu")


# -- generation ---------------------------------------------------------------------------


def test_same_seed_same_text_alone_in_a_repeat_and_inside_a_batch(generator):
    job = req("Meet the new", 42, max_new_tokens=40)
    alone = text_of(generator.generate([job], NullProgress())[0])
    again = text_of(generator.generate([job], NullProgress())[0])
    batch = generator.generate(
        [
            req("Introducing a kettle that heats water in seconds and keeps it warm", 7),
            job,
            req("Our", 8, temperature=1.3, top_k=0, max_new_tokens=12),
        ],
        NullProgress(),
    )
    assert alone.encode() == again.encode() == text_of(batch[1]).encode()
    assert alone.strip()


def test_different_seeds_give_different_text(generator):
    texts = {
        text_of(r)
        for r in generator.generate(
            [req("Meet the new", seed, max_new_tokens=32) for seed in range(4)], NullProgress()
        )
    }
    assert len(texts) == 4


def test_greedy_ignores_the_seed(generator):
    texts = {
        text_of(r)
        for r in generator.generate(
            [req("Meet the", seed, temperature=0, max_new_tokens=24) for seed in range(3)],
            NullProgress(),
        )
    }
    assert len(texts) == 1


def test_the_text_is_readable_marketing_copy(generator):
    results = generator.generate(
        [req(p, 3, max_new_tokens=64) for p in ("Introducing", "Meet the", "Our new lamp")],
        NullProgress(),
    )
    for result in results:
        text = text_of(result)
        assert len(text) > 20
        plain = sum(c.isascii() and (c.isalpha() or c in " .,'\"!?-") for c in text)
        assert plain / len(text) > 0.95, text
        words = [w.lower() for w in re.findall(r"[A-Za-z]+", text)]
        known = [w for w in words if len(w) >= 3 and w in CORPUS_WORDS]
        assert len(known) >= 5 and len(known) >= 0.6 * len([w for w in words if len(w) >= 3])
        assert result.usage["input_tokens"] >= 2 and 1 <= result.usage["output_tokens"] <= 64


def test_the_continuation_leaves_the_prompt_out(generator):
    text = text_of(generator.generate([req("Meet the Lumen Desk Lamp.", 1)], NullProgress())[0])
    assert not text.startswith("Meet the")


def test_rows_stop_on_their_own_length(generator):
    results = generator.generate(
        [req("Meet the", 1, max_new_tokens=3), req("Meet the", 2, max_new_tokens=30)],
        NullProgress(),
    )
    assert results[0].usage["output_tokens"] == 3
    assert results[0].outputs[0].metadata["finish_reason"] == "length"
    assert results[1].usage["output_tokens"] > 3


def test_rows_stop_at_the_end_of_sequence_token(generator):
    period = generator.tokenizer.convert_tokens_to_ids(".")
    eos = generator._eos_ids
    generator._eos_ids = eos | {period}  # make "." end the text, as an EOS token would
    try:
        results = generator.generate(
            [req("Meet the", 5, max_new_tokens=200), req("Our", 6, max_new_tokens=200)],
            NullProgress(),
        )
    finally:
        generator._eos_ids = eos
    for result in results:
        assert result.outputs[0].metadata["finish_reason"] == "eos"
        assert "." not in text_of(result) and result.usage["output_tokens"] < 200


def test_a_stop_string_cuts_the_text_before_it(generator):
    full = text_of(generator.generate([req("Meet the", 9, max_new_tokens=48)], NullProgress())[0])
    word = re.findall(r"[A-Za-z]{4,}", full)[2]
    stopped = generator.generate(
        [req("Meet the", 9, max_new_tokens=48, stop=f"zzqx|{word}")], NullProgress()
    )[0]
    assert text_of(stopped) == full[: full.index(word)]
    assert stopped.outputs[0].metadata["finish_reason"] == "stop"


def test_progress_is_monotonic_and_reaches_one(generator):
    progress = Recorder()
    generator.generate(
        [req("Meet the", 1, max_new_tokens=10), req("Our", 2, max_new_tokens=25)], progress
    )
    assert set(progress.updates) == {0, 1}
    for fractions in progress.updates.values():
        assert fractions == sorted(fractions) and fractions[-1] == 1.0
        assert all(0 < f <= 1 for f in fractions)


def test_cancelling_one_row_stops_only_that_row(generator):
    progress = Recorder(cancel_index=1, after=3)
    jobs = [
        req("Meet the", 1, max_new_tokens=20),
        req("Introducing", 2, max_new_tokens=20),
        req("Our", 3, max_new_tokens=20),
    ]
    results = generator.generate(jobs, progress)
    assert [r.cancelled for r in results] == [False, True, False]
    assert results[1].outputs == [] and results[1].usage["output_tokens"] == 3
    assert len(progress.updates[1]) == 3
    alone = generator.generate([jobs[0]], NullProgress())[0]
    assert text_of(results[0]) == text_of(alone)  # the neighbours did not notice


def test_a_batch_cancelled_up_front_returns_at_once(generator):
    class AllCancelled(Recorder):
        def is_cancelled(self, index: int) -> bool:
            return True

    progress = AllCancelled()
    results = generator.generate([req("Meet the", 1), req("Our", 2)], progress)
    assert [r.cancelled for r in results] == [True, True]
    assert all(r.usage["output_tokens"] == 0 for r in results) and progress.updates == {}


def test_system_prompt_without_a_chat_template_is_a_first_paragraph(generator):
    assert generator.render_prompt("Write a tagline.", "You sell lamps.") == (
        "You sell lamps.\n\nWrite a tagline.",
        False,
    )
    text = text_of(
        generator.generate(
            [req("Meet the", 4, system_prompt="Lamps and kettles.", max_new_tokens=8)],
            NullProgress(),
        )[0]
    )
    assert text


def test_a_chat_template_is_used_when_the_tokenizer_has_one(demo_folder):
    gen = TransformersTextGenerator()
    gen.load(ModelRef(str(demo_folder)), "cpu")
    gen.tokenizer.chat_template = (
        "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}<assistant>{% endif %}"
    )
    rendered, templated = gen.render_prompt("Write a tagline.", "You sell lamps.")
    assert templated
    assert rendered == "<system>You sell lamps.\n<user>Write a tagline.\n<assistant>"
    result = gen.generate([req("Write a tagline.", 1, max_new_tokens=5)], NullProgress())[0]
    assert result.usage["output_tokens"] == 5 or result.outputs[0].metadata["finish_reason"]


def test_parameter_bounds_are_refused_with_clear_messages():
    clean, errors = TransformersTextGenerator.validate_parameters(
        {"max_new_tokens": 1_000_000, "temperature": -1}
    )
    assert errors == {
        "max_new_tokens": "must be at most 1024 (got 1000000)",
        "temperature": "must be at least 0 (got -1)",
    }
    clean, errors = TransformersTextGenerator.validate_parameters({"stop": "x" * 201})
    assert "at most 200 characters" in errors["stop"]
    clean, errors = TransformersTextGenerator.validate_parameters({})
    assert errors == {}
    assert clean == {
        "max_new_tokens": 64,
        "temperature": 0.8,
        "num_variants": 1,
        "top_p": 0.9,
        "top_k": 50,
        "repetition_penalty": 1.1,
        "stop": "",
        "system_prompt": "",
    }


def test_finished_rows_leave_the_batch_without_changing_the_others(generator, monkeypatch):
    jobs = [
        req("Meet the", 1, max_new_tokens=2),
        req("Introducing", 2, max_new_tokens=30),
        req("Our", 3, max_new_tokens=9, temperature=0),
    ]
    pruned = [text_of(r) for r in generator.generate(jobs, NullProgress())]
    monkeypatch.setattr(TransformersTextGenerator, "prune_finished_rows", False)
    kept = [text_of(r) for r in generator.generate(jobs, NullProgress())]
    assert pruned == kept


def test_a_prompt_longer_than_the_context_keeps_its_end(generator):
    prompt = "Meet the Lumen Desk Lamp. " * 400  # about 2800 tokens; the demo context is 2048
    result = generator.generate([req(prompt, 1, max_new_tokens=8)], NullProgress())[0]
    assert result.usage["input_tokens"] == 2048 - 8
    assert result.outputs[0].metadata["prompt_tokens_dropped"] > 0


def test_loads_in_bfloat16_at_half_the_size(generator, demo_folder):
    gen = TransformersTextGenerator()
    gen.load(ModelRef(str(demo_folder)), "cpu", "bfloat16")
    assert gen.approximate_size_bytes() * 2 == generator.approximate_size_bytes()
    assert text_of(gen.generate([req("Meet the", 1, max_new_tokens=8)], NullProgress())[0])
    with pytest.raises(ValueError, match="unknown dtype"):
        gen.load(ModelRef(str(demo_folder)), "cpu", "float7")
