"""The webhooks publisher: POST a signed JSON event to each endpoint an owner added.

Only the wire protocol lives here (payload, HMAC signature, HTTP, what counts as worth
retrying); the endpoints, their secrets, the delivery log, backoff, address checks and
audit events are the platform's (``governance.publishing``), which hands each destination
over as a ``PublishTarget``. Redirects are not followed: an endpoint that answers 3xx is
told apart from one that answers 2xx, and a redirect cannot lead a request elsewhere.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

from assay import (
    PublishAttempt,
    PublishedAsset,
    Publisher,
    PublishOutcome,
    PublishTarget,
    hookimpl,
)
from plugins.webhooks import signature

ASSAY_API = ">=1,<2"
USER_AGENT = "Assay-Webhooks/1"
#: Most bytes of an answer read back (for the log's error text).
ANSWER_BYTES = 2000


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # noqa: D102
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def payload(asset: PublishedAsset | None, attempt: PublishAttempt) -> dict[str, Any]:
    """The JSON body: the event, and for an asset what it is and where to fetch it."""
    body: dict[str, Any] = {
        "id": attempt.event_id, "type": attempt.event,
        "created": datetime.fromtimestamp(attempt.timestamp, UTC).isoformat(),
    }
    if asset is not None:
        body["data"] = {
            "asset": {"id": asset.asset_id, "project": asset.project, "sha256": asset.sha256,
                      "media_type": asset.media_type, "size": asset.size,
                      "signed_at": asset.signed_at, "download_path": asset.download_path,
                      "sidecar_path": asset.sidecar_path},
            "credentials": asset.credentials,
        }
    else:
        body["data"] = {"message": "A test ping from Assay: this endpoint is reachable."}
    return body


def _retryable(code: int) -> bool:
    return code >= 500 or code in (408, 429)


class WebhookPublisher(Publisher):
    """Signed JSON POSTs to the project's webhook endpoints."""

    id = "webhooks"
    description = "Announce approved, signed assets to your own systems with signed webhooks."
    owner_endpoints = True

    def publish(self, asset: PublishedAsset | None, target: PublishTarget,
                attempt: PublishAttempt) -> PublishOutcome:
        """One POST; 2xx is delivered, 5xx/408/429 and network errors are retried."""
        body = json.dumps(payload(asset, attempt), separators=(",", ":"),
                          sort_keys=True).encode()
        request = urllib.request.Request(target.url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": USER_AGENT,
            signature.HEADER: signature.sign(target.secret, attempt.timestamp, body),
            "Assay-Delivery": attempt.delivery_id, "Assay-Event": attempt.event,
        })
        timeout = float(target.options.get("timeout", 10))
        try:
            with _OPENER.open(request, timeout=timeout) as answer:
                code = answer.status
        except urllib.error.HTTPError as exc:
            text = exc.read(ANSWER_BYTES).decode("utf-8", "replace").strip()
            return PublishOutcome(ok=False, status_code=exc.code, retry=_retryable(exc.code),
                                  error=f"The endpoint answered {exc.code} {exc.reason}"
                                        + (f": {text[:200]}" if text else "."))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            return PublishOutcome(ok=False, retry=True,
                                  error=f"Could not reach the endpoint: {reason}.")
        if 200 <= code < 300:
            return PublishOutcome(ok=True, status_code=code)
        return PublishOutcome(ok=False, status_code=code, retry=False,
                              error=f"The endpoint answered {code}, not a 2xx.")


@hookimpl
def register_publishers() -> list[type[Publisher]]:
    """The webhooks publisher."""
    return [WebhookPublisher]


__all__ = ("WebhookPublisher", "payload", "register_publishers")
