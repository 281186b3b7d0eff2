"""Builders shared by the review-page tests (words, markup, browser): image and text reviews
with the check results asked for, opened through the review policy."""

from __future__ import annotations

import hashlib
import io
import itertools
import re
from typing import Any

from django.core.files.base import ContentFile
from PIL import Image

from assay.studio.models import Asset, Project
from governance.review import workflow
from governance.review.models import CheckResult, Review

_counter = itertools.count(1)


def image_asset(project: Project, creator: Any, *, width: int = 400,
                height: int = 300) -> Asset:
    """A stored PNG asset (unique bytes) with its recorded size."""
    n = next(_counter)
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (n % 256, 120, 160)).save(buffer, format="PNG")
    data = buffer.getvalue()
    asset = Asset(project=project, kind="image", media_type="image/png", byte_size=len(data),
                  sha256=hashlib.sha256(data).hexdigest(), width=width, height=height,
                  created_by=creator)
    asset.file.save(f"review-words-{n}.png", ContentFile(data), save=False)
    asset.save()
    return asset


def text_asset(project: Project, creator: Any, text: str) -> Asset:
    data = text.encode()
    return Asset.objects.create(project=project, kind="text", media_type="text/plain",
                                text=text, byte_size=len(data),
                                sha256=hashlib.sha256(data).hexdigest(), created_by=creator)


def result(asset: Asset, check_id: str, status: str, evidence: list[dict[str, Any]], *,
           severity: str = "low", summary: str = "") -> CheckResult:
    return CheckResult.objects.create(
        asset=asset, project=asset.project, content_sha256=asset.sha256, check_id=check_id,
        check_version="1", status=status, severity=severity,
        summary=summary or "see the findings",
        evidence=evidence)


def open_review(asset: Asset, by: Any) -> Review:
    return workflow.open_review(asset, submitted_by=by)


#: Raw field names and codes that must never be read outside a Details fold.
RAW = re.compile(r"\b(?:fact_id|closest_fact_id|similarity|spans?|check_id|severity|"
                 r"self-review|overrides|sha256|warn|fail|pass|in_review|dummy-words|"
                 r"factuality|banned-terms|personal-data)\b|\{check id", re.I)


def visible_text(html: str) -> str:
    """The page's text with every <details> fold, script, style and tag removed."""
    html = re.sub(r"<details\b.*?</details>", " ", html, flags=re.S)
    html = re.sub(r"<(script|style|head)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return " ".join(html.split())
