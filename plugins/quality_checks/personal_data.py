"""Personal data that should not be published: emails, phone numbers, cards and IBANs."""

from __future__ import annotations

import re
from collections import Counter

from assay import Check, CheckContext, CheckOutcome, CheckSubject, Evidence
from plugins.quality_checks.checksums import iban_valid, luhn_valid
from plugins.quality_checks.triggers import CURRENCY_CODES, CURRENCY_SYMBOLS
from plugins.quality_checks.wording import plural, subject_text

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
_CURRENCY_NEAR = re.compile(rf"[{CURRENCY_SYMBOLS}]|\b(?:{CURRENCY_CODES})\b", re.IGNORECASE)
_CARD_CANDIDATE = re.compile(r"(?<![\w\-.])\d(?:[ \-]?\d){12,18}(?![\w\-]|[.,]\d)")
_IBAN_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ \u00a0]?[A-Z0-9]){11,30}")
_KIND_NAMES = {"email": ("email address", "email addresses"),
               "phone": ("phone number", "phone numbers"),
               "card": ("card number", "card numbers"), "iban": ("IBAN", "IBANs")}


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
        found = ", ".join(plural(n, *_KIND_NAMES[kind]) for kind, n in sorted(counts.items()))
        if personal:
            return CheckOutcome("fail", self.default_severity, float(len(evidence)),
                                f"personal data found: {found}", evidence)
        return CheckOutcome("warn", "low", float(len(evidence)),
                            f"only role email addresses found: {found}", evidence)
