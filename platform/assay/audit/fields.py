"""A JSON field stored as canonical text, so the bytes the hash chain covers never move.

PostgreSQL's ``jsonb`` re-orders keys and re-spaces on the way out, and SQLite's JSON
text keeps whatever ``json.dumps`` wrote; neither is the canonical form the chain hashes.
Storing the canonical text itself (sorted keys, no whitespace) makes the stored bytes the
hashed bytes on every backend, and lets the database build the canonical record with
plain string concatenation when it verifies.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 kept as is, NaN and Infinity refused."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


class CanonicalJSONField(models.TextField):
    """Holds any JSON-ready value; the column is text in canonical form.

    Lookups compare that text (``exact``, ``contains``); nothing filters audit data by
    key, and the columns auditors filter on are real columns.
    """

    description = "JSON stored as canonical text"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        """Parse on the way out of the database."""
        return None if value is None else json.loads(value)

    def to_python(self, value: Any) -> Any:
        """Values are already Python objects; forms never edit audit rows."""
        return value

    def get_prep_value(self, value: Any) -> Any:
        """Serialise canonically on the way in (None stays NULL)."""
        return None if value is None else canonical_json(value)

    def value_to_string(self, obj: models.Model) -> Any:
        """Serialisers (dumpdata) nest the value as JSON, as they do for JSONField."""
        return self.value_from_object(obj)
