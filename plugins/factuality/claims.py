"""Sentences, check-worthy claims and the quantities inside them, in plain Python.

Kept free of torch so the web process and the unit tests can split and parse text without
loading a model. Every sentence, claim and quantity keeps its ``[start, end)`` span in the
ORIGINAL text, because the reviewer sees verdicts highlighted in place.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# -- words ---------------------------------------------------------------------------------

STOPWORDS = frozenset("""
a about above after again all also am an and any are as at be been being both but by can
could did do does doing down during each even ever every few for from further had has have
having he her here hers him his how i if in into is it its itself just me more most my no
nor not now of off on once only or other our ours out over own per same she should so some
such than that the their theirs them then there these they this those through to too under
until up very was we were what when where which while who whom why will with would you
your yours yourself us get gets got new now one make makes made let lets via within
""".split())

#: Words folded together so that a paraphrase shares context with the approved wording.
SYNONYMS = {
    "quicker": "fast", "quick": "fast", "quickly": "fast", "faster": "fast", "fastest": "fast",
    "speedy": "fast", "speedier": "fast", "speed": "fast", "rapid": "fast", "quickest": "fast",
    "less": "decrease", "fewer": "decrease", "reduce": "decrease", "cut": "decrease",
    "lower": "decrease", "save": "decrease", "saving": "decrease", "drop": "decrease",
    "more": "increase", "increase": "increase", "boost": "increase", "higher": "increase",
    "raise": "increase", "grow": "increase",
    "client": "customer", "buyer": "customer", "subscriber": "customer",
    "seat": "user", "member": "user", "people": "user", "person": "user",
    "company": "organisation", "organization": "organisation", "business": "organisation",
    "brand": "organisation",
    "upload": "transfer", "download": "transfer", "move": "transfer", "send": "transfer",
    "big": "large", "bigger": "large", "larger": "large", "huge": "large",
    "nation": "country",
    "update": "refresh", "reload": "refresh",
    "found": "start", "founded": "start", "establish": "start", "established": "start",
    "launch": "start", "launched": "start", "since": "start", "begin": "start",
    "release": "start", "released": "start", "start": "start", "started": "start",
    "debut": "start", "introduce": "start", "introduced": "start",
    "cost": "price", "priced": "price", "pricing": "price", "charge": "price",
    "history": "version", "restore": "recover", "recovery": "recover",
    "app": "application", "tool": "application", "integration": "application",
    "certified": "certify", "certification": "certify", "certificate": "certify",
}

#: Context words that only say which way a number goes; they do not name what it measures.
DIRECTION_WORDS = frozenset({"increase", "decrease", "fast"})

WORD_RE = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")


def stem(word: str) -> str:
    """A crude English stem plus synonym folding: enough to compare short contexts."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    w = w.strip("'-")
    if w in SYNONYMS:
        return SYNONYMS[w]
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 4 and w.endswith(("sses", "shes", "ches", "xes")):
        w = w[:-2]
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if w in SYNONYMS:
        return SYNONYMS[w]
    for suffix in ("ing", "ed"):
        if len(w) > len(suffix) + 3 and w.endswith(suffix):
            base = w[: -len(suffix)]
            if base in SYNONYMS:
                return SYNONYMS[base]
            if base + "e" in SYNONYMS:
                return SYNONYMS[base + "e"]
    return SYNONYMS.get(w, w)


def content_words(text: str) -> list[tuple[str, int, int]]:
    """(stem, start, end) for every non-stopword word of ``text``."""
    out = []
    for m in WORD_RE.finditer(text):
        if m.group().lower() in STOPWORDS:
            continue
        out.append((stem(m.group()), m.start(), m.end()))
    return out


# -- sentences -----------------------------------------------------------------------------

#: Abbreviations after which a period never ends a sentence.
NEVER_END = frozenset({
    "e.g", "i.e", "eg", "ie", "mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "vs", "cf",
    "approx", "fig", "no", "nos", "ca", "est", "dept", "ref", "vol", "p", "pp",
})
#: Abbreviations that end a sentence only when a capitalised word follows.
MAYBE_END = frozenset({
    "inc", "ltd", "corp", "co", "llc", "plc", "gmbh", "etc", "u.s", "u.k", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mon", "tue", "wed", "thu",
    "fri", "sat", "sun",
})
END_RE = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s|$)")
LIST_MARKER_RE = re.compile(r"^(?:#{1,6}|[-*•–—]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+")


