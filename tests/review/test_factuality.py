"""The factuality plugin: sentence splitting, claim extraction, verdicts and the review check.

Plain pytest, no database. The verdict tests use the real MiniLM sentence-embedding model
(loaded once for the module); a few use a stand-in embedder to show the engine takes any
embedder and does not touch the model when there is nothing to compare.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from assay import CHECK_STATUSES, SEVERITIES, CheckContext, CheckSubject, Fact
from plugins.factuality import plugin
from plugins.factuality.check import NO_CLAIMS, FactualityCheck
from plugins.factuality.comparisons import find_comparatives
from plugins.factuality.embeddings import CachedEmbedder, ModelUnavailable, default_embedder
from plugins.factuality.extraction import extract_claims
from plugins.factuality.quantities import find_quantities
from plugins.factuality.sentences import split_sentences
from plugins.factuality.verdicts import assess

os.environ.setdefault("HF_HUB_OFFLINE", "1")

EVAL_PATH = Path(__file__).with_name("factuality_eval.json")
TODAY = date(2025, 6, 1)
ATTENTION = ("contradicted", "unsupported")

SPEED = Fact("speed", "Nimbus Sync uploads large files 30% faster than version 2 of the app.",
             "Benchmark report BR-2024-07")
PRICE = Fact("price", "The Nimbus Sync Team plan costs $12 per user per month.",
             "Price list 2025", valid_from=date(2025, 1, 1))
AWARD = Fact("award", "Nimbus Vault was the fastest backup service in the CloudBench 2023 test.",
             "CloudBench 2023 results", valid_until=date(2024, 6, 30))
FACTS = [SPEED, PRICE, AWARD]


def load_eval() -> tuple[date, list[Fact], list[dict]]:
    data = json.loads(EVAL_PATH.read_text())
    facts = [Fact(f["id"], f["statement"], f.get("source", ""),
                  date.fromisoformat(f["valid_from"]) if f.get("valid_from") else None,
                  date.fromisoformat(f["valid_until"]) if f.get("valid_until") else None)
             for f in data["facts"]]
    return date.fromisoformat(data["today"]), facts, data["claims"]


@pytest.fixture(scope="module")
def embedder():
    """The real sentence-embedding model, loaded once for this module."""
    return default_embedder()


def hashed_bag_of_words(texts: list[str]) -> np.ndarray:
    """A stand-in embedder: stable hashed word counts (no model, no randomness)."""
    out = np.zeros((len(texts), 256), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in re.findall(r"[a-z]+", text.lower()):
            out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % 256] += 1
    return out


def subject(text: str) -> CheckSubject:
    return CheckSubject(asset_id="a1", kind="text", media_type="text/plain", sha256="0" * 64,
                        text=text)


def context(facts: list[Fact] = FACTS) -> CheckContext:
    return CheckContext(project="demo", today=TODAY, facts=facts)


# -- sentences ------------------------------------------------------------------------------

def test_split_keeps_abbreviations_decimals_and_prices_inside_sentences():
    text = ("Acme Inc. is a customer, e.g. for backups. It costs $1,299.99 per year and runs "
            "2.5x faster! Really? Dr. Smith agrees.\n- Up to 40 % faster uploads\n"
            "1. Sign up. 2. Share files.")
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == [
        "Acme Inc. is a customer, e.g. for backups.",
        "It costs $1,299.99 per year and runs 2.5x faster!",
        "Really?",
        "Dr. Smith agrees.",
        "Up to 40 % faster uploads",
        "Sign up.",
        "Share files.",
    ]
    for s in sentences:
        assert text[s.start:s.end] == s.text


def test_split_ends_a_sentence_after_company_abbreviation_when_a_new_one_starts():
    sentences = split_sentences("We are Nimbus Labs Inc. The team is small.")
    assert [s.text for s in sentences] == ["We are Nimbus Labs Inc.", "The team is small."]


# -- claims and quantities ------------------------------------------------------------------

def test_claim_spans_point_at_their_sentences_in_the_original_text():
    text = ("Welcome to our blog!\n\nNimbus Sync uploads files 40 % faster than version 2. "
            "It costs just $1,299.99 per year.  We love our customers.")
    claims = extract_claims(text)
    assert [text[c.start:c.end] for c in claims] == [
        "Nimbus Sync uploads files 40 % faster than version 2.",
        "It costs just $1,299.99 per year."]
    percent = claims[0].quantities[0]
    assert (percent.kind, percent.value, text[percent.start:percent.end]) == (
        "percentage", 40.0, "40 %")
    assert claims[0].kinds == ("percentage", "version", "comparative", "product")
    price = claims[1].quantities[0]
    assert price.kind == "price" and text[price.start:price.end] == "$1,299.99"
    assert price.unit == "USD/month" and price.value == pytest.approx(1299.99 / 12)


@pytest.mark.parametrize(("phrase", "kind", "value", "unit", "bound"), [
    ("40% faster", "percentage", 40.0, "%", "exact"),
    ("30 percent quicker", "percentage", 30.0, "%", "exact"),
    ("2x faster", "multiplier", 2.0, "x", "exact"),
    ("twice as fast", "multiplier", 2.0, "x", "exact"),
    ("€15 per user per month", "price", 15.0, "EUR/month", "exact"),
    ("$144 a year", "price", 12.0, "USD/month", "exact"),
    ("1 TB", "storage", 1000.0, "GB", "exact"),
    ("1,000 GB", "storage", 1000.0, "GB", "exact"),
    ("in under 4 minutes", "duration", 240.0, "s", "max_strict"),
    ("a 14-day trial", "duration", 14 * 86400.0, "s", "exact"),
    ("every five minutes", "duration", 300.0, "s", "exact"),
    ("more than 12,000 customers", "number", 12000.0, "", "min_strict"),
    ("10k+ users", "number", 10000.0, "", "min"),
    ("no more than 2 GB", "storage", 2.0, "GB", "max"),
    ("AES-256", "standard", 256.0, "AES", "exact"),
    ("24/7 support", "availability", 168.0, "hours/week", "exact"),
])
def test_quantities_are_parsed_and_normalised(phrase, kind, value, unit, bound):
    (q,) = find_quantities(phrase)
    assert (q.kind, q.unit, q.bound) == (kind, unit, bound)
    assert q.value == pytest.approx(value)


def test_dates_keep_their_precision():
    dates = [q.value for q in find_quantities(
        "Launched in March 2025, founded in 2014, shipped 1 March 2024 and in Q3 2025.")]
    assert dates == [(2025, 3, None, None), (2014, None, None, None), (2024, 3, 1, None),
                     (2025, None, None, 3)]


def test_a_bound_is_not_a_comparison_but_faster_than_is():
    assert find_comparatives("Over 12,000 teams and more than 150 data sources.") == []
    (comparison,) = find_comparatives("Nimbus Sync uploads files faster than Dropbox.")
    assert comparison.group == "fast" and comparison.target_text == "Dropbox"


def test_sentences_without_checkable_content_make_no_claims():
    text = ("Sign up today and see the difference. Everything your team needs, all in one "
            "place. Meet Nimbus Sync. Questions? Learn more on our blog.")
    assert extract_claims(text, ["Nimbus Sync"]) == []


def test_digits_in_addresses_phone_numbers_and_times_are_not_figures():
    text = ("Email hello@nimbus.example or call +1 (555) 010-2030 before 4pm. "
            "See https://nimbus.example/pulse-2025 for details.")
    assert extract_claims(text) == []


def test_a_product_mention_is_a_claim_only_when_the_product_says_something():
    text = ("That's why we built Nimbus Sync. Why small teams switch to Nimbus Sync\n"
            "Nimbus Sync works offline. Our customers love how simple Nimbus Sync is.")
    assert [c.sentence for c in extract_claims(text, ["Nimbus Sync"])] == [
        "Nimbus Sync works offline.", "Our customers love how simple Nimbus Sync is."]


def test_a_capitalised_superlative_in_a_title_is_not_a_ranking():
    (claim,) = extract_claims("It won the Best of Beauty award in 2024 and is the best serum.")
    assert [s.text for s in claim.superlatives] == ["best"]
    (heading,) = extract_claims("The Fastest Way to Share Files")
    assert [s.text for s in heading.superlatives] == ["Fastest"]


def test_superlatives_and_named_products_are_claims():
    (claim,) = extract_claims("Nimbus Sync is the #1 choice for creative agencies.")
    assert claim.kinds == ("superlative", "product") and claim.quantities == []
    (claim,) = extract_claims("Nimbus Vault encrypts every file at rest.")
    assert claim.kinds == ("product",) and claim.names == ["Nimbus Vault"]


# -- verdicts with the real model -----------------------------------------------------------

def test_a_different_percentage_contradicts_the_approved_fact(embedder):
    (v,) = assess("Nimbus Sync uploads files 40 % faster than version 2.", FACTS,
                  today=TODAY, embedder=embedder)
    assert v.verdict == "contradicted"
    assert v.reason == "says 40 % faster; the approved fact says 30% faster"
    assert (v.fact_id, v.source, v.fact_is_basis) == ("speed", SPEED.source, True)


def test_a_paraphrase_is_supported_with_its_fact_and_source(embedder):
    (v,) = assess("With Nimbus Sync, big uploads finish 30 percent quicker than in version 2.",
                  FACTS, today=TODAY, embedder=embedder)
    assert v.verdict == "supported"
    assert (v.fact_id, v.fact, v.source) == ("speed", SPEED.statement, SPEED.source)
    assert v.similarity > 0.7


def test_a_superlative_no_fact_makes_is_unsupported(embedder):
    (v,) = assess("Nimbus Sync is the fastest file-sharing tool on the market.", FACTS,
                  today=TODAY, embedder=embedder)
    assert v.verdict == "unsupported"
    assert "fastest" in v.reason and "superlative" in v.reason


def test_a_claim_backed_only_by_an_expired_fact_is_unsupported(embedder):
    text = "Nimbus Vault is the fastest backup service, according to CloudBench."
    (v,) = assess(text, FACTS, today=TODAY, embedder=embedder)
    assert v.verdict == "unsupported"
    assert v.reason == "the matching fact expired on 2024-06-30"
    assert v.fact_id == "award" and v.fact_is_basis
    (before,) = assess(text, FACTS, today=date(2024, 6, 30), embedder=embedder)
    assert before.verdict == "supported"


def test_a_price_that_is_not_valid_yet_does_not_count(embedder):
    (v,) = assess("The Nimbus Sync Team plan costs $12 per user per month.", FACTS,
                  today=date(2024, 12, 31), embedder=embedder)
    assert v.verdict == "unsupported"
    assert v.reason == "the matching fact applies only from 2025-01-01"


def test_the_right_figure_about_another_product_is_unsupported(embedder):
    (v,) = assess("Nimbus Vault uploads large files 30% faster than version 2.", FACTS,
                  today=TODAY, embedder=embedder)
    assert v.verdict == "unsupported"
    assert "the approved figure is about Nimbus Sync" in v.reason


def test_each_clause_of_a_compound_sentence_finds_its_own_fact(embedder):
    facts = [Fact("base", "Nimbus Labs serves more than 12,000 customers in 40 countries."),
             Fact("award", "G2 rated Nimbus Sync the easiest file-sharing tool for small teams."),
             Fact("survey", "Teams using Nimbus Sync save 5 hours a week, according to a survey "
                            "of 800 customers.")]
    text = ("Over 12,000 customers in 40 countries trust Nimbus Labs, and G2 called "
            "Nimbus Sync the easiest file-sharing tool for small teams.")
    # Each independent clause is its own claim with its own span (clause by clause).
    first, second = assess(text, facts, today=TODAY, embedder=embedder)
    assert (first.verdict, second.verdict) == ("supported", "supported"), (first, second)
    assert "12,000 customers" in first.reason and "G2 rated" in second.reason
    assert text[slice(*first.span)].endswith("trust Nimbus Labs")
    assert text[slice(*second.span)].startswith("G2 called")


# -- the check ------------------------------------------------------------------------------

def test_check_fails_on_a_contradiction_with_one_evidence_item_per_claim(embedder):
    text = ("Meet Nimbus Sync. It uploads files 40% faster than version 2. The Team plan of "
            "Nimbus Sync costs $12 per user per month. It is the best tool on the market.")
    outcome = FactualityCheck(embedder).run(subject(text), context())
    assert (outcome.status, outcome.severity) == ("fail", "high")
    assert outcome.status in CHECK_STATUSES and outcome.severity in SEVERITIES
    assert outcome.summary == "2 of 3 claims need attention (1 contradicted, 1 unsupported)."
    assert outcome.score == pytest.approx(1 / 3, abs=1e-3)
    assert [e.data["verdict"] for e in outcome.evidence] == [
        "contradicted", "supported", "unsupported"]
    for evidence in outcome.evidence:
        start, end = evidence.span
        assert text[start:end] == evidence.data["claim"]
        assert set(evidence.data) >= {"claim", "verdict", "fact_id", "fact", "source",
                                      "similarity"}
    contradicted, supported, unsupported = outcome.evidence
    assert contradicted.message.startswith("Contradicted: says 40% faster; the approved fact")
    assert contradicted.data["source"] == SPEED.source
    assert supported.data["fact_id"] == "price" and "Price list 2025" in supported.message
    assert unsupported.data["fact_id"] is None  # only a nearest fact, not a basis
    assert outcome.metadata == {"claims": 3, "supported": 1, "contradicted": 1,
                                "unsupported": 1}


def test_check_warns_on_unsupported_claims_only(embedder):
    outcome = FactualityCheck(embedder).run(
        subject("Nimbus Sync is the #1 choice for creative agencies."), context())
    assert (outcome.status, outcome.severity, outcome.score) == ("warn", "medium", 0.0)
    assert outcome.summary == "1 of 1 claim needs attention (0 contradicted, 1 unsupported)."


def test_check_passes_when_every_claim_is_supported(embedder):
    outcome = FactualityCheck(embedder).run(
        subject("Nimbus Sync moves large files 30% faster than version 2 of the app did."),
        context())
    assert (outcome.status, outcome.severity, outcome.score) == ("pass", "info", 1.0)
    assert len(outcome.evidence) == 1 and outcome.evidence[0].data["verdict"] == "supported"


def test_text_without_claims_passes_without_calling_the_embedder():
    def refuse(texts: list[str]) -> np.ndarray:
        raise AssertionError("the embedder must not be called")

    outcome = FactualityCheck(refuse).run(
        subject("Say goodbye to endless email attachments. Your files, your way."), context())
    assert (outcome.status, outcome.severity, outcome.score) == ("pass", "info", 1.0)
    assert outcome.summary == NO_CLAIMS and outcome.evidence == []


def test_claims_without_any_facts_are_unsupported_without_the_model():
    def refuse(texts: list[str]) -> np.ndarray:
        raise AssertionError("the embedder must not be called")

    verdicts = assess("Nimbus Sync is 40% faster.", [], today=TODAY, embedder=refuse)
    assert [v.verdict for v in verdicts] == ["unsupported"]


def test_a_project_without_a_fact_library_is_told_claims_were_not_checked():
    def refuse(texts: list[str]) -> np.ndarray:
        raise AssertionError("the embedder must not be called")

    outcome = FactualityCheck(refuse).run(subject("Nimbus Sync is 40% faster."), context([]))
    assert outcome.status == "pass" and outcome.severity == "info"
    assert "no approved facts yet" in outcome.summary


def test_any_embedder_can_be_injected():
    (v,) = assess("Nimbus Sync uploads large files 45% faster than version 2 of the app.",
                  FACTS, today=TODAY, embedder=hashed_bag_of_words)
    assert v.verdict == "contradicted" and v.fact_id == "speed"


def test_a_missing_model_gives_a_warning_not_an_exception(monkeypatch):
    def unavailable():
        raise ModelUnavailable("cannot load the sentence-embedding model: missing")

    # assess() looks the model up where it is used, in the verdicts module.
    monkeypatch.setattr("plugins.factuality.verdicts.default_embedder", unavailable)
    outcome = FactualityCheck().run(subject("Nimbus Sync is 40% faster."), context())
    assert outcome.status == "warn" and "not checked" in outcome.summary


def test_cached_embedder_encodes_each_text_once_in_one_batch():
    calls: list[list[str]] = []

    def counting(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        return hashed_bag_of_words(texts)

    cached = CachedEmbedder(counting)
    first = cached(["a fact", "a claim", "a fact"])
    second = cached(["a fact", "another claim"])
    assert calls == [["a fact", "a claim"], ["another claim"]]
    assert np.allclose(first[0], second[0]) and np.allclose(first[0], first[2])


def test_plugin_registers_the_check_without_importing_torch():
    assert plugin.ASSAY_API == ">=1,<2"
    assert plugin.register_checks() == [FactualityCheck]
    assert FactualityCheck.id == "factuality" and FactualityCheck.modalities == ("text",)
    code = "import sys, plugins.factuality.plugin; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "False"


# -- the labelled evaluation set ------------------------------------------------------------

def test_eval_set_precision_and_recall_of_needs_attention(embedder):
    today, facts, items = load_eval()
    assert len([i for i in items if i["expected"] != "none"]) >= 60
    true_pos = false_pos = false_neg = correct = 0
    started = time.perf_counter()
    for item in items:
        verdicts = assess(item["text"], facts, today=today, embedder=embedder)
        assert len(verdicts) <= 1, item["id"]
        got = verdicts[0].verdict if verdicts else "none"
        correct += got == item["expected"]
        flagged, expected = got in ATTENTION, item["expected"] in ATTENTION
        true_pos += flagged and expected
        false_pos += flagged and not expected
        false_neg += expected and not flagged
    per_claim = (time.perf_counter() - started) / len(items)
    precision = true_pos / (true_pos + false_pos)
    recall = true_pos / (true_pos + false_neg)
    assert precision >= 0.8 and recall >= 0.9, (precision, recall)
    assert correct / len(items) >= 0.9
    assert per_claim < 0.5
