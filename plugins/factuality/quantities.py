"""Figures inside a sentence (prices, percentages, dates, durations, ...), with units
normalised so that "1,000 GB" and "1 TB" compare equal, and the words saying how each is
meant ("at least", "about") and what it measures.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from plugins.factuality.words import (
    COMPARATIVE_WORDS,
    NOT_COMPARATIVE,
    STOPWORDS,
    content_words,
    stem,
)

NUM_CORE = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
NUM = r"(?<![\w.,/#])" + NUM_CORE
SCALE = r"(?:\s?(?:k|K|thousand|m|M|mn|million|bn|billion)\b)?"
SCALES = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "bn": 1e9,
          "billion": 1e9}
CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP", "usd": "USD", "eur": "EUR", "gbp": "GBP",
                  "dollar": "USD", "dollars": "USD", "euro": "EUR", "euros": "EUR",
                  "pound": "GBP", "pounds": "GBP"}
PER_MONTH = {"month": 1.0, "year": 1 / 12, "week": 52 / 12, "day": 365 / 12}
SECONDS = {"second": 1, "sec": 1, "s": 1, "minute": 60, "min": 60, "hour": 3600, "hr": 3600,
           "h": 3600, "day": 86400, "week": 604800, "month": 2629800, "year": 31557600,
           "yr": 31557600}
GIGABYTES = {"kb": 1e-6, "mb": 1e-3, "gb": 1.0, "tb": 1e3, "pb": 1e6, "kilobyte": 1e-6,
             "megabyte": 1e-3, "gigabyte": 1.0, "terabyte": 1e3, "petabyte": 1e6}
MONTHS = {m: i for i, m in enumerate(
    "january february march april may june july august september october november december"
    .split(), 1)}
MONTHS.update({name[:3]: i for name, i in list(MONTHS.items())})
#: Number words read before a unit of time ("five minutes"), not before any noun: "one
#: place" or "two-factor" are not figures anyone approves.
WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
                "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90}
CURRENCY_CODES = frozenset({"USD", "EUR", "GBP"})

MONTH_NAMES = (r"(?:January|February|March|April|May|June|July|August|September|October"
               r"|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?")

PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("date", re.compile(r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?P<month>(?:jan|feb|mar|apr|may"
                        r"|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?),?\s+(?P<year>(?:19|20)"
                        r"\d{2})\b", re.I)),
    ("date", re.compile(
        r"\b(?P<month>(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?)"
        r"(?:\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?)?\s+(?P<year>(?:19|20)\d{2})\b", re.I)),
    ("date", re.compile(r"\b(?P<year>(?:19|20)\d{2})-(?P<monthnum>\d{2})-(?P<day>\d{2})\b")),
    ("date", re.compile(r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>"
                        + MONTH_NAMES + r")\b|\b(?P<month2>" + MONTH_NAMES
                        + r")\s+(?P<day2>\d{1,2})(?:st|nd|rd|th)?\b(?![,.]?\d)")),
    ("date", re.compile(r"\bQ(?P<quarter>[1-4])\s+(?P<year>(?:19|20)\d{2})\b")),
    ("availability", re.compile(r"(?<![\d/])24\s?/\s?7(?![\d/])")),
    ("price", re.compile(r"(?P<cur>[$€£])\s?(?P<num>" + NUM_CORE
                         + r")(?P<scale>" + SCALE + r")")),
    ("price", re.compile(r"\b(?P<cur>USD|EUR|GBP)\s?(?P<num>" + NUM + r")(?P<scale>" + SCALE
                         + ")")),
    ("price", re.compile(r"(?P<num>" + NUM + r")(?P<scale>" + SCALE + r")\s?(?P<cur>USD|EUR|GBP"
                         r"|dollars?|euros?|pounds?)\b", re.I)),
    ("percentage", re.compile(r"(?P<num>" + NUM + r")\s?(?:%|percent\b|per\s?cent\b|pct\b)",
                              re.I)),
    ("multiplier", re.compile(r"(?P<num>" + NUM + r")\s?(?:x|×)(?![\w])|(?P<num2>" + NUM
                              + r"|\b(?:two|three|four|five|six|seven|eight|nine|ten))"
                              r"\s+times\b|\b(?P<twice>twice|double|doubles|doubled)\b(?!-)",
                              re.I)),
    ("storage", re.compile(r"(?P<num>" + NUM + r")\s?-?\s?(?P<unit>[KMGTP]B|[kmgtp]b|(?:kilo|"
                           r"mega|giga|tera|peta)bytes?)\b", re.I)),
    ("duration", re.compile(r"(?:(?P<num>" + NUM + r")|\b(?P<word>" + "|".join(WORD_NUMBERS)
                            + r"))\s?-?\s?(?P<unit>seconds?|secs?|minutes?|mins?|hours?|hrs?"
                            r"|days?|weeks?|months?|years?|yrs?)\b"
                            r"|\bevery\s+(?P<every>second|minute|hour)\b", re.I)),
    ("standard", re.compile(r"\b(?P<code>[A-Z]{2,6})[- ]?(?P<num>\d{1,6})\b(?![.,]\d)")),
    ("version", re.compile(r"\b(?:version|release|v)\s?(?P<num>\d+(?:\.\d+)*)\b", re.I)),
    ("date", re.compile(r"(?<![\w.,$€£/-])(?P<year>(?:19|20)\d{2})(?![\w%+/-]|[.,]\d)")),
    ("number", re.compile(r"\b(?:a|one)\s+(?P<dozen>dozen)\b", re.I)),
    ("number", re.compile(r"(?P<num>" + NUM + r")(?P<scale>" + SCALE + r")(?P<plus>\+)?")),
]

#: Digits that are not figures: web and e-mail addresses, phone numbers, times of day.
NOT_FIGURES_RE = re.compile(
    r"\bhttps?://\S+|\bwww\.\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|(?<![\w.])\+?\d{1,3}[\s.-]?\(?\d{2,4}\)?(?:[\s.-]?\d{2,4}){2,3}(?![\w%])"
    r"|\b\d{1,2}(?::\d{2})?\s?(?:am|pm|a\.m\.|p\.m\.)(?!\w)", re.I)

QUALIFIERS: list[tuple[str, re.Pattern[str]]] = [
    ("exact", re.compile(r"\bup\s+to\s*$", re.I)),
    ("min", re.compile(r"\b(?:at\s+least|no\s+less\s+than|minimum\s+of|a\s+minimum\s+of)\s*$",
                       re.I)),
    ("max", re.compile(r"\b(?:at\s+most|no\s+more\s+than|maximum\s+of|a\s+maximum\s+of)\s*$",
                       re.I)),
    ("min_strict", re.compile(r"\b(?:more\s+than|over|above|in\s+excess\s+of|upwards\s+of|"
                              r"exceeding|beyond)\s*$", re.I)),
    ("max_strict", re.compile(r"\b(?:less\s+than|fewer\s+than|under|below|within)\s*$", re.I)),
    ("approx", re.compile(r"(?:\b(?:about|around|approximately|approx\.?|roughly|nearly|almost"
                          r"|some|close\s+to)|~)\s*$", re.I)),
]

#: Words after a percentage that say what it means ("40 % faster", "25 % off").
FOLLOW_WORDS = frozenset({"less", "more", "fewer", "off", "uptime", "discount", "faster",
                          "cheaper", "smaller", "lower", "higher", "better"})

BOUND_WORDS = {"exact": "", "min": "at least ", "min_strict": "more than ", "max": "at most ",
               "max_strict": "less than ", "approx": "about "}


@dataclass(frozen=True)
class Quantity:
    """One figure with its unit normalised, so "1,000 GB" and "1 TB" compare equal.

    ``value`` is a float in the base unit (seconds, gigabytes, currency units, percent)
    except for dates, which are ``(year, month, day, quarter)`` tuples with ``None`` gaps.
    ``bound`` says how the figure is meant: exact, a lower or upper bound, or approximate.
    """

    kind: str
    value: float | tuple[int | None, ...]
    unit: str
    text: str
    start: int
    end: int
    bound: str = "exact"
    context: frozenset[str] = frozenset()
    unit_words: frozenset[str] = frozenset()
    follow: str = ""  # the word after the figure when it says what grows or shrinks

    def describe(self) -> str:
        """The figure in plain words, e.g. "more than 12,000 customers" or "40 % faster"."""
        bound = "" if self.text.endswith("+") else BOUND_WORDS[self.bound]
        return f"{bound}{self.text}{' ' + self.follow if self.follow else ''}"

    def interval(self, *, as_fact: bool) -> tuple[float, bool, float, bool]:
        """(low, low strict, high, high strict) of the values the statement allows.

        An approved fact's "about" is read as its value: the approval is of that figure.
        """
        v = float(self.value)  # type: ignore[arg-type]
        bound = "exact" if as_fact and self.bound == "approx" else self.bound
        if bound == "min":
            return v, False, math.inf, False
        if bound == "min_strict":
            return v, True, math.inf, False
        if bound == "max":
            return -math.inf, False, v, False
        if bound == "max_strict":
            return -math.inf, False, v, True
        if bound == "approx":
            return v * 0.9, False, v * 1.1, False
        return v, False, v, False


def _to_float(number: str, scale: str | None = None) -> float:
    value = float(number.replace(",", ""))
    if scale:
        value *= SCALES.get(scale.strip().lower(), 1.0)
    return value


def _period(after: str) -> str:
    m = re.match(r"\s*(?:(?:per|a|an|/|each)\s*(?:user|seat|member|person|licen[cs]e)?\s*"
                 r"(?:,\s*)?)*(?:per|a|an|/|each)?\s*(?P<p>month|mo|year|yr|annum|week|day)\b"
                 r"|\s*(?P<adv>monthly|annually|yearly|weekly|daily)\b", after, re.I)
    if not m:
        return ""
    word = (m.group("p") or m.group("adv")).lower()
    return {"mo": "month", "monthly": "month", "yr": "year", "annum": "year", "annually": "year",
            "yearly": "year", "weekly": "week", "daily": "day"}.get(word, word)


def _parse(kind: str, m: re.Match[str], sentence: str) -> tuple[float | tuple, str] | None:
    g = m.groupdict()
    if kind == "date":
        year = int(g["year"]) if g.get("year") else None
        month = None
        month_name = g.get("month") or g.get("month2")
        if month_name:
            month = MONTHS.get(month_name.rstrip(".").lower()[:3])
        elif g.get("monthnum"):
            month = int(g["monthnum"])
        day_text = g.get("day") or g.get("day2")
        day = int(day_text) if day_text else None
        quarter = int(g["quarter"]) if g.get("quarter") else None
        return (year, month, day, quarter), "date"
    if kind == "availability":
        return 168.0, "hours/week"
    if kind == "price":
        currency = CURRENCY_SIGNS[g["cur"].lower()]
        period = _period(sentence[m.end():m.end() + 40])
        if not period:
            return _to_float(g["num"], g.get("scale")), currency
        # Recurring prices compare per month: "$144 a year" is "$12 a month".
        return _to_float(g["num"], g.get("scale")) * PER_MONTH[period], f"{currency}/month"
    if kind == "percentage":
        return _to_float(g["num"]), "%"
    if kind == "multiplier":
        if g.get("twice"):
            return 2.0, "x"
        raw = g.get("num") or g.get("num2") or ""
        return float(WORD_NUMBERS.get(raw.lower(), 0) or raw.replace(",", "")), "x"
    if kind == "storage":
        unit = g["unit"].lower().rstrip("s")
        return _to_float(g["num"]) * GIGABYTES[unit if unit in GIGABYTES else unit[:2]], "GB"
    if kind == "duration":
        if g.get("every"):
            return float(SECONDS[g["every"].lower()]), "s"
        unit = g["unit"].lower()
        unit = unit[:-1] if unit.endswith("s") and len(unit) > 1 else unit
        count = WORD_NUMBERS[g["word"].lower()] if g.get("word") else _to_float(g["num"])
        return count * SECONDS[unit], "s"
    if kind == "standard":
        if g["code"] in CURRENCY_CODES:
            return None
        return float(g["num"]), g["code"]
    if kind == "version":
        return float(".".join(g["num"].split(".")[:2])), "v"
    if g.get("dozen"):
        return 12.0, ""
    return _to_float(g["num"], g.get("scale")), ""


def find_quantities(sentence: str, offset: int = 0,
                    skip: Sequence[tuple[int, int]] = ()) -> list[Quantity]:
    """Every figure in ``sentence`` (spans shifted by ``offset``), earliest first.

    Patterns run from most to least specific and a later match may not overlap an earlier
    one, so "$1,299.99" is one price rather than a price and two numbers. ``skip`` holds
    spans (relative to ``sentence``) of names: figures inside them are part of the name,
    and their words say which product, not what a figure measures.
    """
    skip = [*skip, *((m.start(), m.end()) for m in NOT_FIGURES_RE.finditer(sentence))]
    taken: list[tuple[int, int]] = []
    found: list[tuple[str, re.Match[str]]] = []
    for kind, pattern in PATTERNS:
        for m in pattern.finditer(sentence):
            if any(m.start() < e and s < m.end() for s, e in [*taken, *skip]):
                continue
            taken.append((m.start(), m.end()))
            found.append((kind, m))
    words = [w for w in content_words(sentence)
             if not any(s <= w[1] < e for s, e in [*taken, *skip])]
    out = []
    for kind, m in sorted(found, key=lambda item: item[1].start()):
        parsed = _parse(kind, m, sentence)
        if parsed is None:
            continue
        value, unit = parsed
        start, end = m.start(), m.end()
        bound = "exact"
        if m.groupdict().get("plus"):
            bound = "min"
        before = sentence[max(0, start - 24):start]
        for name, pattern in QUALIFIERS:
            q = pattern.search(before)
            if q and kind != "date":
                bound = name
                break
        if kind == "number" and re.search(r"(?:#|\bno\.?)\s?$", sentence[:start], re.I):
            continue  # "#1" and "No. 1" are rankings, read as superlatives
        context = _context(words, start, end)
        unit_words: frozenset[str] = frozenset()
        follow = ""
        if kind == "number":
            phrase = _unit_phrase(sentence[end:])
            unit_words = frozenset(stem(w) for w in phrase)
            follow = " ".join(phrase)
        elif kind == "price":
            period = _period(sentence[end:end + 40])
            follow = f"a {period}" if period else ""
        elif kind in ("percentage", "multiplier"):
            nxt = re.match(r"\s*([A-Za-z]+)", sentence[end:])
            word = nxt.group(1).lower() if nxt else ""
            if word in COMPARATIVE_WORDS or word in FOLLOW_WORDS or (
                    word.endswith("er") and word not in NOT_COMPARATIVE):
                follow = nxt.group(1)  # type: ignore[union-attr]
        out.append(Quantity(kind, value, unit, sentence[start:end], offset + start, offset + end,
                            bound, context, unit_words, follow))
    return out


def _unit_phrase(after: str) -> list[str]:
    """The noun a count counts: "customers", "data sources", "other apps" -> "apps".

    Two words at most; a plural first word ends the phrase ("customers trust" is a noun
    and its verb), and one leading "other"/"more"/"new" is skipped.
    """
    words = re.findall(r"[A-Za-z][\w-]*|[^\sA-Za-z]", after[:60])
    if words and words[0].lower() in ("other", "more", "new", "additional", "extra"):
        words = words[1:]
    phrase: list[str] = []
    for word in words[:2]:
        if not word[0].isalpha() or word.lower() in STOPWORDS:
            break
        phrase.append(word)
        if word.lower().endswith("s") and not word.lower().endswith("ss"):
            break
    return phrase


def _context(words: Sequence[tuple[str, int, int]], start: int, end: int) -> frozenset[str]:
    before = [w for w, _, e in words if e <= start][-4:]
    after = [w for w, s, _ in words if s >= end][:4]
    return frozenset(before + after)
