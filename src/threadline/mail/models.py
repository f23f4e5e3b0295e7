"""IMAP checkpoints: how far each polled mailbox folder has been stored, so a restart neither loses nor
duplicates mail. A checkpoint only moves in the same transaction that stores the mail it covers.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import Inbox


class ImapCheckpoint(models.Model):
    inbox = models.ForeignKey(Inbox, on_delete=models.CASCADE, related_name="imap_checkpoints")
    folder = models.CharField(max_length=255, default="INBOX")
    # RFC 3501 §2.3.1.1: UIDs are only comparable while UIDVALIDITY stays the same.
    uidvalidity = models.BigIntegerField(default=0)
    last_uid = models.BigIntegerField(default=0)
    polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("IMAP checkpoint")
        verbose_name_plural = _("IMAP checkpoints")
        constraints = [models.UniqueConstraint(fields=["inbox", "folder"], name="imap_checkpoint_unique_folder")]

    def __str__(self) -> str:
        return f"inbox {self.inbox_id} {self.folder} uid {self.last_uid}"
