"""The ``Assay-Signature`` header: HMAC-SHA256 over ``<timestamp>.<body>``.

Receivers recompute it with their endpoint's secret, compare in constant time and refuse
a timestamp too far from their clock (replays). The timestamp is taken per attempt, so a
retried delivery is not refused as stale.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Assay-Signature"
#: A receiver's default tolerance for the timestamp, in seconds.
TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header value ``t=<unix>,v1=<hex>`` for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, *, now: int,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` at a time within ``tolerance``."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