@dataclass(frozen=True)
class Sentence:
    """One sentence with its place in the original text (``text == original[start:end]``)."""

    text: str
    start: int
    end: int


def split_sentences(text: str) -> list[Sentence]:
    """Split at sentence ends and line breaks, keeping offsets into ``text``.

    Line breaks always split, because marketing copy is full of headings and bullets
    without closing punctuation; periods inside numbers, prices and abbreviations do not.
    """
    out: list[Sentence] = []
    line_start = 0
    for line in text.split("\n"):
        pos = 0
        for m in END_RE.finditer(line):
            if line[pos:m.start()].strip().isdigit():  # "1." numbering a list item
                continue
            if not _ends_sentence(line, m):
                continue
            _add_sentence(out, text, line_start + pos, line_start + m.end())
            pos = m.end()
        _add_sentence(out, text, line_start + pos, line_start + len(line))
        line_start += len(line) + 1
    return out


def _ends_sentence(line: str, m: re.Match[str]) -> bool:
    rest = line[m.end():].lstrip()
    if rest and rest[0].islower():
        return False
    if m.group()[0] != "." or len(m.group().rstrip("\"'”’)]")) > 1:
        return True
    before = re.search(r"(\S+)$", line[: m.start()])
    word = before.group(1).lower().lstrip("(\"'“‘") if before else ""
    if word in NEVER_END:
        return False
    if len(word) == 1 and word.isalpha():  # an initial, as in "J. Smith"
        return False
    if word in MAYBE_END or ("." in word and word.replace(".", "").isalpha()):
        return bool(rest) and rest[0].isupper()
    return True


def _add_sentence(out: list[Sentence], text: str, start: int, end: int) -> None:
    chunk = text[start:end]
    lead = len(chunk) - len(chunk.lstrip())
    start += lead
    marker = LIST_MARKER_RE.match(text[start:end])
    if marker:
        start += marker.end()
    chunk = text[start:end]
    end = start + len(chunk.rstrip())
    if any(ch.isalnum() for ch in text[start:end]):
        out.append(Sentence(text[start:end], start, end))


# -- quantities ----------------------------------------------------------------------------

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


# -- superlatives, comparatives and names ---------------------------------------------------

SUPERLATIVES = {
    "fast": r"fastest|quickest|speediest",
    "best": r"best|top-rated|top-ranked|highest-rated|finest|greatest|leading|industry-leading"
            r"|market-leading|world-leading|world-class|unmatched|unrivall?ed|unbeatable"
            r"|#\s?1|no\.\s?1|number\s+one|the\s+top",
    "easy": r"easiest|simplest|most\s+intuitive|most\s+user-friendly",
    "secure": r"safest|most\s+secure",
    "cheap": r"cheapest|lowest[- ]price[d]?|lowest[- ]cost|most\s+affordable",
    "large": r"largest|biggest",
    "first": r"(?:the|was|were|is|are)\s+first(?!\s+(?:year|month|week|day|time|step|page|few)s?\b)"
             r"|first\s+to\b",
    "only": r"the\s+only\b",
    "reliable": r"most\s+reliable",
    "powerful": r"most\s+powerful|strongest",
    "small": r"smallest|lightest",
}
SUPERLATIVE_RE = [(group, re.compile(r"(?<![\w-])(?:" + pattern + r")(?![\w-])", re.I))
                  for group, pattern in SUPERLATIVES.items()]
GENERIC_MOST_RE = re.compile(r"\bthe\s+(?:most|least)\s+(?P<adj>[a-z-]+)"
                             r"|\b(?P<est>[a-z]{3,}est)\b", re.I)
#: Words ending in -est that are not superlatives ("latest" dates rather than ranks).
NOT_SUPERLATIVE = frozenset("""
interest interests honest modest request suggest manifest harvest invest contest protest
digest arrest forest earnest priest conquest inquest behest attest detest tempest latest
guest quest chest west rest nest vest zest pest jest lest test biggest largest
""".split())

COMPARATIVE_GROUPS = {
    "fast": "faster quicker speedier", "cheap": "cheaper", "good": "better superior",
    "easy": "easier simpler", "secure": "safer", "small": "smaller lighter slimmer",
    "large": "larger bigger", "strong": "stronger", "smart": "smarter", "reliable": "",
    "increase": "higher", "decrease": "lower", "bad": "worse",
}
COMPARATIVE_WORDS = {w: g for g, words in COMPARATIVE_GROUPS.items() for w in words.split()}
NOT_COMPARATIVE = frozenset({"rather", "other", "whether", "never", "ever", "under", "over",
                             "after", "later", "either", "neither", "order", "number", "user",
                             "customer", "power", "together", "sooner", "longer", "further",
                             "fewer"})
