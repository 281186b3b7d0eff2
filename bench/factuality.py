"""Claim-by-claim factuality on the labelled evaluation set, with the real embedding model.

    .venv/bin/python bench/factuality.py [--eval tests/review/factuality_eval.json] [-v]

Runs every labelled sentence through ``plugins.factuality.verdicts.assess`` against the
set's fact library on the set's review day, then prints the confusion table, precision and
recall of "needs attention" (contradicted + unsupported) beside their targets, accuracy per
expected verdict, and the time per claim. No Django, no database: only the ``assay`` facade
and the plugin. Every figure is measured in this run; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "platform"))
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

from assay import Fact  # noqa: E402
from plugins.factuality.embeddings import CachedEmbedder, default_embedder  # noqa: E402
from plugins.factuality.verdicts import assess  # noqa: E402

LABELS = ("supported", "contradicted", "unsupported", "none")
ATTENTION = ("contradicted", "unsupported")
TARGET_PRECISION, TARGET_RECALL = 0.8, 0.9


def load(path: Path) -> tuple[date, list[Fact], list[dict]]:
    """The review day, the fact library and the labelled sentences."""
    data = json.loads(path.read_text())
    facts = [Fact(f["id"], f["statement"], f.get("source", ""),
                  date.fromisoformat(f["valid_from"]) if f.get("valid_from") else None,
                  date.fromisoformat(f["valid_until"]) if f.get("valid_until") else None)
             for f in data["facts"]]
    return date.fromisoformat(data["today"]), facts, data["claims"]


def worst(verdicts: list) -> str:
    """One label per sentence: its worst verdict, or "none" when it holds no claim."""
    found = {v.verdict for v in verdicts}
    for label in ("contradicted", "unsupported", "supported"):
        if label in found:
            return label
    return "none"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval", type=Path, default=REPO / "tests/review/factuality_eval.json")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every sentence")
    args = parser.parse_args()

    today, facts, items = load(args.eval)
    started = time.perf_counter()
    embedder = default_embedder()
    load_s = time.perf_counter() - started
    raw = embedder.embed if isinstance(embedder, CachedEmbedder) else embedder

    # Uncached: every call encodes its sentence and all fact statements (a cold process).
    started = time.perf_counter()
    for item in items:
        assess(item["text"], facts, today=today, embedder=raw)
    cold_s = (time.perf_counter() - started) / len(items)

    # Cached: the facts' vectors are remembered across calls, as in a worker process.
    predicted: list[str] = []
    started = time.perf_counter()
    results = []
    for item in items:
        verdicts = assess(item["text"], facts, today=today, embedder=embedder)
        results.append(verdicts)
        predicted.append(worst(verdicts))
    warm_s = (time.perf_counter() - started) / len(items)

    # One document holding every sentence: the shape of a real page of copy.
    document = "\n".join(item["text"] for item in items)
    started = time.perf_counter()
    doc_verdicts = assess(document, facts, today=today, embedder=raw)
    doc_s = time.perf_counter() - started

    expected = [item["expected"] for item in items]
    table = Counter(zip(expected, predicted, strict=True))
    tp = sum(n for (e, p), n in table.items() if e in ATTENTION and p in ATTENTION)
    fp = sum(n for (e, p), n in table.items() if e not in ATTENTION and p in ATTENTION)
    fn = sum(n for (e, p), n in table.items() if e in ATTENTION and p not in ATTENTION)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0

    counts = Counter(expected)
    claims = sum(1 for e in expected if e != "none")
    shown = args.eval.relative_to(REPO) if args.eval.is_relative_to(REPO) else args.eval
    print(f"Evaluation set: {shown}")
    print(f"  {len(facts)} facts ({sum(not f.valid_on(today) for f in facts)} not valid on "
          f"{today}), {len(items)} sentences: {claims} claims "
          + ", ".join(f"{counts[k]} {k}" for k in LABELS[:3]) + f", {counts['none']} non-claims")
    print(f"  model load: {load_s:.1f} s (once per process)\n")

    width = max(len(label) for label in LABELS) + 2
    print("Confusion table (rows: expected, columns: predicted)")
    print(" " * width + "".join(f"{label:>{width}}" for label in LABELS) + f"{'accuracy':>{width}}")
    for e in LABELS:
        row = [table[(e, p)] for p in LABELS]
        accuracy = table[(e, e)] / counts[e] if counts[e] else 0.0
        print(f"{e:<{width}}" + "".join(f"{n:>{width}}" for n in row)
              + f"{accuracy:>{width}.2f}")
    overall = sum(table[(label, label)] for label in LABELS) / len(items)
    print(f"{'overall':<{width}}{'':>{width * len(LABELS)}}{overall:>{width}.2f}\n")

    print('"Needs attention" (contradicted + unsupported)')
    print(f"  {'':<10}{'measured':>10}{'target':>10}")
    print(f"  {'precision':<10}{precision:>10.3f}{'>= ' + str(TARGET_PRECISION):>10}  "
          f"{'met' if precision >= TARGET_PRECISION else 'MISSED'}")
    print(f"  {'recall':<10}{recall:>10.3f}{'>= ' + str(TARGET_RECALL):>10}  "
          f"{'met' if recall >= TARGET_RECALL else 'MISSED'}")
    print(f"  ({tp} true positives, {fp} false positives, {fn} false negatives)\n")

    print("Time per claim (CPU, this machine)")
    print(f"  one sentence per call, facts re-encoded each call: {cold_s * 1000:7.1f} ms")
    print(f"  one sentence per call, fact vectors cached:        {warm_s * 1000:7.1f} ms")
    print(f"  one document of {len(doc_verdicts)} claims in one call:        "
          f"{doc_s * 1000 / max(1, len(doc_verdicts)):7.1f} ms  ({doc_s:.2f} s in all)\n")

    misses = [(item, p, v) for item, p, v in zip(items, predicted, results, strict=True)
              if p != item["expected"] or args.verbose]
    if misses:
        print("Every sentence:" if args.verbose else "Disagreements with the labels:")
    for item, p, verdicts in misses:
        mark = "  " if p == item["expected"] else "✗ "
        reason = verdicts[0].reason if verdicts else ""
        print(f"{mark}{item['id']:<5} expected {item['expected']:<12} got {p:<12} {item['text']}")
        if reason:
            print(f"{'':<8}{reason}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
