"""Text checks: banned terms, required disclaimers, personal data, length and readability,
profanity.

Every check is pure Python over ``subject.text`` and deterministic. They aim at the mistakes
a marketing reviewer would otherwise catch by eye, so the heuristics lean towards the wording
of marketing copy: "treat yourself" is not a health claim and "free returns" is not a
financial one, while "treats acne" and "guaranteed returns" are.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from assay import BannedTerm, Check, CheckContext, CheckOutcome, CheckSubject, Evidence
from plugins.quality_checks.matching import TermHit, TermMatcher

__all__ = [
    "BannedTermsCheck",
    "DisclaimersCheck",
    "LengthReadabilityCheck",
    "PersonalDataCheck",
    "ProfanityCheck",
    "compile_trigger_regex",
    "count_syllables",
    "flesch_kincaid_grade",
    "iban_valid",
    "luhn_valid",
    "subject_text",
]


def subject_text(subject: CheckSubject) -> str:
    """The subject's text; bytes are decoded leniently so a stray byte never raises."""
    if subject.text is not None:
        return subject.text
    if subject.data is not None:
        return subject.data.decode("utf-8", errors="replace")
    return ""


def _quote(text: str, limit: int = 60) -> str:
    """Single-quoted and shortened, for messages that must stay one line."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return f"'{text}'"


def _or_list(items: Iterable[str]) -> str:
    quoted = [_quote(i) for i in items]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _drop_contained(hits: list[TermHit]) -> list[TermHit]:
    """Keep the longest hit where terms overlap ("cheap deals" swallows "cheap" inside it)."""
    kept: list[TermHit] = []
    for hit in sorted(hits, key=lambda h: (h.start, -(h.end - h.start))):
        if any(k.start <= hit.start and hit.end <= k.end for k in kept):
            continue
        kept.append(hit)
    return kept


# --- banned terms -------------------------------------------------------------------------


class BannedTermsCheck(Check):
    """The brand kit's banned terms, matched whole-word, case- and inflection-aware."""

    id = "banned-terms"
    modalities = ("text",)
    version = "1.0"
    description = ("Finds the project's banned terms (whole words, any case, simple "
                   "inflections such as 'cheaper' for 'cheap') and suggests the alternatives.")
    default_severity = "medium"

    def run(self, subject: CheckSubject, context: CheckContext) -> CheckOutcome:
        """Fail with one evidence item per occurrence; pass when none or no list."""
        if not context.banned_terms:
            return CheckOutcome("pass", "info", 0.0, "no banned terms are configured")
        text = subject_text(subject)
        by_key: dict[str, BannedTerm] = {}
        for banned in context.banned_terms:
            by_key.setdefault(" ".join(banned.term.split()).lower(), banned)
        matcher = TermMatcher(b.term for b in by_key.values())
        hits = _drop_contained(matcher.find(text))
        evidence = []
        for hit in hits:
            banned = by_key[" ".join(hit.term.split()).lower()]
            if hit.matched.lower() == banned.term.lower():
                said = f"{_quote(hit.matched)} is banned"
            else:
                said = f"{_quote(hit.matched)} is banned (a form of {_quote(banned.term)})"
            if banned.alternatives:
                advice = f"say {_or_list(banned.alternatives)} instead"
            else:
                advice = "rephrase without it"
            evidence.append(Evidence(
                f"{said}; {advice}", span=(hit.start, hit.end),
                data={"term": banned.term, "matched": hit.matched,
                      "alternatives": list(banned.alternatives)}))
        if not evidence:
            return CheckOutcome("pass", "info", 0.0, "no banned terms found")
        terms = sorted({e.data["term"] for e in evidence})
        return CheckOutcome(
            "fail", self.default_severity, float(len(evidence)),
            f"{_plural(len(evidence), 'banned term')} found: {', '.join(terms)}", evidence)


# --- required disclaimers -----------------------------------------------------------------

_CURRENCY_SYMBOLS = "$€£¥₹₩₽₺₪"
_CURRENCY_CODES = ("USD|EUR|GBP|CHF|JPY|CAD|AUD|NZD|SEK|NOK|DKK|PLN|CZK|HUF|INR|CNY|HKD|SGD"
                   "|ZAR|BRL|MXN")
