"""Delivery states and the events an endpoint may subscribe to."""

from django.db import models


class DeliveryStatus(models.TextChoices):
    """Where one delivery stands; ``retrying`` has a ``next_retry_at``."""

    PENDING = "pending", "Waiting to be sent"
    RETRYING = "retrying", "Will try again"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Gave up"


class WebhookEvent(models.TextChoices):
    """What an endpoint hears about (a test ping is always allowed)."""

    ASSET_SIGNED = "asset.signed", "An asset was approved and signed"


PING = "ping"
