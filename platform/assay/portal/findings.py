"""Check evidence as sentences an editor understands, for the review page.

A check stores its evidence as data (``fact_id``, ``similarity``, ``spans``, ``kind`` …)
plus a short message written for logs and REST clients. The review page shows each
finding as one sentence built from that data, per check kind ("“cheap” is a banned term;
try “affordable”."), falling back to the check's own message; the raw fields stay in a
"Details" fold. Statuses are words ("Passed", "Needs a look", "Failed"), and a finding
carries its OWN status where the evidence says one (a supported claim passes even when
the factuality check as a whole warns about another claim).

Also here: numbering the findings in reading order and marking their spans in the text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

__all__ = ("CHECK_NAMES", "Finding", "check_name", "findings", "highlight", "region_style",
           "severity_word", "status_word")

#: What editors call each first-party check; other checks get their id in words.
CHECK_NAMES = {
    "factuality": "Approved facts",
    "banned-terms": "Banned terms",
    "required-disclaimers": "Required disclaimers",
    "personal-data": "Personal data",
    "profanity": "Profanity",
    "length-readability": "Length and readability",
    "min-resolution": "Image size",
    "blank-image": "Blank image",
    "noise-image": "Noise image",
    "near-duplicate": "Near-duplicate image",
    "audio-duration": "Length of the audio",
    "audio-clipping": "Distortion (clipping)",
    "audio-silence": "Silences",
    "audio-loudness": "Loudness",
    "speech-script": "Spoken words match the script",
    "video-duration": "Length and frame rate",
    "video-black-frames": "Black frames",
    "video-frozen-frames": "Frozen frames",
    "video-resolution": "Video size",
    "video-frames-blank": "Blank frames",
    "video-frames-noise": "Noise frames",
    "script-banned-terms": "Banned terms in the script",
    "script-disclaimers": "Required disclaimers in the script",
}
STATUS_WORDS = {"pass": "Passed", "warn": "Needs a look", "fail": "Failed"}
SEVERITY_WORDS = {"info": "For information", "low": "Minor", "medium": "Moderate",
                  "high": "Serious", "critical": "Critical"}
#: A factuality verdict as a finding status, for evidence stored before it carried one.
VERDICT_STATUS = {"supported": "pass", "contradicted": "fail", "unsupported": "warn"}
#: Worst first: a span covered by several findings is coloured by the worst of them.
_STATUS_RANK = {"fail": 0, "warn": 1, "pass": 2}
_PERSONAL = {"email": "an e-mail address", "phone": "a phone number",
             "card": "a payment card number", "iban": "a bank account number (IBAN)"}


def check_name(check_id: str) -> str:
    """The check's name in words ("banned-terms" → "Banned terms")."""
    return CHECK_NAMES.get(check_id) or (check_id.replace("-", " ").replace("_", " ")
                                         .strip().capitalize() or "Check")


def status_word(status: str) -> str:
    """pass / warn / fail in words."""
    return STATUS_WORDS.get(status, status.replace("_", " ").capitalize())


def severity_word(severity: str) -> str:
    """info … critical in words."""
    return SEVERITY_WORDS.get(severity, severity.capitalize())


@dataclass
class Finding:
    """One piece of check evidence, numbered so the text marker and the list agree."""

    number: int
    check_id: str
    #: This finding's own pass / warn / fail (the evidence's, else the check's).
    status: str
    severity: str
    #: What the check itself wrote (kept for the Details fold and the fallback).
    message: str
    sentence: str = ""
    span: tuple[int, int] | None = None
    quote: str = ""
    region: tuple[int, int, int, int] | None = None
    region_style: str = ""
    data: list[tuple[str, str, str]] = field(default_factory=list)  # key, text, safe URL
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def check_name(self) -> str:
        """The check in words."""
        return check_name(self.check_id)

    @property
    def status_word(self) -> str:
        """Passed / Needs a look / Failed."""
        return status_word(self.status)

    @property
    def source_url(self) -> str:
        """The factuality source as a link target, when it is an http(s) URL."""
        return safe_url(self.raw.get("source"))

    @property
    def verdict_word(self) -> str:
        """A factuality verdict in words ("Supported by an approved fact")."""
        return {"supported": "Supported", "contradicted": "Contradicted",
                "unsupported": "Not backed by a fact"}.get(
            str(self.raw.get("verdict", "")), str(self.raw.get("verdict", "")).capitalize())


def safe_url(value: Any) -> str:
    """Only http(s) links are rendered as links (never javascript: or data:)."""
    text = str(value or "")
    return text if text.startswith(("https://", "http://")) else ""


def _span(value: Any, length: int) -> tuple[int, int] | None:
    if (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            and 0 <= value[0] < value[1] <= length):
        return value[0], value[1]
    return None