#: 1,299.99 / 1.299,99 / 1299 / 19.99 — never ending in the middle of a longer number.
_AMOUNT = r"(?:\d{1,3}(?:[,.\u00a0\u202f]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)(?!\d)"
_PRICE = re.compile(
    rf"(?:[{_CURRENCY_SYMBOLS}]\s?|\b(?:{_CURRENCY_CODES})\s?){_AMOUNT}"
    rf"|(?<![\w.,]){_AMOUNT}\s?(?:[{_CURRENCY_SYMBOLS}]"
    rf"|(?:{_CURRENCY_CODES}|dollars?|euros?|cents?|pence|yen|francs?)\b)",
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
#: Longest user-supplied trigger pattern accepted (the guard the contract asks for).
MAX_TRIGGER_PATTERN = 200
#: A group with a quantifier inside that is itself quantified, e.g. (a+)+ or (\w*x)*: the
#: shape behind catastrophic backtracking. Refused rather than run without a timeout.
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*[+*{]")
_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")


def compile_trigger_regex(pattern: str) -> tuple[re.Pattern[str] | None, str | None]:
    """Compile a project's ``regex:`` trigger, or say why it is refused.

    Python's ``re`` has no timeout, so instead of running a pattern that can backtrack for
    minutes, long patterns, nested quantifiers and backreferences are refused up front.
    """
    if len(pattern) > MAX_TRIGGER_PATTERN:
        return None, f"is longer than {MAX_TRIGGER_PATTERN} characters"
    if _NESTED_QUANTIFIER.search(pattern):
        return None, "has a nested quantifier such as (a+)+, which can run for minutes"
    if _BACKREFERENCE.search(pattern):
        return None, "uses a backreference, which is not allowed in triggers"
    try:
        return re.compile(pattern, re.IGNORECASE), None
    except (re.error, RecursionError, OverflowError) as exc:
        return None, f"is not a valid regular expression ({exc})"


def _normalise(text: str) -> str:
    """Case, whitespace, quote and dash differences never make a disclaimer 'missing'."""
    text = text.casefold()
    text = re.sub(r"[‘’`´]", "'", text)
    text = re.sub(r"[“”„]", '"', text)
    text = re.sub(r"[‐‑‒–—]", "-", text)
    return " ".join(text.split())


def _trigger_spans(trigger: str, text: str) -> tuple[list[tuple[int, int]], str, str | None]:
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
        return [(h.start, h.end) for h in hits], f"the keyword {_quote(word)}", None
    if kind == "regex":
        pattern, error = compile_trigger_regex(arg)
        if pattern is None:
            return [], "", f"pattern {_quote(arg)} {error}"
        spans = [m.span() for m in pattern.finditer(text) if m.end() > m.start()]
        return spans, f"text matching {_quote(arg)}", None
    return [], "", f"unknown trigger {_quote(trigger)}"


class DisclaimersCheck(Check):
    """Each disclaimer whose trigger fires must appear somewhere in the text."""

    id = "required-disclaimers"
    modalities = ("text",)
    version = "1.0"
    description = ("Requires the project's disclaimers when their triggers fire: prices, "
                   "percentages, health or financial claims, keywords or patterns.")
    default_severity = "high"

    def run(self, subject: CheckSubject, context: CheckContext) -> CheckOutcome:
        """Fail per missing disclaimer, pointing at the first span that required it."""
        if not context.disclaimers:
            return CheckOutcome("pass", "info", 0.0, "no disclaimers are configured")
        text = subject_text(subject)
        haystack = _normalise(text)
        missing: list[Evidence] = []
        problems: list[Evidence] = []
        triggered = 0
        for disclaimer in context.disclaimers:
            needle = _normalise(disclaimer.text).strip(" .;:!")
            if not needle:
                continue
            present = needle in haystack
            for trigger in disclaimer.triggers:
                spans, what, error = _trigger_spans(trigger, text)
                if error:
                    problems.append(Evidence(
                        f"trigger ignored: {error}",
                        data={"trigger": trigger, "disclaimer": disclaimer.text}))
                    continue
                if not spans:
                    continue
                triggered += 1
                if present:
                    continue
                start, end = spans[0]
                missing.append(Evidence(
                    f"{what} ({_quote(text[start:end], 40)}) is mentioned but the "
                    f"disclaimer {_quote(disclaimer.text)} is missing",
                    span=(start, end),
                    data={"trigger": trigger, "disclaimer": disclaimer.text,
                          "occurrences": len(spans), "spans": [list(s) for s in spans[:20]]}))
                break  # one evidence per missing disclaimer: the first trigger that fired
        if missing:
            names = len({e.data["disclaimer"] for e in missing})
            return CheckOutcome("fail", self.default_severity, float(len(missing)),
                                f"{_plural(names, 'required disclaimer')} missing",
                                missing + problems)
        if problems:
            return CheckOutcome("warn", "low", 0.0,
                                f"{_plural(len(problems), 'trigger')} could not be evaluated",
                                problems)
        if triggered:
            return CheckOutcome("pass", "info", 0.0, "every triggered disclaimer is present")
        return CheckOutcome("pass", "info", 0.0, "no disclaimer was triggered")


# --- personal data ------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![\w-])")
#: Addresses of a role rather than a person: usually meant to be published.
_ROLE_MAILBOXES = frozenset({
    "info", "hello", "hi", "contact", "support", "help", "sales", "press", "media", "team",
    "careers", "jobs", "marketing", "noreply", "no-reply", "enquiries", "inquiries",
    "service", "customerservice", "office", "admin", "privacy", "legal", "partners", "news",
    "newsletter", "feedback", "orders", "billing",
})
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w.,/+\-$€£¥])(?:\+|00)?[(\d][\d ().\-\u00a0]{5,24}\d(?![\w%]|[.,]\d)")
#: Words that make a bare digit run a phone number: "call 5551234567", "Tel: 0301234567".
_PHONE_CONTEXT = re.compile(
    r"\b(?:call|phone|tel|telephone|mobile|cell|whatsapp|sms|text|fax|ring|dial)\b"
    r"(?:[\s.:#]+(?:us|me|them|on|at|no|number|is))*[\s.:#]*$", re.IGNORECASE)
_DATE_SHAPES = (
    re.compile(r"\d{4}[-.]\d{1,2}[-.]\d{1,2}"),
    re.compile(r"\d{1,2}[-.]\d{1,2}[-.]\d{2,4}"),
)
_CURRENCY_NEAR = re.compile(rf"[{_CURRENCY_SYMBOLS}]|\b(?:{_CURRENCY_CODES})\b", re.IGNORECASE)
_CARD_CANDIDATE = re.compile(r"(?<![\w\-.])\d(?:[ \-]?\d){12,18}(?![\w\-]|[.,]\d)")
_IBAN_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ \u00a0]?[A-Z0-9]){11,30}")
#: IBAN lengths by country (ISO 13616 registry); unknown countries accept 15–34 characters.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27,
    "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19,
    "SK": 24, "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}
