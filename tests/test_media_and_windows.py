"""Inbound media is downloaded into our storage by a job; replies respect a channel's reply window."""

from __future__ import annotations

import datetime as dt
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from threadline.connectors.api import ApiConnector
from threadline.connectors.base import InboundMessage, MediaRef, ReplyWindow, SenderRef
from threadline.conversations import services
from threadline.conversations.media import attachment_fetch
from threadline.conversations.models import Attachment, Message

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


class MediaServer:
    def __init__(self):
        self.status = 200
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.hits += 1
                body = PNG if server.status == 200 else b"busy"
                self.send_response(server.status)
                self.send_header("Content-Type", "image/png" if server.status == 200 else "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/media/photo"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def media_server():
    server = MediaServer()
    yield server
    server.close()


def receive_with_photo(inbox, url):
    return services.message_receive(
        inbox=inbox,
        inbound=InboundMessage(
            provider_id="m-photo",
            sender=SenderRef(kind="external_id", value="cust-1", scoped_to_inbox=True, name="Anna"),
            sent_at=timezone.now(),
            text="wrong size, see photo",
            attachments=(MediaRef(url=url, filename="shoe", content_type="image/png"),),
        ),
    ).message


@pytest.mark.django_db(transaction=True)
def test_inbound_photo_is_downloaded_and_stored(api_inbox, media_server, run_jobs, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    message = receive_with_photo(api_inbox, media_server.url)
    run_jobs()
    attachment = Attachment.objects.get(message=message)
    assert attachment.file.read() == PNG
    assert attachment.size == len(PNG) and attachment.content_type == "image/png"
    assert attachment.file.name.endswith(".png")
    assert media_server.hits == 1


@pytest.mark.django_db
def test_transient_media_failure_retries_then_stores(api_inbox, media_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    media_server.status = 503
    attachment = Attachment.objects.get(message=receive_with_photo(api_inbox, media_server.url))
    assert attachment_fetch(attachment_id=attachment.pk) == "retrying"
    media_server.status = 200
    assert attachment_fetch(attachment_id=attachment.pk) == "stored"
    assert attachment_fetch(attachment_id=attachment.pk) == "skipped"


@pytest.mark.django_db
def test_oversized_media_is_refused_and_kept_as_a_link(api_inbox, media_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.THREADLINE_MAX_ATTACHMENT_BYTES = 50
    attachment = Attachment.objects.get(message=receive_with_photo(api_inbox, media_server.url))
    assert attachment_fetch(attachment_id=attachment.pk) == "failed"
    attachment.refresh_from_db()
    assert not attachment.file
    assert "larger than the limit" in attachment.fetch_error
    assert attachment.remote_url == media_server.url


@pytest.mark.django_db
def test_reply_outside_the_window_needs_a_compliant_option(api_inbox, agent_member, monkeypatch):
    conversation = receive_with_photo(api_inbox, "https://cdn.example/x").conversation

    def closed_after_a_day(self, *, last_inbound_at, now):
        if last_inbound_at is None or now - last_inbound_at > dt.timedelta(hours=24):
            return ReplyWindow(open=False, alternatives=("template", "human_agent_tag"))
        return ReplyWindow(open=True, closes_at=last_inbound_at + dt.timedelta(hours=24))

    monkeypatch.setattr(ApiConnector, "reply_window", closed_after_a_day)
    assert services.reply_window_for(conversation, api_inbox).open
    services.message_reply(conversation=conversation, text="inside the window", author=agent_member)

    Message.objects.filter(direction="inbound").update(provider_sent_at=timezone.now() - dt.timedelta(hours=30))
    with pytest.raises(services.ConversationError, match="reply window"):
        services.message_reply(conversation=conversation, text="too late", author=agent_member)
    tagged = services.message_reply(
        conversation=conversation, text="tagged", author=agent_member, options={"tag": "HUMAN_AGENT"}
    )
    assert tagged.meta == {"send_options": {"tag": "HUMAN_AGENT"}}