def _region(value: Any, width: int | None, height: int | None) -> tuple[int, int, int, int] | None:
    if (isinstance(value, (list, tuple)) and len(value) == 4
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
            and value[2] and value[3]):
        x, y, w, h = value
        if not width or not height or (x + w <= width and y + h <= height):
            return x, y, w, h
    return None


def region_style(region: Any, width: int | None, height: int | None) -> str:
    """``left:…%;top:…%;width:…%;height:…%`` for ``portal/sizes.js`` (CSP: no style="")."""
    box = _region(region, width, height)
    if not box or not width or not height:
        return ""
    x, y, w, h = box
    return (f"left:{100 * x / width:.2f}%;top:{100 * y / height:.2f}%;"
            f"width:{100 * w / width:.2f}%;height:{100 * h / height:.2f}%")


# -- sentences -----------------------------------------------------------------------------
def _q(text: Any) -> str:
    return f"\u201c{' '.join(str(text).split())}\u201d"


def _or(items: Iterable[Any]) -> str:
    words = [_q(i) for i in items]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _full_stop(text: str) -> str:
    """End with a full stop, unless a quotation already ends with one ("… 24 hours.”")."""
    return text if text.endswith((".\u201d", "!\u201d", "?\u201d", ".", "!", "?")) else text + "."


