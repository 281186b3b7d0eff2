"""Clause-by-clause factuality: a compound sentence is judged one independent clause at a time.

Plain pytest, no database, the real MiniLM model. The held-out cases live in
``factuality_clauses.json`` (written after the splitter and never used to tune it); the
labelled set ``factuality_eval.json`` keeps its own test and bench.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest

from assay import CheckContext, CheckSubject, Fact
from plugins.factuality.check import FactualityCheck
from plugins.factuality.embeddings import default_embedder
from plugins.factuality.extraction import extract_claims
from plugins.factuality.sentences import Sentence, independent_clauses
from plugins.factuality.verdicts import assess

os.environ.setdefault("HF_HUB_OFFLINE", "1")

CASES = Path(__file__).with_name("factuality_clauses.json")
TODAY = date(2025, 6, 1)
BATTERY = Fact("battery", "The battery lasts 24 hours.", "Spec sheet")
PRICE = Fact("price", "The Kite speaker costs $12.", "Price list")


@pytest.fixture(scope="module")
def embedder():
    """The real sentence-embedding model, loaded once for this module."""
    return default_embedder()


def clauses_of(text: str) -> list[str]:
    return [c.text for c in independent_clauses(Sentence(text, 0, len(text)))]


# -- splitting (no model) -------------------------------------------------------------------

def test_a_coordinator_followed_by_a_subject_and_verb_splits_the_sentence():
    assert clauses_of("The battery lasts 24 hours and it costs $10.") == [
        "The battery lasts 24 hours", "it costs $10."]
    assert clauses_of("The Kite costs $12, but the battery lasts 30 hours.") == [
        "The Kite costs $12", "the battery lasts 30 hours."]


@pytest.mark.parametrize("text", [
    "Nimbus Vault keeps 90 days of version history and syncs across 5 devices.",  # one subject
    "Nimbus Pulse integrates with Slack, Teams and 75 other apps.",  # a list
    "Dashboards in Nimbus Pulse update every 5 minutes, so your numbers stay fresh.",
    "Nimbus Vault encrypts data with AES-256 and is ISO 27001 certified.",
    "Fast and simple.",
])
def test_lists_and_shared_subjects_stay_one_clause(text):
    assert clauses_of(text) == []


def test_each_clause_claim_keeps_its_own_span_in_the_original_text():
    text = "Intro line.\nThe battery lasts 24 hours and it costs $10. Buy now."
    first, second = extract_claims(text)
    assert text[slice(*first.span)] == "The battery lasts 24 hours" == first.sentence
    assert text[slice(*second.span)] == "it costs $10." == second.sentence
    # The pronoun clause is compared with its whole sentence too (its subject is there).
    assert second.context == "The battery lasts 24 hours and it costs $10." and not first.context


def test_a_clause_without_anything_checkable_leaves_the_sentence_whole():
    text = "The battery lasts 24 hours, and we think you will love it."
    (claim,) = extract_claims(text)
    assert claim.sentence == text


# -- verdicts (real model) ------------------------------------------------------------------

def test_one_clause_supported_and_the_other_contradicted(embedder):
    text = "The battery lasts 24 hours and it costs $10."
    supported, contradicted = assess(text, [BATTERY, PRICE], today=TODAY, embedder=embedder)
    assert (supported.verdict, supported.fact_id) == ("supported", "battery")
    assert (contradicted.verdict, contradicted.fact_id) == ("contradicted", "price")
    assert text[slice(*supported.span)] == "The battery lasts 24 hours"
    assert text[slice(*contradicted.span)] == "it costs $10."
    assert contradicted.reason == "says $10; the approved fact says $12"


def test_the_check_gives_each_clause_its_own_evidence_and_status(embedder):
    text = "The battery lasts 24 hours and it costs $10."
    subject = CheckSubject(asset_id="a1", kind="text", media_type="text/plain",
                           sha256="0" * 64, text=text)
    outcome = FactualityCheck(embedder).run(
        subject, CheckContext(project="demo", today=TODAY, facts=[BATTERY, PRICE]))
    assert outcome.status == "fail"  # the check fails: one claim is contradicted …
    assert [(e.data["verdict"], e.data["status"]) for e in outcome.evidence] == [
        ("supported", "pass"), ("contradicted", "fail")]  # … but the supported one passes
    assert [tuple(e.span) for e in outcome.evidence] == [(0, 26), (31, 44)]


def test_held_out_compound_sentences(embedder):
    data = json.loads(CASES.read_text())
    facts = [Fact(f["id"], f["statement"], f.get("source", "")) for f in data["facts"]]
    today = date.fromisoformat(data["today"])
    right = total = 0
    for case in data["cases"]:
        verdicts = assess(case["text"], facts, today=today, embedder=embedder)
        # How the sentence is cut is deterministic: exactly the expected claims, in order.
        assert len(verdicts) == len(case["claims"]), (case["id"], verdicts)
        for verdict, (starts, expected) in zip(verdicts, case["claims"], strict=True):
            quoted = case["text"][slice(*verdict.span)]
            assert quoted.startswith(starts) and quoted == verdict.sentence, case["id"]
            right += verdict.verdict == expected
            total += 1
    assert total >= 20
    assert right / total >= 0.9, (right, total)
