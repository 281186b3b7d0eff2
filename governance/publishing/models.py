"""Owners' webhook endpoints and the delivery log (one row per delivery, one per attempt).

A delivery is one (signed asset, publisher, destination, event); its id is the
``Assay-Delivery`` header and stays the same across retries. A manual redelivery is a new
delivery with the same ``event_id``, so receivers can tell a replay from a new event.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from assay.studio.querysets import ProjectScopedQuerySet
from governance.publishing.choices import DeliveryStatus

__all__ = ("Delivery", "DeliveryAttempt", "WebhookEndpoint")


class WebhookEndpoint(models.Model):
    """Where a project's signed assets are announced: a URL and its signing secret.

    The secret is made by the service and shown once, when the endpoint is created; no
    serializer, page, repr or audit event carries it afterwards.
    """

    project = models.ForeignKey("studio.Project", on_delete=models.CASCADE,
                                related_name="webhook_endpoints")
    publisher = models.CharField(max_length=100, default="webhooks",
                                 help_text="The publisher plugin that delivers here.")
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200, editable=False)
    events = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        ordering = ("name", "pk")

    def __str__(self) -> str:
        return f"webhook {self.name}"

    def __repr__(self) -> str:  # never the secret
        return f"<WebhookEndpoint {self.pk} {self.name!r} {self.url!r}>"


class Delivery(models.Model):
    """One event sent (or to be sent) to one destination, with its retry state."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey("studio.Project", on_delete=models.CASCADE, related_name="+")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, null=True,
                                 blank=True, related_name="deliveries")
    publisher = models.CharField(max_length=100)
    target = models.CharField(max_length=200, help_text="The destination's key.")
    asset = models.ForeignKey("studio.Asset", on_delete=models.CASCADE, null=True,
                              blank=True, related_name="+")
    signed = models.ForeignKey("provenance.SignedAsset", on_delete=models.CASCADE,
                               null=True, blank=True, related_name="+")
    event = models.CharField(max_length=50)
    event_id = models.UUIDField(default=uuid.uuid4)
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField()
    next_retry_at = models.DateTimeField(null=True, blank=True)
    #: Set while a worker is attempting it, so a duplicate task message waits its turn.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    redelivery_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True,
                                      blank=True, related_name="redeliveries")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")
    correlation_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at",)
        verbose_name_plural = "deliveries"
        constraints = [models.UniqueConstraint(
            fields=("signed", "publisher", "target", "event"),
            condition=models.Q(redelivery_of__isnull=True, signed__isnull=False),
            name="one_delivery_per_signed_asset_and_target")]
        indexes = [models.Index(fields=("status", "next_retry_at"))]

    def __str__(self) -> str:
        return f"{self.event} to {self.publisher}:{self.target}"


class DeliveryAttempt(models.Model):
    """One HTTP request (or publisher call) of a delivery, with its answer."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="tries")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    ok = models.BooleanField()
    error = models.TextField(blank=True)

    class Meta:
        ordering = ("delivery", "number")
        constraints = [models.UniqueConstraint(fields=("delivery", "number"),
                                               name="one_row_per_delivery_attempt")]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status_code or self.error[:40]}"