COMPARATIVE_RE = re.compile(
    r"(?P<mult>(?:" + NUM + r")\s?(?:x|×|times)|twice|three\s+times|two\s+times)?\s*"
    r"\bas\s+(?P<as_adj>[a-z]+)\s+as\b"
    r"|\b(?P<word>[a-z]+er)\s+than\b"
    r"|\b(?P<known>" + "|".join(sorted(COMPARATIVE_WORDS, key=len, reverse=True)) + r")\b"
    r"|\b(?P<moreless>more|less)\s+(?P<adj>[a-z-]+)(?:\s+[a-z-]+)?\s+than\b"
    r"|\b(?P<thanword>more|less|fewer)\s+than\s+(?![$€£~]|\d|about|around|nearly|almost"
    r"|approximately|roughly)"
    r"|\b(?P<fewer>fewer|less)\s+(?P<noun>[a-z-]+)"
    r"|\b(?P<verb>outperforms?|outperformed|beats?|compared\s+(?:with|to)|versus|vs\.?)(?!\w)",
    re.I)
TARGET_RE = re.compile(r"\b(?:than|compared\s+(?:with|to)|versus|vs\.?)\s+(?P<t>[^.,;:!?]{1,60})",
                       re.I)


@dataclass(frozen=True)
class Superlative:
    """A "best"/"fastest"/"#1" style claim, grouped so "quickest" matches "fastest"."""

    group: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Comparative:
    """A comparison: what improves (its group) and against what (its target words)."""

    group: str
    text: str
    start: int
    end: int
    target: frozenset[str] = frozenset()
    target_text: str = ""


def find_superlatives(sentence: str, offset: int = 0) -> list[Superlative]:
    """Superlative phrases in ``sentence``."""
    out: list[Superlative] = []
    for group, pattern in SUPERLATIVE_RE:
        for m in pattern.finditer(sentence):
            out.append(Superlative(group, m.group(), offset + m.start(), offset + m.end()))
    for m in GENERIC_MOST_RE.finditer(sentence):
        if m.group("est"):
            word = m.group("est").lower()
            if word in NOT_SUPERLATIVE or word.endswith(("ifest", "quest")):
                continue
            group = word[:-3] if not word.endswith("iest") else word[:-4] + "y"
        else:
            group = stem(m.group("adj"))
        out.append(Superlative(group, m.group(), offset + m.start(), offset + m.end()))
    kept: list[Superlative] = []
    for sup in sorted(out, key=lambda s: (s.start, -s.end)):
        inside = sup.start - offset
        if sup.text[:1].isupper() and sentence[:inside].strip() and not _is_heading(sentence):
            continue  # "Allure's Best of Beauty award" is a title, not a ranking
        if not any(k.start < sup.end and sup.start < k.end for k in kept):
            kept.append(sup)
    return kept


def find_comparatives(sentence: str, offset: int = 0) -> list[Comparative]:
    """Comparisons in ``sentence``; "more than 12,000" is a bound, not a comparison."""
    out: list[Comparative] = []
    for m in COMPARATIVE_RE.finditer(sentence):
        g = m.groupdict()
        if g["as_adj"]:
            if not g["mult"]:
                continue  # "as fast as" without a multiplier compares nothing checkable
            group = stem(g["as_adj"])
        elif g["word"]:
            word = g["word"].lower()
            if word in NOT_COMPARATIVE or re.match(r"\s*(?:[$€£~]\s?)?\d",
                                                   sentence[m.end():]):
                continue  # "fewer than 10 clicks" is a bound on a figure
            group = COMPARATIVE_WORDS.get(word) or stem(re.sub(r"i?er$", "", word))
        elif g["known"]:
            if re.match(r"\s+than\s+(?:[$€£]\s?)?\d", sentence[m.end():]):
                continue
            group = COMPARATIVE_WORDS[g["known"].lower()]
        elif g["moreless"]:
            if g["adj"][0].isdigit():
                continue
            group = stem(g["adj"]) if g["moreless"].lower() == "more" else "decrease"
        elif g["thanword"]:
            group = "increase" if g["thanword"].lower() == "more" else "decrease"
        elif g["fewer"]:
            noun = g["noun"].lower()
            if noun in ("than", "of", "and", "or") or noun in STOPWORDS:
                continue
            group = "decrease"
        else:
            group = "*"
        if any(c.start <= offset + m.start() < c.end for c in out):
            continue
        target_text = ""
        phrase_end = m.end()
        if g["as_adj"]:
            target_text = re.split(r"[.,;:!?]", sentence[m.end():], maxsplit=1)[0].strip()
            phrase_end += len(sentence[m.end():]) - len(sentence[m.end():].lstrip()) + len(
                target_text)
        else:
            t = TARGET_RE.search(sentence, m.start())
            if t and (t.start() - m.end() < 40):
                target_text = t.group("t").strip()
                phrase_end = t.start("t") + len(target_text)
        start = m.start() + len(m.group()) - len(m.group().lstrip())
        out.append(Comparative(group, sentence[start:phrase_end], offset + start,
                               offset + phrase_end, _target_words(target_text), target_text))
    return out


