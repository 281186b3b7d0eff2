"""Sign an asset once its final approval has committed."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from governance.provenance.dispatch import queue_signing
from governance.review.signals import asset_approved


@receiver(asset_approved)
def _sign_on_approval(sender: Any, review: Any, **kwargs: Any) -> None:
    queue_signing(str(review.asset_id), review.pk)
