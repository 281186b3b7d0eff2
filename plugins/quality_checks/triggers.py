"""What makes a disclaimer required: prices, percentages, health and financial claims,
keywords, and owner-written patterns (run on RE2, see :func:`assay.compile_owner_pattern`).

The heuristics lean towards the wording of marketing copy: "treat yourself" is not a health
claim and "free returns" is not a financial one, while "treats acne" and "guaranteed
returns" are.
"""

from __future__ import annotations

import re

from assay import compile_owner_pattern
from plugins.quality_checks.terms import TermMatcher
from plugins.quality_checks.wording import quote

CURRENCY_SYMBOLS = "$€£¥₹₩₽₺₪"
CURRENCY_CODES = ("USD|EUR|GBP|CHF|JPY|CAD|AUD|NZD|SEK|NOK|DKK|PLN|CZK|HUF|INR|CNY|HKD|SGD"
                  "|ZAR|BRL|MXN")
#: 1,299.99 / 1.299,99 / 1299 / 19.99 — never ending in the middle of a longer number.
_AMOUNT = r"(?:\d{1,3}(?:[,.\u00a0\u202f]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)(?!\d)"
_PRICE = re.compile(
    rf"(?:[{CURRENCY_SYMBOLS}]\s?|\b(?:{CURRENCY_CODES})\s?){_AMOUNT}"
    rf"|(?<![\w.,]){_AMOUNT}\s?(?:[{CURRENCY_SYMBOLS}]"
    rf"|(?:{CURRENCY_CODES}|dollars?|euros?|cents?|pence|yen|francs?)\b)",
    re.IGNORECASE)
_PERCENTAGE = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)?\s?(?:%|per\s?cent\b)", re.IGNORECASE)
_HEALTH_TERMS = TermMatcher([
    "cure", "heal", "clinically", "clinical trial", "clinical study", "medically proven",
    "immunity", "immune system", "disease", "diagnose", "remedy", "detox", "cholesterol",
    "blood pressure", "blood sugar", "weight loss", "lose weight", "anti-inflammatory",
    "antibacterial", "doctor recommended",
])
#: "treats", "prevents" and friends are claims only with a condition close behind them:
#: "treats acne" is, "treat yourself" and "prevents scratches" are not.
_HEALTH_VERB_CONDITION = re.compile(
    r"\b(?:treat(?:s|ed|ing)?|prevent(?:s|ed|ing)?|reliev(?:e|es|ed|ing)|reduc(?:e|es|ed|ing)"
    r"|fight(?:s|ing)?|fought|eas(?:e|es|ed|ing)|sooth(?:e|es|ed|ing)|combat(?:s|ed|ing)?)"
    r"\s+(?:[\w'’-]+\s+){0,3}?"
    r"(?:acne|allerg(?:y|ies)|anxiety|arthritis|asthma|cancer|colds?|depression|diabetes"
    r"|eczema|flu|headaches?|infections?|inflammation|insomnia|migraines?|pain|psoriasis"
    r"|symptoms?|illness(?:es)?|viruses|virus|bacteria|wrinkles?)\b",
    re.IGNORECASE)
_FINANCIAL = re.compile(
    r"(?-i:\b(?:APR|APY|AER|ROI)\b)"
    r"|\breturns?\s+on\s+(?:your\s+)?investments?\b"
    r"|\b(?:guaranteed|annual|annuali[sz]ed|expected|high|fixed|monthly|passive|steady)"
    r"\s+(?:income|returns?|yields?|interest)\b"
    r"|\binterest(?:[\s-]+free\b|\s+rates?\b)"
    r"|(?<![\w.,])\d+(?:[.,]\d+)?\s?%\s+(?:interest|returns?|yields?)\b"
    r"|\binvest(?:ment|ments|ing|or|ors)\b"
    r"|\b(?:dividends?|mortgages?|loans?|savings\s+accounts?|pensions?|cryptocurrenc(?:y|ies)"
    r"|financial\s+advice|credit\s+score)\b",
    re.IGNORECASE)


def trigger_spans(trigger: str, text: str) -> tuple[list[tuple[int, int]], str, str | None]:
    """(spans that fire, what fired in words, configuration error or None)."""
    kind, _, arg = trigger.partition(":")
    kind = kind.strip().lower()
    if kind == "price" and not arg:
        return [m.span() for m in _PRICE.finditer(text)], "a price", None
    if kind == "percentage" and not arg:
        return [m.span() for m in _PERCENTAGE.finditer(text)], "a percentage", None
    if kind == "health" and not arg:
        spans = [(h.start, h.end) for h in _HEALTH_TERMS.find(text)]
        spans += [m.span() for m in _HEALTH_VERB_CONDITION.finditer(text)]
        return sorted(set(spans)), "a health claim", None
    if kind == "financial" and not arg:
        return [m.span() for m in _FINANCIAL.finditer(text)], "a financial claim", None
    if kind == "keyword":
        word = arg.strip()
        if not word:
            return [], "", "keyword trigger names no word"
        hits = TermMatcher([word]).find(text)
        return [(h.start, h.end) for h in hits], f"the keyword {quote(word)}", None
    if kind == "regex":
        pattern, error = compile_owner_pattern(arg)
        if pattern is None:
            return [], "", f"pattern {quote(arg)} {error}"
        return pattern.spans(text), f"text matching {quote(arg)}", None
    return [], "", f"unknown trigger {quote(trigger)}"