def _target_words(text: str) -> frozenset[str]:
    words = {w for w, _, _ in content_words(text)}
    words |= set(re.findall(r"\b\d+(?:\.\d+)?\b", text))
    return frozenset(words - {"previous", "prior", "earlier", "old", "last", "did", "do", "was"})


#: Capitalised words that start a sentence or a clause without naming anything.
COMMON_CAPITALISED = frozenset("""
the a an our we you your it its this that these those with in on at for from by to and but
or so if when while as all every each any why how what who where meet try get start join
discover see learn find explore download sign book say talk ask contact visit call read
here there thanks thank now new introducing use make give let upgrade stay ready questions
one since after before during compared about more less over up just
january february march april may june july august september october november december
monday tuesday wednesday thursday friday saturday sunday spring summer autumn fall winter
""".split())
QUESTION_WORDS = frozenset({"why", "how", "what", "who", "when", "where", "which"})
SUBJECT_VERBS = frozenset("""
is are was were has have had can could will would does did may might must shall should
""".split())
CALL_TO_ACTION = frozenset("""
meet try get start join discover see learn find explore download sign book say talk ask
contact visit call read upgrade stay subscribe follow register request watch check
""".split())
NAME_TOKEN = r"[A-Z][A-Za-z0-9&'’-]*"
NAME_RE = re.compile(r"(?<![\w-])" + NAME_TOKEN + r"(?:\s+" + NAME_TOKEN + r")+")


def _is_heading(sentence: str) -> bool:
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", sentence)
    if len(words) < 3 or sentence.rstrip()[-1:] in ".!?":
        return False
    caps = [w for w in words if w[0].isupper() or w.lower() in ("a", "an", "the", "of", "and",
                                                                "for", "to", "in", "on", "with")]
    return len(caps) / len(words) >= 0.8