_KIND_NAMES = {"email": ("email address", "email addresses"),
               "phone": ("phone number", "phone numbers"),
               "card": ("card number", "card numbers"), "iban": ("IBAN", "IBANs")}


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum every payment card number satisfies (and ~90% of typos do not)."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    """ISO 7064 mod-97 check of a compact upper-case IBAN (and its country's length)."""
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", iban):
        return False
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def _compact_cuts(raw: str, keep: str) -> list[tuple[str, int]]:
    """Prefixes of a separated candidate that end on a group boundary, longest first.

    Returns (compact prefix, length in ``raw``). A candidate regex is greedy, so "4242 4242
    4242 4242 123" reaches into the next number; the real value ends at a separator.
    """
    cuts = []
    compact = ""
    for i, ch in enumerate(raw):
        if ch in keep:
            compact += ch
            if i + 1 == len(raw) or raw[i + 1] not in keep:
                cuts.append((compact, i + 1))
    return sorted(cuts, key=lambda c: -len(c[0]))


def _find_ibans(text: str) -> list[tuple[int, int, str]]:
    found = []
    alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    for m in _IBAN_CANDIDATE.finditer(text):
        for compact, length in _compact_cuts(m.group(0), alnum):
            if len(compact) >= 15 and iban_valid(compact):
                found.append((m.start(), m.start() + length, compact))
                break
    return found


def _find_emails(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0)) for m in _EMAIL.finditer(text)]