def _end(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?”\u201d" else text + "."


_SAYS = re.compile(r"says (.+?); the approved fact says (.+?)(?=; says |$)")
_NOTE = {"said so until": "said this until", "says so only from": "says this only from"}
_EXPIRED = re.compile(r"\s*\(fact \S+ (?P<why>said so until|says so only from) "
                      r"(?P<when>\d{4}-\d{2}-\d{2})\)")


def _factuality(d: dict[str, Any], quote: str, status: str) -> str:
    verdict, claim = d.get("verdict"), d.get("claim") or quote
    reason = str(d.get("reason") or "")
    reason = _EXPIRED.sub(lambda m: f" (an approved fact {m['why']} {m['when']})", reason)
    fact = d.get("fact")
    if verdict == "supported":
        return (_full_stop(f"{_q(claim)} matches the approved fact {_q(fact)}") if fact
                else f"{_q(claim)} is supported by the approved facts.")
    if verdict == "contradicted":
        note = _EXPIRED.search(str(d.get("reason") or ""))
        pairs = _SAYS.findall(reason.split(" (an approved fact")[0])
        if pairs:
            said = " ".join(f"The text says {ours}, the approved fact says {theirs}."
                            for ours, theirs in pairs)
            return said + (f" An approved fact {_NOTE[note['why']]} {note['when']}." if note
                           else "")
        return _full_stop(f"{_q(claim)} contradicts the approved fact {_q(fact)}: {reason}"
                          if fact else f"{_q(claim)} contradicts an approved fact: {reason}")
    if verdict == "unsupported":
        if reason.startswith("no approved fact"):
            return _end(f"{reason} (in {_q(claim)})")
        if reason:
            return _full_stop(f"No approved fact backs {_q(claim)}: {reason}")
        return _full_stop(f"No approved fact backs {_q(claim)}")
    return ""


def _banned(d: dict[str, Any], quote: str, status: str) -> str:
    term, matched = d.get("term"), d.get("matched") or quote
    if not term:
        return ""
    said = (f"{_q(matched)} is a banned term" if str(matched).lower() == str(term).lower()
            else f"{_q(matched)} is a form of the banned term {_q(term)}")
    alternatives = [a for a in d.get("alternatives") or [] if isinstance(a, str) and a]
    return f"{said}; try {_or(alternatives)}." if alternatives else f"{said}; rephrase it."


def _personal(d: dict[str, Any], quote: str, status: str) -> str:
    kind = _PERSONAL.get(str(d.get("kind")))
    if not kind:
        return ""
    if d.get("role_address"):
        return ("Contains a shared e-mail address (such as hello@…); check it is meant to be "
                "published.")
    return f"Contains what looks like {kind}."


def _disclaimer(d: dict[str, Any], quote: str, status: str) -> str:
    disclaimer = d.get("disclaimer")
    if not disclaimer:
        return ""
    if "occurrences" in d or quote:
        return f"{_q(quote)} needs the disclaimer {_q(disclaimer)}, which is missing."
    return f"A rule for the disclaimer {_q(disclaimer)} could not be applied; tell the owner."


def _profanity(d: dict[str, Any], quote: str, status: str) -> str:
    word = d.get("term") or quote
    if not word:
        return ""
    return f"{_q(quote or word)} is {'mild ' if d.get('tier') == 'mild' else ''}profanity."


def _readability(d: dict[str, Any], quote: str, status: str) -> str:
    if "min_words" in d:
        return f"The text has {d.get('words')} words; the target is at least {d['min_words']}."
    if "max_words" in d:
        return f"The text has {d.get('words')} words; the target is at most {d['max_words']}."
    if "max_grade" in d:
        return (f"The text is harder to read than the target (grade {d.get('grade')}, at most "
                f"{d['max_grade']} wanted); the longest sentence is marked.")
    return ""


def _resolution(d: dict[str, Any], quote: str, status: str) -> str:
    if "min_width" not in d:
        return ""
    return (f"The image is {d.get('width')}×{d.get('height')} pixels; the project needs at "
            f"least {d['min_width']}×{d['min_height']}.")


def _blank(d: dict[str, Any], quote: str, status: str) -> str:
    if status == "fail":
        return "The image is blank or almost a single colour."
    return "The image has very little detail; check it shows what was asked for."


def _duplicate(d: dict[str, Any], quote: str, status: str) -> str:
    return ("The image looks almost the same as an image already approved in this project."
            if "distance" in d else "")


#: Check id → sentence from (evidence data, quoted text, finding status); "" = fall back.
SENTENCES: dict[str, Callable[[dict[str, Any], str, str], str]] = {
    "factuality": _factuality, "banned-terms": _banned, "personal-data": _personal,
    "required-disclaimers": _disclaimer, "profanity": _profanity,
    "length-readability": _readability, "min-resolution": _resolution,
    "blank-image": _blank, "near-duplicate": _duplicate,
}


def sentence(check_id: str, data: dict[str, Any], quote: str, status: str,
             message: str) -> str:
    """The finding in words: the check kind's sentence, else the check's own message."""
    maker = SENTENCES.get(check_id)
    try:
        said = maker(data, quote, status) if maker else ""
    except (KeyError, TypeError, ValueError, AttributeError):
        said = ""  # evidence in an unexpected shape: the check's own words still serve
    return said or _end(message) or "The check points here."


# -- building the list ---------------------------------------------------------------------
def _own_status(result_status: str, data: dict[str, Any]) -> str:
    """The evidence's own status when it gives one (or a verdict), else the check's."""
    own = data.get("status")
    if own in STATUS_WORDS:
        return str(own)
    return VERDICT_STATUS.get(str(data.get("verdict")), result_status)


def findings(results: Iterable[Any], text: str, width: int | None,
             height: int | None) -> list[Finding]:
    """Every evidence item of every result, numbered in reading order (text spans first).

    ``results`` are check results (``check_id``, ``status``, ``severity``, ``evidence``).
    """
    items: list[Finding] = []
    for result in results:
        for ev in result.evidence if isinstance(result.evidence, list) else []:
            if not isinstance(ev, dict):
                continue
            data = ev.get("data") if isinstance(ev.get("data"), dict) else {}
            span = _span(ev.get("span"), len(text))
            region = _region(ev.get("region"), width, height)
            quote = text[span[0]:span[1]] if span else ""
            status = _own_status(result.status, data)
            message = str(ev.get("message", ""))
            items.append(Finding(
                number=0, check_id=result.check_id, status=status,
                severity=result.severity, message=message,
                sentence=sentence(result.check_id, data, quote, status, message),
                span=span, quote=quote, region=region,
                region_style=region_style(region, width, height), raw=data,
                data=[(str(k), v if isinstance(v, str) else json.dumps(v), safe_url(v))
                      for k, v in data.items()]))
    items.sort(key=lambda f: (f.span is None, f.span or (0, 0)))
    for number, item in enumerate(items, start=1):
        item.number = number
    return items


def highlight(text: str, items: list[Finding]) -> SafeString:
    """The text with each finding's span in a <mark> and a numbered link to the finding.

    Overlapping spans are cut at every boundary, so each piece is marked once with all the
    findings that cover it. Every piece of the text is escaped before it is joined; the
    only markup in the result is the fixed tags below.
    """
    spanned = [f for f in items if f.span]
    bounds = sorted({0, len(text)} | {f.span[0] for f in spanned if f.span}
                    | {f.span[1] for f in spanned if f.span})
    pieces: list[str] = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        covering = [f for f in spanned if f.span and f.span[0] <= start and end <= f.span[1]]
        if covering:
            worst = min((f.status for f in covering), key=lambda s: _STATUS_RANK.get(s, 3))
            pieces.append(format_html(
                '<mark class="ev ev-{}" title="{}" data-findings="{}">{}</mark>', worst,
                " ".join(f"{f.number}. {f.sentence}" for f in covering),
                " ".join(str(f.number) for f in covering), text[start:end]))
        else:
            pieces.append(escape(text[start:end]))
        for f in spanned:
            if f.span and f.span[1] == end:
                pieces.append(format_html(
                    '<sup class="ev-marker"><a href="#finding-{}" id="finding-{}-in-text" '
                    'aria-label="Finding {}">{}</a></sup>', f.number, f.number, f.number,
                    f.number))
    return mark_safe("".join(pieces))  # noqa: S308 - every piece above is escaped
