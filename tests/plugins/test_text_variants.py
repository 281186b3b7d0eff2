"""Text variants: one request, several outputs, each reproducible from its own seed.

Against the tiny demo model (built once into var/test-models), like test_text_transformers.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assay import GenerationRequest, NullProgress, Param, Progress
from plugins.image_diffusers.generator import DiffusersImageGenerator
from plugins.text_transformers.demo_model import build_demo_text_model
from plugins.text_transformers.generator import TransformersTextGenerator, variant_seed

os.environ.setdefault("HF_HUB_OFFLINE", "1")

MODELS_DIR = Path(__file__).resolve().parents[2] / "var" / "test-models"


@pytest.fixture(scope="module")
def generator() -> TransformersTextGenerator:
    build_demo_text_model(MODELS_DIR / "demo-text")
    gen = TransformersTextGenerator()
    gen.load(TransformersTextGenerator.default_model(str(MODELS_DIR)), "cpu", "float32")
    return gen


def req(prompt: str, seed: int, **parameters: object) -> GenerationRequest:
    return GenerationRequest(job_id=f"job-{seed}", prompt=prompt, parameters=parameters, seed=seed)


def texts(result) -> list[str]:
    assert not result.cancelled
    return [o.text for o in result.outputs]


class Recorder(Progress):
    def __init__(self, cancel_index: int | None = None, after: int = 0) -> None:
        self.updates: dict[int, list[float]] = {}
        self.cancel_index, self.after = cancel_index, after

    def update(self, index: int, fraction: float) -> None:
        self.updates.setdefault(index, []).append(fraction)

    def is_cancelled(self, index: int) -> bool:
        return index == self.cancel_index and len(self.updates.get(index, [])) >= self.after


def test_each_variant_is_the_text_of_a_one_variant_job_with_the_next_seed(generator):
    # given a request for three variants, and three one-variant requests with seed, seed+1, seed+2
    three = generator.generate([req("Meet the", 40, num_variants=3, max_new_tokens=24)],
                               NullProgress())[0]
    singles = generator.generate([req("Meet the", s, max_new_tokens=24) for s in (40, 41, 42)],
                                 NullProgress())
    # then the variants are exactly those texts, in order, and they differ
    assert texts(three) == [texts(r)[0] for r in singles]
    assert len(set(texts(three))) == 3
    assert [o.metadata["variant"] for o in three.outputs] == [0, 1, 2]
    assert [o.metadata["seed"] for o in three.outputs] == [40, 41, 42]
    assert three.usage["output_tokens"] == sum(r.usage["output_tokens"] for r in singles)
    assert three.usage["input_tokens"] == sum(r.usage["input_tokens"] for r in singles)


def test_variants_batch_with_other_requests_without_changing_a_byte(generator):
    job = req("Introducing", 7, num_variants=2, max_new_tokens=20)
    alone = texts(generator.generate([job], NullProgress())[0])
    batch = generator.generate(
        [req("Our", 1, max_new_tokens=5), job, req("Meet the", 3, num_variants=4,
                                                   max_new_tokens=12, temperature=1.2)],
        NullProgress())
    assert texts(batch[1]) == alone
    assert [len(r.outputs) for r in batch] == [1, 2, 4]
    assert "variant" not in batch[0].outputs[0].metadata  # one output: metadata as before


def test_progress_is_per_request_and_cancelling_stops_all_its_variants(generator):
    progress = Recorder(cancel_index=0, after=4)
    results = generator.generate(
        [req("Meet the", 1, num_variants=3, max_new_tokens=30),
         req("Our", 2, num_variants=2, max_new_tokens=10)], progress)
    assert results[0].cancelled and results[0].outputs == []
    assert len(progress.updates[0]) == 4  # one update per step for the three variants
    assert results[0].usage["output_tokens"] <= 3 * 4  # all stopped at that step (or at EOS)
    assert len(results[1].outputs) == 2 and not results[1].cancelled
    assert set(progress.updates) == {0, 1}
    done = progress.updates[1]
    assert done == sorted(done) and done[-1] == 1.0 and len(done) <= 10


def test_variant_seeds_wrap_inside_the_seed_range():
    assert variant_seed(2**32 - 1, 1) == 0 and variant_seed(5, 2) == 7


@pytest.mark.parametrize("value,error", [(0, "at least 1"), (5, "at most 4"), ("two", "whole")])
def test_the_number_of_variants_is_bounded(value, error):
    _, errors = TransformersTextGenerator.validate_parameters({"num_variants": value})
    assert error in errors["num_variants"]


def _by_name(params: list[Param]) -> dict[str, Param]:
    return {p.name: p for p in params}


def test_every_parameter_has_words_for_people_and_the_plain_ones_come_first():
    text = _by_name(TransformersTextGenerator.parameters)
    assert {n for n, p in text.items() if p.plain} == {"max_new_tokens", "temperature",
                                                      "num_variants"}
    assert (text["max_new_tokens"].label, text["temperature"].label,
            text["num_variants"].label) == ("Length", "Creativity", "Number of variants")
    image = _by_name(DiffusersImageGenerator.parameters)
    assert {n for n, p in image.items() if p.plain} == {"num_images"}
    assert image["num_images"].label == "Number of variants"
    for param in [*text.values(), *image.values()]:
        assert param.label and param.label != param.name, param.name
        assert "_" not in param.label and "_" not in param.help, param.name
        assert param.help.endswith(".") and len(param.help) > 20, param.name
        assert param.describe()["label"] == param.label


def test_a_chat_prompt_is_not_penalised_as_repetition_but_a_continued_one_is(generator):
    # A chat model asked to name a product must not be pushed away from the name.
    from_prompt = generator._prepare(0, req("Meet the Lumen lamp", 1))[0]
    assert from_prompt.seen == set(from_prompt.prompt_ids)  # base model: the prompt is copy
    chat = TransformersTextGenerator()
    chat.load(TransformersTextGenerator.default_model(str(MODELS_DIR)), "cpu")
    chat.tokenizer.chat_template = (
        "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}<assistant>{% endif %}")
    rows = chat._prepare(0, req("Meet the Lumen lamp", 1, num_variants=2))
    assert [r.seen for r in rows] == [set(), set()] and rows[0].prompt_ids
