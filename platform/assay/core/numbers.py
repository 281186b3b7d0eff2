"""Whole numbers typed as text, read one way everywhere.

``str.isdigit()`` is true for "²" and for 5,000-digit strings, which ``int()`` then
refuses or turns into a number no column can hold: both were 500s. Every place that reads
an id, an offset or a count from text (query strings, forms, plugin parameters, slugs
that may be ids) uses these. No Django here: the plugin API uses it too.
"""

from __future__ import annotations

import re
from typing import Any

#: PostgreSQL's bigint: larger integers cannot be stored or compared.
BIGINT_MAX = 2**63 - 1

_WHOLE = re.compile(r"-?[0-9]{1,19}")


def parse_whole(value: Any) -> int | None:
    """``value`` as an int when it is ASCII digits (an optional minus sign, at most 19
    digits, within bigint) or already an int (not a bool); otherwise None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -BIGINT_MAX <= value <= BIGINT_MAX else None
    if not isinstance(value, str) or not _WHOLE.fullmatch(value.strip()):
        return None
    number = int(value.strip())
    return number if -BIGINT_MAX <= number <= BIGINT_MAX else None


def parse_id(value: Any) -> int | None:
    """A primary key from text or an int: a whole number of 1 or more, else None."""
    number = parse_whole(value)
    return number if number is not None and number >= 1 else None