#: How card numbers are printed when grouped: 4-4-4-4 (most), 4-4-4-4-3 (19 digits),
#: 4-6-5 (Amex), 4-6-4 (Diners), 4-4-4-1/2/3 (13 to 15 digits). Other groupings are account
#: or reference numbers that happen to pass Luhn one time in ten.
CARD_GROUPINGS = frozenset({
    (4, 4, 4, 4), (4, 4, 4, 4, 3), (4, 6, 5), (4, 6, 4), (4, 4, 4, 1), (4, 4, 4, 2),
    (4, 4, 4, 3),
})
_IBAN_PREFIX = re.compile(r"[A-Z]{2}\d{2}[ \u00a0]?$")


def _find_cards(text: str) -> list[tuple[int, int, str]]:
    found = []
    for m in _CARD_CANDIDATE.finditer(text):
        raw = m.group(0)
        after_iban_prefix = _IBAN_PREFIX.search(text, max(0, m.start() - 6), m.start())
        if (" " in raw and "-" in raw) or after_iban_prefix:
            continue  # mixed separators, or the rest of a (broken) IBAN
        for digits, length in _compact_cuts(raw, "0123456789"):
            groups = tuple(len(g) for g in re.findall(r"\d+", raw[:length]))
            if len(groups) > 1 and groups not in CARD_GROUPINGS:
                continue
            if (13 <= len(digits) <= 19 and digits[0] in "23456" and len(set(digits)) > 1
                    and luhn_valid(digits)):
                found.append((m.start(), m.start() + length, digits))
                break
    return found


def _phone_reason_to_skip(text: str, start: int, end: int) -> str | None:
    """Why a phone-shaped candidate is something else (a date, a price, a version…)."""
    raw = text[start:end]
    groups = re.findall(r"\d+", raw)
    digits = "".join(groups)
    prefixed = raw.startswith(("+", "00"))
    separators = set(re.sub(r"[\d()]", "", raw.lstrip("+")))
    before = text[max(0, start - 30):start]
    after = text[end:end + 5]
    keyword = bool(_PHONE_CONTEXT.search(before))
    if not 7 <= len(digits) <= 15:
        return "digit count"
    if _CURRENCY_NEAR.search(before[-4:]) or _CURRENCY_NEAR.match(after.lstrip()):
        return "price"
    if re.search(r"\b(?:ISBN|ISSN|EAN|SKU|ref|order|version|v)[\s.:#-]*$", before,
                 re.IGNORECASE):
        return "reference number"
    if any(shape.fullmatch(raw) for shape in _DATE_SHAPES):
        return "date"
    if all(len(g) == 4 and 1800 <= int(g) <= 2099 for g in groups):
        return "years"
    if separators == {"."} and not prefixed:
        if len(groups) == 4 and all(len(g) <= 3 and int(g) <= 255 for g in groups):
            return "IP address"
        if any(len(g) == 1 for g in groups):
            return "version number"
    if len(digits) >= 13 and (tuple(map(len, groups)) in CARD_GROUPINGS
                              or all(len(g) == 4 for g in groups[:3])):
        return "card-shaped"  # a card number that failed Luhn is not a phone either
    if len(groups) == 1 and not prefixed and not keyword:
        return "plain number"
    if len(groups) >= 3 and all(len(g) <= 2 for g in groups) and not prefixed \
            and not digits.startswith("0"):
        return "list of small numbers"
    thousands = (len(separators) == 1 and separators <= {".", " ", "\u00a0"}
                 and 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:]))
    if thousands and not prefixed and not keyword and not digits.startswith("0"):
        return "thousands-separated number"
    return None


def _find_phones(text: str) -> list[tuple[int, int, str]]:
    found = []
    for m in _PHONE_CANDIDATE.finditer(text):
        start, end = m.span()
        raw = m.group(0)
        # A candidate may start with "(" that never closes, or end inside a bracket pair.
        if raw.count("(") != raw.count(")"):
            continue
        if _phone_reason_to_skip(text, start, end) is None:
            found.append((start, end, re.sub(r"\D", "", raw)))
    return found


def _mask(kind: str, value: str) -> str:
    """How evidence names a value without repeating it."""
    if kind == "email":
        local, _, domain = value.partition("@")
        return f"email address {local[0]}***@{domain}"
    if kind == "phone":
        return f"phone number ending {value[-2:]}"
    if kind == "card":
        return f"card number ending {value[-4:]}"
    return f"IBAN ({value[:2]}) ending {value[-4:]}"


