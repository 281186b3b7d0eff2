"""SmolLM2-135M-Instruct, the default text model: conversion, folder size, load, tokens/s.

    .venv/bin/python bench/instruct.py [--force] [--threads 1] [--tokens 64] [--device cpu]

Converts the packaged GGUF into var/bench/models/instruct-text (once; ``--force`` converts
again to time it), loads the folder with the real generator and writes ``--tokens`` new
tokens for a product-copy prompt, one variant and then three batched. Needs no database.
Every figure is measured in this run; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "platform"))
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

PROMPT = "Write two sentences of product copy introducing the Lumo Kettle to busy teams."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="convert again, to time it")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (1 is steadiest on shared cores)")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    import torch

    from assay import GenerationRequest, ModelRef, NullProgress, read_stamp
    from plugins.text_transformers.generator import INSTRUCT_NAME, TransformersTextGenerator
    from plugins.text_transformers.instruct_model import build_instruct_model

    torch.set_num_threads(args.threads)
    folder = REPO / "var" / "bench" / "models" / "instruct-text"
    fresh = args.force or read_stamp(folder) is None
    started = time.perf_counter()
    build_instruct_model(folder, force=args.force)
    converted = time.perf_counter() - started
    size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    print(f"conversion: {converted:.1f} s ({'converted' if fresh else 'up to date'}); "
          f"folder {size / 2**20:.0f} MiB")

    generator = TransformersTextGenerator()
    started = time.perf_counter()
    generator.load(ModelRef(str(folder), name=INSTRUCT_NAME), args.device)
    print(f"load from the folder (hash check included): {time.perf_counter() - started:.1f} s"
          f" on {args.device}, {torch.get_num_threads()} thread(s)")

    for variants in (1, 3):
        request = GenerationRequest("bench", PROMPT, {"max_new_tokens": args.tokens,
                                                      "num_variants": variants}, seed=11)
        started = time.perf_counter()
        result = generator.generate([request], NullProgress())[0]
        took = time.perf_counter() - started
        tokens = result.usage["output_tokens"]
        print(f"{variants} variant(s): {tokens} tokens in {took:.1f} s "
              f"({tokens / took:.1f} tokens/s); first: {result.outputs[0].text[:70]!r}")


if __name__ == "__main__":
    main()
