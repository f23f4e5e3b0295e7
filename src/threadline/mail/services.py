"""Storing received mail: every mail from the SMTP listener or an IMAP mailbox becomes a RawDelivery.

The raw bytes are committed before the sender is answered (SMTP 250) or the mailbox checkpoint moves
(IMAP), and then processed and retried exactly like a provider webhook (threadline.ingest).
"""

from __future__ import annotations

from django.utils import timezone

from threadline.connectors.base import RawRequest
from threadline.connectors.email.connector import ENVELOPE_HEADER, RECEIVED_AT_HEADER
from threadline.core.models import Inbox
from threadline.ingest.models import RawDelivery
from threadline.ingest.services import delivery_store


def mail_store(*, inbox: Inbox, raw_mail: bytes, via: str, envelope_to: list[str]) -> RawDelivery:
    """Durably store one received mail for ``inbox``; a worker processes it (ingest.services.deliveries_drain)."""
    raw = RawRequest(
        method=via,
        path=f"/{via.lower()}/{inbox.public_id}",
        query={},
        headers={ENVELOPE_HEADER: ",".join(envelope_to), RECEIVED_AT_HEADER: timezone.now().isoformat()},
        body=raw_mail,
    )
    return delivery_store(inbox=inbox, raw=raw)