class PersonalDataCheck(Check):
    """Emails, phone numbers, payment cards and IBANs that should not be published."""

    id = "personal-data"
    modalities = ("text",)
    version = "1.0"
    description = ("Finds personal data: email addresses, phone numbers, payment card "
                   "numbers (Luhn-valid) and IBANs (mod-97 valid).")
    default_severity = "high"

    def run(self, subject: CheckSubject, context: CheckContext) -> CheckOutcome:
        """Fail on personal data; warn only for role addresses such as hello@brand.com."""
        text = subject_text(subject)
        claimed: list[tuple[int, int]] = []
        items: list[tuple[int, int, str, str]] = []
        # Most specific first; later finders skip anything an earlier one claimed.
        finders = (("iban", _find_ibans), ("email", _find_emails), ("card", _find_cards),
                   ("phone", _find_phones))
        for kind, finder in finders:
            for start, end, value in finder(text):
                if any(start < e and s < end for s, e in claimed):
                    continue
                claimed.append((start, end))
                items.append((start, end, kind, value))
        items.sort()
        evidence = []
        personal = 0
        for start, end, kind, value in items:
            role = kind == "email" and value.partition("@")[0].lower() in _ROLE_MAILBOXES
            personal += not role
            message = _mask(kind, value)
            if role:
                message = f"role {message}: check it is meant to be published"
            evidence.append(Evidence(message, span=(start, end),
                                     data={"kind": kind, "role_address": role}))
        if not evidence:
            return CheckOutcome("pass", "info", 0.0, "no personal data found")
        counts = Counter(e.data["kind"] for e in evidence)
        found = ", ".join(_plural(n, *_KIND_NAMES[kind]) for kind, n in sorted(counts.items()))
        if personal:
            return CheckOutcome("fail", self.default_severity, float(len(evidence)),
                                f"personal data found: {found}", evidence)
        return CheckOutcome("warn", "low", float(len(evidence)),
                            f"only role email addresses found: {found}", evidence)


# --- length and readability ---------------------------------------------------------------

_WORD = re.compile(r"\w+(?:['’\-]\w+)*")
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s|$)|\n")


def count_syllables(word: str) -> int:
    """English syllables by vowel groups with the usual silent-e, -es, -ed and hiatus fixes.

    Good to about one syllable per long word, which is all a grade level needs.
    """
    w = re.sub(r"[^a-z]", "", word.lower())
    if not w:
        return 0
    if len(w) <= 3:
        return 1
    count = len(re.findall(r"[aeiouy]+", w))
    if w.endswith("e") and not w.endswith(("le", "ee", "ye")):
        count -= 1  # make, shape: silent e ("table", "agree" keep theirs)
    elif w.endswith("es") and not re.search(r"(?:[sxzcg]|[cs]h)es$", w):
        count -= 1  # makes, tones ("boxes", "pages" keep theirs)
    elif w.endswith("ed") and not w.endswith(("ted", "ded")):
        count -= 1  # jumped ("wanted" keeps it)
    # Two vowels heard apart: media, actual, radio (but social, quality, nation).
    count += len(re.findall(r"(?<![ct])ia|(?<![qg])ua|io(?![nu])", w))
    return max(1, count)


def _sentences(text: str) -> list[tuple[int, int]]:
    """Spans of sentences: ended by . ! ? … or a line break (headlines and bullets)."""
    spans = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if _WORD.search(text, start, m.end()):
            spans.append((start, m.end()))
        start = m.end()
    if _WORD.search(text, start):
        spans.append((start, len(text)))
    trimmed = []
    for s, e in spans:
        chunk = text[s:e]
        lead = len(chunk) - len(chunk.lstrip())
        trimmed.append((s + lead, s + len(chunk.rstrip())))
    return trimmed


def flesch_kincaid_grade(text: str) -> float | None:
    """Flesch–Kincaid grade level (at least 0); None for text without words."""
    sentences = _sentences(text)
    words = [w for w in _WORD.findall(text) if re.search(r"[A-Za-z]", w)]
    if not words or not sentences:
        return None
    syllables = sum(count_syllables(w) for w in words)
    grade = 0.39 * len(words) / len(sentences) + 11.8 * syllables / len(words) - 15.59
    return max(0.0, grade)  # very short, plain sentences give negative grades: call it 0