def find_names(sentence: str, known: Iterable[str] = (), offset: int = 0) -> list[
        tuple[str, int, int]]:
    """Product and company names: known ones anywhere, else runs of capitalised words.

    A run at the start of a sentence counts only from its second word when the first is
    an ordinary word ("With", "Our"); headings in Title Case yield only known names.
    """
    out: list[tuple[str, int, int]] = []
    for name in sorted(set(known), key=len, reverse=True):
        for m in re.finditer(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", sentence):
            if not any(s <= offset + m.start() < e for _, s, e in out):
                out.append((name, offset + m.start(), offset + m.end()))
    if not _is_heading(sentence):
        for m in NAME_RE.finditer(sentence):
            tokens = [(t.group(), m.start() + t.start(), m.start() + t.end())
                      for t in re.finditer(r"\S+", m.group())]
            while tokens and tokens[0][0].lower() in COMMON_CAPITALISED:
                tokens.pop(0)
            while tokens and tokens[-1][0].lower() in COMMON_CAPITALISED:
                tokens.pop()
            if len(tokens) < 2:
                continue
            start, end = tokens[0][1], tokens[-1][2]
            if re.search(r"['’]s$", sentence[start:end]):
                end -= 2
            if any(a < offset + end and offset + start < b for _, a, b in out):
                continue
            out.append((" ".join(sentence[start:end].split()), offset + start, offset + end))
    return sorted(out, key=lambda n: n[1])


CLAUSE_BREAK_RE = re.compile(r",\s*(?:and|but|so|while|whereas|plus)\s+|;\s*|\s+[—–]\s+")


def clauses(sentence: str) -> list[str]:
    """The parts of a compound sentence ("..., and ..."), when there are several.

    A sentence about two things resembles neither fact closely; its clauses each do.
    """
    parts = [p.strip() for p in CLAUSE_BREAK_RE.split(sentence)]
    parts = [p for p in parts if len(p.split()) >= 3]
    return parts if len(parts) > 1 else []


def names_in_facts(statements: Iterable[str]) -> list[str]:
    """Names the approved facts use, so a claim can be tied to the product it is about."""
    names: set[str] = set()
    for statement in statements:
        for sentence in split_sentences(statement):
            names.update(name for name, _, _ in find_names(sentence.text))
    return sorted(names)


def same_product(a: str, b: str) -> bool:
    """Whether two names refer to the same thing ("Nimbus Sync" and "Nimbus Sync Team")."""
    ta, tb = a.lower().split(), b.lower().split()
    shorter, longer = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    return longer[: len(shorter)] == shorter


# -- claims --------------------------------------------------------------------------------

@dataclass
class Claim:
    """A check-worthy sentence and what makes it one, with offsets into the original text."""

    sentence: str
    start: int
    end: int
    quantities: list[Quantity] = field(default_factory=list)
    superlatives: list[Superlative] = field(default_factory=list)
    comparatives: list[Comparative] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    @property
    def span(self) -> tuple[int, int]:
        """[start, end) in the original text."""
        return self.start, self.end

    @property
    def kinds(self) -> tuple[str, ...]:
        """What makes the sentence check-worthy, e.g. ("percentage", "comparative")."""
        kinds = [q.kind for q in self.quantities]
        if self.superlatives:
            kinds.append("superlative")
        if self.comparatives:
            kinds.append("comparative")
        if self.names:
            kinds.append("product")
        return tuple(dict.fromkeys(kinds))


def parse_sentence(sentence: Sentence, known_names: Iterable[str] = ()) -> Claim:
    """Everything checkable in one sentence (the result may hold nothing)."""
    text, base = sentence.text, sentence.start
    names = find_names(text, known_names, base)
    quantities = find_quantities(text, base, [(s - base, e - base) for _, s, e in names])
    return Claim(text, sentence.start, sentence.end, quantities, find_superlatives(text, base),
                 find_comparatives(text, base), list(dict.fromkeys(n for n, _, _ in names)))


def extract_claims(text: str, known_names: Iterable[str] = ()) -> list[Claim]:
    """Check-worthy claims in ``text``, one per sentence that holds something checkable.

    A sentence whose only checkable part is a name counts when the name is the subject
    of a verb, and never when it is a question, a heading or a call to action ("Meet
    Nimbus Sync."), which state nothing a fact could support.
    """
    known = list(known_names)
    claims = []
    for sentence in split_sentences(text):
        claim = parse_sentence(sentence, known)
        if claim.quantities or claim.superlatives or claim.comparatives:
            claims.append(claim)
        elif claim.names and not _states_nothing(sentence.text) and _says_something_about(
                sentence, find_names(sentence.text, known, sentence.start)):
            claims.append(claim)
    return claims


def _states_nothing(sentence: str) -> bool:
    """Questions, calls to action and headings, which assert nothing about a product."""
    first = re.match(r"[A-Za-z]+", sentence)
    word = first.group().lower() if first else ""
    return sentence.rstrip().endswith("?") or word in CALL_TO_ACTION or word in QUESTION_WORDS \
        or _is_heading(sentence)


def _says_something_about(sentence: Sentence, names: Sequence[tuple[str, int, int]]) -> bool:
    """Whether a named product is the subject of a verb ("Nimbus Vault encrypts ...").

    "That's why we built Nimbus Sync." names a product but tells nothing a fact could
    support; without this, every mention of a product would go to the reviewer.
    """
    for _, _, end in names:
        after = sentence.text[end - sentence.start:]
        m = re.match(r"(?:['’]s)?\s+(?:(?:now|also|even|still|already|automatically|only|"
                     r"really|just|always|never)\s+)?([a-z]+)", after)
        if not m:
            continue
        verb = m.group(1)
        if verb in SUBJECT_VERBS or (verb.endswith("s") and not verb.endswith(("ss", "us"))
                                     and verb not in ("users", "customers", "teams")):
            return True
    return False
