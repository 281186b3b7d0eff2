"""A verification report in the words the Verify page shows.

``governance.provenance.verify.Report`` is written for REST clients: a state code, a
summary dict (nested under ``claimed_by_untrusted_signer`` when the signer is not trusted)
and failure codes. This module turns it into a verdict, facts as label/value pairs,
approvals and earlier versions as sentences, and keeps the raw values for the "Details"
fold. A fact of a file that is not trusted is always worded as a claim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime

from assay.plugins.manager import get_plugins
from assay.portal.findings import check_name, status_word
from assay.portal.forms import generator_label
from governance.provenance.summary import CLAIMED
from governance.provenance.verify import Report

__all__ = ("Verdict", "describe")

#: state → (title, badge class). The sentence under it is the service's headline.
TITLES = {
    "trusted": ("Trusted Content Credentials", "badge-tone-ok"),
    "valid": ("Content Credentials from an unknown signer", "badge-tone-warn"),
    "invalid": ("Content Credentials do not match this file", "badge-tone-bad"),
    "none": ("No Content Credentials", "badge-superseded"),
}
KINDS = {"image/png": "PNG image", "image/jpeg": "JPEG image", "image/webp": "WebP image",
         "image/gif": "GIF image", "image/tiff": "TIFF image", "image/avif": "AVIF image",
         "image/svg+xml": "SVG image", "application/pdf": "PDF document",
         "video/mp4": "MP4 video", "audio/mpeg": "MP3 audio", "audio/wav": "WAV audio",
         "audio/flac": "FLAC audio", "audio/ogg": "Ogg audio", "audio/mp4": "M4A audio",
         "text/plain": "Text", "text/markdown": "Markdown text"}
_ROLES = {"reviewer": "reviewer", "owner": "project owner", "creator": "creator",
          "admin": "administrator"}


@dataclass
class Verdict:
    """What the page shows about one verified file."""

    state: str
    title: str
    badge: str
    headline: str
    confirmed: bool
    file_kind: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    approvals: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    history: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)


def _when(value: Any) -> str:
    """An ISO time as "12 June 2025, 14:03 UTC" (the text itself when it is not one)."""
    moment = parse_datetime(str(value)) if value else None
    if not isinstance(moment, datetime):
        return str(value or "")
    return moment.strftime("%-d %B %Y, %H:%M") + (" UTC" if moment.utcoffset() is not None
                                                   and not moment.utcoffset() else "")


def _made_with(facts: dict[str, Any]) -> str:
    """The generator in words (the installed plugin's label), never its id."""
    generator = facts.get("generator") or {}
    cls = get_plugins().generators.get(str(generator.get("name") or ""))
    words = generator_label(cls) if cls is not None else "an AI generator"
    version = generator.get("version")
    return f"{words} (version {version})" if version else words


def _facts(facts: dict[str, Any], claimed: bool) -> list[tuple[str, str]]:
    signer = facts.get("signed_by") or {}
    who = signer.get("common_name") or "a certificate without a name"
    if signer.get("issuer"):
        who += f", issued by {signer['issuer']}"
    rows = [("Signed by", who)]
    if facts.get("signed_at"):
        source = ("a trusted timestamp" if facts.get("signed_at_source") == "timestamp authority"
                  else "the signer's own clock; no trusted timestamp")
        rows.append(("Signed on", f"{_when(facts['signed_at'])} (from {source})"))
    if facts.get("ai_generated"):
        rows.append(("Made by AI", "Yes: made by a generative AI model"))
        rows.append(("Made with", _made_with(facts)))
        model = facts.get("model") or {}
        if model.get("id"):
            rows.append(("Model", str(model["id"]) + (f", revision {model['revision']}"
                                                       if model.get("revision") else "")))
    else:
        rows.append(("Made by AI", "Not declared as made by AI"))
    prompt = facts.get("prompt") or {}
    if prompt:
        rows.append(("Prompt", f"template “{prompt.get('template', '?')}”, "
                               f"version {prompt.get('version', '?')}"))
    project = facts.get("project") or {}
    if project:
        rows.append(("Project", str(project.get("name") or project.get("slug"))))
    if claimed:
        rows = [(label, f"it says: {value}") for label, value in rows]
    return rows


def _approval(item: dict[str, Any], claimed: bool) -> str:
    role = _ROLES.get(str(item.get("reviewer_role")), str(item.get("reviewer_role") or
                                                            "reviewer"))
    line = (f"{'It says it was approved' if claimed else 'Approved'} at the "
            f"“{item.get('stage') or 'review'}” stage by {item.get('reviewer') or 'a reviewer'}"
            f" ({role}) on {_when(item.get('decided_at'))}")
    overrides = [o for o in item.get("overrides") or [] if isinstance(o, dict)]
    if overrides:
        line += ", past " + "; ".join(
            f"the “{check_name(str(o.get('check_id', '')))}” warning (reason: "
            f"{o.get('reason', '')})" for o in overrides)
    return line + "."


def _history(facts: dict[str, Any]) -> list[str]:
    history = facts.get("history") or []
    if len(history) < 2:
        return []
    return [f"Made from an earlier signed version: {item.get('title') or 'an untitled file'}"
            for item in history[1:]]


def describe(report: Report) -> Verdict:
    """The report as the page shows it; raw codes only in ``details``."""
    title, badge = TITLES.get(report.state, TITLES["invalid"])
    summary = report.summary or {}
    confirmed = bool(summary.get("trusted"))
    key = CLAIMED.get(report.state, CLAIMED["invalid"])[0]
    facts = summary if confirmed else summary.get(key) or {}
    verdict = Verdict(
        state=report.state, title=title, badge=badge, headline=report.headline,
        confirmed=confirmed,
        file_kind=KINDS.get(report.format or "", "A file of a kind this page cannot name"))
    if facts:
        claimed = not confirmed
        verdict.facts = _facts(facts, claimed)
        verdict.approvals = [_approval(a, claimed) for a in facts.get("approvals") or []]
        verdict.checks = [f"{check_name(str(c.get('check_id', '')))}: "
                          f"{status_word(str(c.get('status', '')))}"
                          for c in facts.get("checks") or []]
        verdict.history = _history(facts)
    verdict.problems = list(dict.fromkeys(f["meaning"] for f in report.failures))
    verdict.details = [("Media type", report.format or "not recognised"),
                       ("Size", f"{report.size:,} bytes"), ("SHA-256", report.sha256)]
    if report.manifest_label:
        verdict.details.append(("Manifest", report.manifest_label))
    if report.embedded is not None:
        verdict.details.append(("Stored", "inside the file" if report.embedded
                                else "in the .c2pa sidecar"))
    generator = facts.get("generator") or {}
    if generator:
        verdict.details.append(("Generator id", f"{generator.get('name')} "
                                                f"(plugin {generator.get('plugin')})"))
    if facts.get("digital_source_type"):
        verdict.details.append(("Digital source type", str(facts["digital_source_type"])))
    for failure in report.failures:
        verdict.details.append(("Failure code", f"{failure['code']}: "
                                                f"{failure['explanation']}"))
    return verdict
