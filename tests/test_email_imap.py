"""IMAP intake against a real Dovecot (Debian's dovecot-imapd, started per test from a generated config on a
free port): mail is fetched once, the UID checkpoint survives restarts and crashes, \\Seen is set only
after storing, and the IDLE watcher picks up new mail. Skips outside CI when dovecot-imapd is absent.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import require_service
from tests.fakes.email import Dovecot, dovecot_available, fixture
from threadline.conversations.models import Message
from threadline.core.models import Inbox
from threadline.ingest.models import RawDelivery
from threadline.mail import imap
from threadline.mail.models import ImapCheckpoint

pytestmark = pytest.mark.django_db(transaction=True)


def mail(n: int) -> bytes:
    return (
        f"From: Customer {n} <c{n}@customer.test>\r\nTo: support@acme.example\r\nSubject: Question {n}\r\n"
        f"Date: Tue, 14 Nov 2023 10:00:00 +0000\r\nMessage-ID: <imap-{n}@customer.test>\r\n\r\nBody {n}\r\n"
    ).encode()


@pytest.fixture
def dovecot():
    require_service("Dovecot", "apt-get install dovecot-imapd", dovecot_available)
    # Not pytest's tmp_path: its parents are private to us, and Dovecot's unprivileged users must reach it.
    root = Path(tempfile.mkdtemp(prefix="threadline-dovecot-"))
    root.chmod(0o755)
    server = Dovecot(root).start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def imap_inbox(workspace, dovecot):
    return Inbox.objects.create(
        workspace=workspace, name="IMAP", kind="email",
        config={"address": dovecot.user, "imap_host": "127.0.0.1", "imap_port": dovecot.port, "imap_ssl": False},
        secrets={"imap_password": dovecot.password},
    )


def seen_uids(dovecot) -> set[int]:
    client = dovecot.client()
    try:
        client.select_folder("INBOX", readonly=True)
        return set(client.search(["SEEN"]))
    finally:
        client.logout()


def test_mail_is_fetched_once_and_marked_seen_after_storing(dovecot, imap_inbox, run_jobs):
    dovecot.append(mail(1))
    dovecot.append(fixture("thai_windows874.eml"))
    assert imap.imap_poll_inbox(inbox=imap_inbox) == 2
    assert imap.imap_poll_inbox(inbox=imap_inbox) == 0
    assert RawDelivery.objects.filter(inbox=imap_inbox, method="IMAP").count() == 2
    assert seen_uids(dovecot) == {1, 2}
    dovecot.append(mail(3))
    assert imap.imap_poll_inbox(inbox=imap_inbox) == 1
    run_jobs()
    assert Message.objects.filter(inbox=imap_inbox).count() == 3
    assert Message.objects.filter(text__contains="ขอเปลี่ยนได้ไหมครับ").exists()


def test_checkpoint_survives_a_crash_mid_poll_without_loss_or_duplicates(dovecot, imap_inbox, monkeypatch):
    for n in range(1, 4):
        dovecot.append(mail(n))
    real_store = imap._store_one
    calls = []

    def crash_on_second(inbox, checkpoint_id, uid, raw_mail):
        calls.append(uid)
        if len(calls) == 2:
            raise ConnectionError("worker died")
        return real_store(inbox, checkpoint_id, uid, raw_mail)

    monkeypatch.setattr(imap, "_store_one", crash_on_second)
    with pytest.raises(ConnectionError):
        imap.imap_poll_inbox(inbox=imap_inbox)
    assert ImapCheckpoint.objects.get(inbox=imap_inbox).last_uid == 1
    assert seen_uids(dovecot) == set()  # flags are set only after storing, and the poll never got there
    monkeypatch.setattr(imap, "_store_one", real_store)
    # A "restarted" poller: new connection, state only from the database.
    assert imap.imap_poll_inbox(inbox=imap_inbox) == 2
    bodies = sorted(bytes(d.body) for d in RawDelivery.objects.filter(inbox=imap_inbox))
    assert bodies == sorted(mail(n) for n in range(1, 4))


def test_uidvalidity_change_rereads_but_message_ids_dedupe(dovecot, imap_inbox, run_jobs):
    dovecot.append(mail(1))
    imap.imap_poll_inbox(inbox=imap_inbox)
    ImapCheckpoint.objects.filter(inbox=imap_inbox).update(uidvalidity=1)  # as if the folder was rebuilt
    assert imap.imap_poll_inbox(inbox=imap_inbox) == 1
    run_jobs()
    assert Message.objects.filter(inbox=imap_inbox).count() == 1


def test_scheduler_job_polls_due_mailboxes(dovecot, imap_inbox):
    dovecot.append(mail(1))
    assert imap.imap_poll_due() == 1
    dovecot.append(mail(2))
    assert imap.imap_poll_due() == 0  # polled moments ago: the IDLE watcher's turn
    ImapCheckpoint.objects.filter(inbox=imap_inbox).update(polled_at=None)
    assert imap.imap_poll_due() == 1


def test_idle_watcher_stores_new_mail_without_waiting_for_a_poll(dovecot, imap_inbox, settings):
    settings.THREADLINE_IMAP_IDLE_SECONDS = 2
    settings.THREADLINE_IMAP_POLL_SECONDS = 3600
    stop = threading.Event()
    watcher = threading.Thread(target=imap.imap_idle_watch, args=(imap_inbox, stop), daemon=True)
    watcher.start()
    try:
        time.sleep(0.5)
        dovecot.append(mail(7))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not RawDelivery.objects.filter(inbox=imap_inbox).exists():
            time.sleep(0.2)
        assert RawDelivery.objects.filter(inbox=imap_inbox).count() == 1
    finally:
        stop.set()
        watcher.join(timeout=10)


def test_check_credentials_logs_in_to_imap_and_reports_a_wrong_password(dovecot, imap_inbox):
    from threadline.connectors.email.connector import EmailConnector
    from threadline.conversations.delivery import channel_config

    assert EmailConnector().check_credentials(channel_config(imap_inbox)).ok
    imap_inbox.secrets = {"imap_password": "wrong"}
    check = EmailConnector().check_credentials(channel_config(imap_inbox))
    assert not check.ok and "rejected our login" in check.detail
