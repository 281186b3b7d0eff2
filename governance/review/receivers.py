"""Start the checks when the generation runtime stores assets."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from assay.studio.signals import assets_stored
from governance.review.dispatch import queue_checks


@receiver(assets_stored)
def _check_new_assets(sender: Any, asset_ids: list[str], **kwargs: Any) -> None:
    queue_checks(asset_ids)
