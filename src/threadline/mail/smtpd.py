"""The built-in SMTP listener (aiosmtpd): mail forwarded to Threadline or delivered to it as an MX.

RCPT TO is accepted only for an email inbox's address (plus tags allowed: they carry reply tokens).
DATA is answered ``250`` only after the raw message is committed as a RawDelivery for every inbox it
is addressed to; a storage failure answers ``451`` so the sending server keeps the mail and retries.
Mail larger than THREADLINE_EMAIL_MAX_BYTES is refused by aiosmtpd with ``552`` (the limit is also
announced in EHLO as SIZE, RFC 1870). Malformed mail is stored all the same: parsing happens later, and
a message that cannot be parsed is parked as a failed delivery for an admin, never dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import close_old_connections

from threadline.mail.selectors import inbox_for_recipient
from threadline.mail.services import mail_store

logger = logging.getLogger(__name__)


def _in_thread(function, *args):
    """Run blocking Django work off the event loop, with fresh database connections."""

    def call():
        close_old_connections()
        try:
            return function(*args)
        finally:
            close_old_connections()

    return asyncio.get_running_loop().run_in_executor(None, call)


def _store_for_recipients(recipients: list[str], content: bytes) -> int:
    """Store the mail once per inbox it is addressed to; returns how many inboxes took it."""
    inboxes, addressed = {}, defaultdict(list)
    for address in recipients:
        inbox = inbox_for_recipient(address)
        if inbox is not None:
            inboxes[inbox.pk] = inbox
            addressed[inbox.pk].append(address)
    for inbox_id, inbox in inboxes.items():
        delivery = mail_store(inbox=inbox, raw_mail=content, via="SMTP", envelope_to=addressed[inbox_id])
        logger.info("smtp mail stored delivery=%s inbox=%s size=%s", delivery.pk, inbox_id, len(content))
    return len(inboxes)


class IntakeHandler:
    """aiosmtpd handler: accept known recipients, store, then acknowledge."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        inbox = await _in_thread(inbox_for_recipient, address)
        if inbox is None:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        try:
            stored = await _in_thread(_store_for_recipients, list(envelope.rcpt_tos), content)
        except Exception:  # the sender keeps the mail and retries: nothing is lost
            logger.exception("smtp mail could not be stored")
            return "451 4.3.0 Could not store the message; try again later"
        if not stored:
            return "550 5.1.1 No such mailbox here"
        return "250 2.0.0 Message accepted for delivery"


def parse_listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return (host.strip("[]") or "127.0.0.1"), int(port)


def make_listener(listen: str | None = None) -> Controller:
    """An SMTP listener on ``listen`` (host:port), not started yet."""
    host, port = parse_listen(listen or settings.THREADLINE_SMTP_LISTEN)
    return Controller(
        IntakeHandler(),
        hostname=host,
        port=port,
        data_size_limit=settings.THREADLINE_EMAIL_MAX_BYTES,
        decode_data=False,
        server_hostname="threadline",
        ready_timeout=10,
    )
