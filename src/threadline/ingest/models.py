"""Raw inbound deliveries: every verified provider request, stored before the provider is acknowledged.

A delivery is parsed and processed by a job; if processing fails or its worker dies, the stored row is
retried, so an acknowledged message is never lost.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from threadline.core.models import Inbox


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    PROCESSING = "processing", _("Processing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class RawDelivery(models.Model):
    inbox = models.ForeignKey(Inbox, on_delete=models.CASCADE, related_name="raw_deliveries")
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    query = models.JSONField(default=dict)
    # Request headers minus credentials (Authorization, Cookie) that must never be stored.
    headers = models.JSONField(default=dict)
    body = models.BinaryField()
    state = models.CharField(max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Exception type and message only; never the payload.
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("raw delivery")
        verbose_name_plural = _("raw deliveries")
        indexes = [
            models.Index(
                fields=["state", "next_attempt_at"],
                condition=Q(state__in=["pending", "processing"]),
                name="rawdelivery_open_idx",
            )
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.state})"
