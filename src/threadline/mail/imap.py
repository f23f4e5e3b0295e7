"""IMAP polling with imapclient: fetch new mail by UID, store it, then move the checkpoint.

Each mail is stored (RawDelivery) and the folder's checkpoint advanced to its UID in one transaction,
so a crash before the commit fetches it again and a crash after it never does: no loss, no duplicate.
Flags (``\\Seen``) are set only after the commit. When UIDVALIDITY changes the folder is read again
from the start; Message-ID dedupe in ``message_receive`` keeps that from storing a message twice.
``BODY.PEEK[]`` is used so fetching does not mark mail read by itself.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from threadline.connectors.email import options
from threadline.core.models import Inbox
from threadline.mail.models import ImapCheckpoint
from threadline.mail.selectors import imap_inboxes
from threadline.mail.services import mail_store

logger = logging.getLogger(__name__)

BATCH = 50


def imap_connect(inbox: Inbox) -> IMAPClient:
    config = inbox.config
    use_ssl = options.flag(config, "imap_ssl", default=True)
    port = options.port(config, "imap_port", default=993 if use_ssl else 143)
    client = IMAPClient(str(config["imap_host"]), port=port, ssl=use_ssl, timeout=30)
    client.login(str(config.get("imap_username") or config.get("address")), inbox.secrets.get("imap_password", ""))
    return client


def _checkpoint(inbox: Inbox, folder: str, uidvalidity: int) -> ImapCheckpoint:
    checkpoint, _ = ImapCheckpoint.objects.get_or_create(inbox=inbox, folder=folder)
    if checkpoint.uidvalidity != uidvalidity:
        logger.info("imap uidvalidity changed inbox=%s: reading the folder again", inbox.pk)
        checkpoint.uidvalidity, checkpoint.last_uid = uidvalidity, 0
        checkpoint.save(update_fields=["uidvalidity", "last_uid"])
    return checkpoint


def _store_one(inbox: Inbox, checkpoint_id: int, uid: int, raw_mail: bytes) -> bool:
    """Store one mail and move the checkpoint past it, atomically. False if another poller was first."""
    with transaction.atomic():
        checkpoint = ImapCheckpoint.objects.select_for_update().get(pk=checkpoint_id)
        if uid <= checkpoint.last_uid:
            return False
        address = str(inbox.config.get("address") or "")
        mail_store(inbox=inbox, raw_mail=raw_mail, via="IMAP", envelope_to=[address] if address else [])
        checkpoint.last_uid = uid
        checkpoint.save(update_fields=["last_uid"])
    return True


def imap_poll_inbox(*, inbox: Inbox, client: IMAPClient | None = None) -> int:
    """Fetch and store every new mail of the inbox's folder. Returns how many were stored."""
    own = client is None
    client = client or imap_connect(inbox)
    folder = str(inbox.config.get("imap_folder") or "INBOX")
    try:
        selected = client.select_folder(folder)
        checkpoint = _checkpoint(inbox, folder, int(selected[b"UIDVALIDITY"]))
        # "n:*" always matches the highest UID, even below n (RFC 3501 §6.4.8), hence the filter.
        uids = sorted(uid for uid in client.search(["UID", f"{checkpoint.last_uid + 1}:*"]) if uid > checkpoint.last_uid)
        stored = []
        for start in range(0, len(uids), BATCH):
            batch = uids[start : start + BATCH]
            fetched = client.fetch(batch, ["BODY.PEEK[]"])
            for uid in batch:
                raw_mail = fetched.get(uid, {}).get(b"BODY[]")
                if raw_mail is not None and _store_one(inbox, checkpoint.pk, uid, raw_mail):
                    stored.append(uid)
        if stored and options.flag(inbox.config, "imap_mark_seen", default=True):
            client.add_flags(stored, [b"\\Seen"])
        ImapCheckpoint.objects.filter(pk=checkpoint.pk).update(polled_at=timezone.now(), last_error="")
        return len(stored)
    finally:
        if own:
            _logout(client)


def _logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except (IMAPClientError, OSError):
        pass


def imap_poll_due(*, now=None) -> int:
    """Poll every IMAP inbox not polled within THREADLINE_IMAP_POLL_SECONDS (the scheduler's safety net
    beside the IDLE watchers). A failing mailbox is recorded and does not stop the others.
    """
    now = now or timezone.now()
    recent = now - dt.timedelta(seconds=settings.THREADLINE_IMAP_POLL_SECONDS)
    fresh = set(ImapCheckpoint.objects.filter(polled_at__gt=recent).values_list("inbox_id", flat=True))
    total = 0
    for inbox in imap_inboxes():
        if inbox.pk in fresh:
            continue
        try:
            total += imap_poll_inbox(inbox=inbox)
        except (IMAPClientError, OSError, KeyError) as exc:
            logger.warning("imap poll failed inbox=%s: %s", inbox.pk, type(exc).__name__)
            ImapCheckpoint.objects.filter(inbox=inbox).update(last_error=type(exc).__name__)
    return total


def imap_idle_watch(inbox: Inbox, stop: threading.Event) -> None:
    """Keep one mailbox connection open: IDLE (RFC 2177) where offered, plain polling otherwise."""
    while not stop.is_set():
        try:
            client = imap_connect(inbox)
            try:
                _watch(client, inbox, stop)
            finally:
                _logout(client)
        except (IMAPClientError, OSError, KeyError) as exc:
            logger.warning("imap watch failed inbox=%s: %s", inbox.pk, type(exc).__name__)
            stop.wait(settings.THREADLINE_IMAP_POLL_SECONDS)
        finally:
            close_old_connections()


def _watch(client: IMAPClient, inbox: Inbox, stop: threading.Event) -> None:
    idle = b"IDLE" in client.capabilities()
    while not stop.is_set():
        imap_poll_inbox(inbox=inbox, client=client)
        if not idle:
            stop.wait(settings.THREADLINE_IMAP_POLL_SECONDS)
            continue
        client.idle()
        try:
            client.idle_check(timeout=min(settings.THREADLINE_IMAP_IDLE_SECONDS, 29 * 60))
        finally:
            client.idle_done()


def start_imap_watchers(stop: threading.Event) -> list[threading.Thread]:
    """One daemon thread per IMAP inbox (inside `threadline run` and the worker role)."""
    threads = [
        threading.Thread(target=imap_idle_watch, args=(inbox, stop), name=f"threadline-imap-{inbox.pk}", daemon=True)
        for inbox in imap_inboxes()
    ]
    for thread in threads:
        thread.start()
    return threads