class LengthReadabilityCheck(Check):
    """Word count and Flesch–Kincaid grade against the template's targets."""

    id = "length-readability"
    modalities = ("text",)
    version = "1.0"
    description = ("Compares the word count with the template's minimum and maximum and "
                   "the Flesch–Kincaid grade with its readability target.")
    default_severity = "low"

    def run(self, subject: CheckSubject, context: CheckContext) -> CheckOutcome:
        """Warn when out of target; the score is the grade level."""
        text = subject_text(subject)
        n_words = len(_WORD.findall(text))
        grade = flesch_kincaid_grade(text)
        score = round(grade, 2) if grade is not None else None
        shown = f"grade {grade:.1f}" if grade is not None else "no readable sentences"
        described = f"{_plural(n_words, 'word')}, {shown}"
        if context.min_words is None and context.max_words is None and context.max_grade is None:
            return CheckOutcome("pass", "info", score,
                                f"no length or readability targets set; {described}")
        whole = (0, len(text))
        evidence = []
        if context.min_words is not None and n_words < context.min_words:
            evidence.append(Evidence(
                f"{_plural(n_words, 'word')}; the target is at least {context.min_words}",
                span=whole, data={"words": n_words, "min_words": context.min_words}))
        if context.max_words is not None and n_words > context.max_words:
            evidence.append(Evidence(
                f"{_plural(n_words, 'word')}; the target is at most {context.max_words}",
                span=whole, data={"words": n_words, "max_words": context.max_words}))
        if context.max_grade is not None and grade is not None and grade > context.max_grade:
            sentences = _sentences(text)
            longest = max(sentences, key=lambda s: len(_WORD.findall(text[s[0]:s[1]])))
            evidence.append(Evidence(
                f"reading grade {grade:.1f} is above the target {context.max_grade:g}; "
                f"the longest sentence has {len(_WORD.findall(text[slice(*longest)]))} words",
                span=longest, data={"grade": round(grade, 2), "max_grade": context.max_grade}))
        if evidence:
            return CheckOutcome("warn", self.default_severity, score,
                                f"outside the template's targets: {described}", evidence)
        return CheckOutcome("pass", "info", score, f"within the template's targets: {described}")


# --- profanity ----------------------------------------------------------------------------

#: Deliberately short: obvious English profanity only. Strong words fail; mild ones warn,
#: since "damn good coffee" can be an intended voice. Evasions such as "f*ck" are out of
#: scope. Projects add their own words as banned terms.
PROFANITY_STRONG = (
    "fuck", "motherfucker", "shit", "bullshit", "shitty", "bitch", "bastard", "asshole",
    "arsehole", "cunt", "dickhead", "piss", "pissed off", "wanker", "twat", "bollocks",
    "douchebag", "slut", "whore", "jackass",
)
PROFANITY_MILD = ("damn", "dammit", "goddamn", "crap", "crappy", "bloody hell", "arse")
_PROFANITY = TermMatcher(PROFANITY_STRONG + PROFANITY_MILD)
_MILD = frozenset(PROFANITY_MILD)


class ProfanityCheck(Check):
    """Built-in profanity list, matched like banned terms (whole word, inflections)."""

    id = "profanity"
    modalities = ("text",)
    version = "1.0"
    description = "Finds profanity: strong words fail, mild ones ('damn', 'crap') warn."
    default_severity = "medium"

    def run(self, subject: CheckSubject, context: CheckContext) -> CheckOutcome:
        """Fail on strong profanity, warn on mild; one evidence item per occurrence."""
        hits = _drop_contained(_PROFANITY.find(subject_text(subject)))
        evidence = []
        for hit in hits:
            mild = hit.term in _MILD
            evidence.append(Evidence(
                f"{_quote(hit.matched)} is {'mild ' if mild else ''}profanity",
                span=(hit.start, hit.end),
                data={"term": hit.term, "tier": "mild" if mild else "strong"}))
        if not evidence:
            return CheckOutcome("pass", "info", 0.0, "no profanity found")
        strong = sum(e.data["tier"] == "strong" for e in evidence)
        if strong:
            return CheckOutcome("fail", self.default_severity, float(len(evidence)),
                                f"{_plural(len(evidence), 'profane word')} found", evidence)
        return CheckOutcome("warn", "low", float(len(evidence)),
                            f"{_plural(len(evidence), 'mildly profane word')} found", evidence)
