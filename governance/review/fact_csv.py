"""The fact library as CSV: export it, and import it all or nothing with per-row errors.

Import is all-or-nothing on purpose: a library half imported is one the owner has to
compare line by line against the file. Every row is checked with the rules the fact
library's service applies (:func:`governance.review.brand.replace_facts` checks them again
when it writes), and a file with any bad row changes nothing and says, row by row, what to
fix. Row numbers are the spreadsheet's (the header is row 1).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from assay.accounts.choices import Capability
from assay.core.exceptions import InvalidInput
from assay.studio.models import Project
from assay.studio.services.projects import require_capability
from governance.review import brand
from governance.review.models import ApprovedFact

COLUMNS = ("statement", "source_url", "valid_from", "valid_until")
#: Largest file accepted, and most rows (the library's own limit is 1000 facts).
MAX_BYTES = 1_000_000
MAX_ROWS = 1000
MODES = ("add", "replace")
_URL = URLValidator(["http", "https"])


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_rows(project: Project) -> Iterator[str]:
    """The project's facts as CSV lines (header first), oldest first."""
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for fact in ApprovedFact.objects.filter(project=project).order_by("pk"):
        yield writer.writerow([_safe(fact.statement), fact.source_url,
                               fact.valid_from or "", fact.valid_until or ""])


def _safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _unsafe(text: str) -> str:
    """Undo :func:`_safe`, so an exported file imports back unchanged."""
    return text[1:] if text[:2] in ("'=", "'+", "'-", "'@", "'\t", "'\r") else text


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"The file is larger than {MAX_BYTES // 1000} kB; split it.",
                           errors={"file": ["too large"]})
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("The file is not UTF-8 text; save it from your spreadsheet as "
                           "“CSV UTF-8”.", errors={"file": ["not UTF-8"]}) from None


def _row_problems(row: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The fact a row describes, and what is wrong with it, in words."""
    item = {"statement": _unsafe((row.get("statement") or "").strip()),
            "source_url": (row.get("source_url") or "").strip(),
            "valid_from": (row.get("valid_from") or "").strip() or None,
            "valid_until": (row.get("valid_until") or "").strip() or None}
    problems = []
    if len(item["statement"]) > 2000:
        problems.append("the statement is longer than 2000 characters")
    if item["source_url"]:
        try:
            _URL(item["source_url"])
        except ValidationError:
            problems.append(f"the source “{item['source_url'][:80]}” is not a web address "
                            "(http:// or https://)")
    try:
        brand.clean_facts(Project(), [item])  # the library's own rules: statement, dates
    except InvalidInput as exc:
        problems.append(_words(exc.message))
    return item, problems


def _words(message: str) -> str:
    """The service's message without its list index (the row number says where)."""
    text = message.split("] ", 1)[-1] if message.startswith("facts[") else message
    text = text.replace("facts.0.valid_from", "the start date")
    text = text.replace("facts.0.valid_until", "the end date")
    return text.rstrip(".")


def parse(data: bytes) -> tuple[list[dict[str, Any]], dict[int, list[str]]]:
    """Rows as facts, and the problems of each bad row by its spreadsheet row number."""
    reader = csv.DictReader(io.StringIO(_decode(data)))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "statement" not in header:
        raise InvalidInput("The first row must name the columns: statement, source_url, "
                           "valid_from, valid_until (only statement is required).",
                           errors={"file": ["no statement column"]})
    unknown = sorted(set(header) - set(COLUMNS) - {""})
    if unknown:
        raise InvalidInput(f"Unknown column {', '.join(unknown[:5])}; the columns are "
                           f"{', '.join(COLUMNS)}.", errors={"file": ["unknown column"]})
    reader.fieldnames = header
    facts: list[dict[str, Any]] = []
    errors: dict[int, list[str]] = {}
    for number, row in enumerate(reader, start=2):
        if len(facts) + len(errors) >= MAX_ROWS:
            raise InvalidInput(f"The file has more than {MAX_ROWS} rows; split it.",
                               errors={"file": ["too many rows"]})
        if None in row:
            errors[number] = ["it has more cells than the header has columns"]
            continue
        if not any((v or "").strip() for v in row.values()):
            continue  # a blank line
        item, problems = _row_problems(row)
        if problems:
            errors[number] = problems
        else:
            facts.append(item)
    return facts, errors


@transaction.atomic
def import_facts(user: Any, project: Project, data: bytes, *, mode: str = "add") -> int:
    """Import a CSV file into the fact library, all or nothing.

    Args:
        mode: ``add`` keeps the library and adds the rows; ``replace`` makes the file the
            whole library.

    Returns:
        How many rows were imported.

    Raises:
        InvalidInput: any bad row (``errors`` holds ``row N`` → its problems); nothing is
            stored.
    """
    require_capability(user, project, Capability.MANAGE, doing="import approved facts")
    if mode not in MODES:
        raise InvalidInput("Choose add or replace.", errors={"mode": ["add or replace"]})
    facts, errors = parse(data)
    if errors:
        rows = ", ".join(str(n) for n in sorted(errors)[:10])
        raise InvalidInput(f"Nothing was imported: {len(errors)} row(s) need fixing "
                           f"(row {rows}).",
                           errors={f"row {n}": problems for n, problems in errors.items()})
    if not facts:
        raise InvalidInput("The file has no facts below its header row.",
                           errors={"file": ["no rows"]})
    kept = [] if mode == "replace" else [
        {"statement": f.statement, "source_url": f.source_url, "valid_from": f.valid_from,
         "valid_until": f.valid_until}
        for f in ApprovedFact.objects.filter(project=project).order_by("pk")]
    if len(kept) + len(facts) > MAX_ROWS:
        raise InvalidInput(f"The library would hold more than {MAX_ROWS} facts; replace it "
                           "instead, or remove some first.", errors={"file": ["too many"]})
    brand.replace_facts(user, project, kept + facts)
    return len(facts)
