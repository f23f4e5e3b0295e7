"""Agents send files in replies: the signed public link providers fetch, the upload checks, and real sends
(email through a loopback SMTP sink, Messenger through the Graph fake with the link fetched over HTTP).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import socket
import threading
import time
from urllib.parse import urlsplit

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.fakes.email import SmtpSink
from tests.fakes.loopback import Clock
from tests.fakes.meta import GraphFake, MetaDriver, messaging_envelope, messaging_text
from threadline.connectors.base import InboundMessage, SenderRef
from threadline.conversations import attachments as attachment_links
from threadline.conversations import services
from threadline.conversations.attachments import attachment_public_url
from threadline.conversations.models import Attachment, DeliveryStatus, Direction, Message
from threadline.core.models import Inbox

pytestmark = pytest.mark.django_db(transaction=True)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def email_conversation(workspace, agent_member, port: int):
    inbox = Inbox.objects.create(
        workspace=workspace, name="Mail", kind="email",
        config={"address": "support@acme.example", "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none"},
    )
    inbox.agents.add(agent_member)
    result = services.message_receive(inbox=inbox, inbound=InboundMessage(
        provider_id="<first@customer.test>", sender=SenderRef(kind="email", value="ana@customer.test", name="Ana"),
        sent_at=dt.datetime.now(tz=dt.UTC), text="Which label do I print?", subject="Return label",
    ))
    return result.message.conversation


def stored_attachment(workspace, agent_member, content: bytes = PNG, name: str = "photo.png") -> Attachment:
    conversation = email_conversation(workspace, agent_member, 9)
    reply = services.message_reply(conversation=conversation, text="Here it is", author=agent_member,
                                   files=[upload(name, content)])
    return reply.attachments.get()


def path_of(url: str) -> str:
    return urlsplit(url).path


# --- the signed public link -------------------------------------------------------------------------------


def test_signed_link_serves_the_file_with_safe_headers(client, workspace, agent_member, settings):
    attachment = stored_attachment(workspace, agent_member)
    url = attachment_public_url(attachment)
    assert url.startswith(f"{settings.PUBLIC_URL}/media/a/") and url.endswith("/photo.png")
    response = client.get(path_of(url))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response["Content-Security-Policy"] and "sandbox" in response["Content-Security-Policy"]


def test_a_non_image_is_a_download_never_rendered(client, workspace, agent_member):
    attachment = stored_attachment(workspace, agent_member, content=PDF, name="label.pdf")
    assert attachment.content_type == "application/pdf"
    response = client.get(path_of(attachment_public_url(attachment)))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


def test_signed_link_expires(client, workspace, agent_member, monkeypatch):
    attachment = stored_attachment(workspace, agent_member)
    path = path_of(attachment_public_url(attachment))
    assert client.get(path).status_code == 200
    later = time.time() + attachment_links.PUBLIC_LINK_MAX_AGE + 60
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    assert client.get(path).status_code == 404


def test_forged_altered_or_foreign_tokens_are_404(client, workspace, agent_member):
    attachment = stored_attachment(workspace, agent_member)
    path = path_of(attachment_public_url(attachment))
    token, name = path.split("/")[3], path.split("/")[4]
    value, stamp, signature = token.split(":")
    # Another attachment id with the same signature, a changed signature, a token signed with another key.
    other = Attachment.objects.create(message=attachment.message, filename="x.png", content_type="image/png")
    other.file.save("x.png", attachment.file, save=True)
    assert client.get(f"/media/a/{other.pk}:{stamp}:{signature}/{name}").status_code == 404
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    assert client.get(f"/media/a/{value}:{stamp}:{flipped}/{name}").status_code == 404
    from django.core import signing

    forged = signing.TimestampSigner(key="not-our-secret", salt="threadline.attachment.public").sign(str(other.pk))
    assert client.get(f"/media/a/{forged}/{name}").status_code == 404
    assert client.get(f"/media/a/garbage/{name}").status_code == 404
    # A correctly signed id whose attachment is gone is the same 404.
    gone = attachment_public_url(other)
    other.delete()
    assert client.get(path_of(gone)).status_code == 404
    # The private storage path is not served at all.
    assert client.get(attachment.file.url).status_code == 404


# --- upload checks ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "words"),
    [
        ([upload(f"p{i}.png", PNG) for i in range(6)], "at most 5"),
        ([upload("big.pdf", PDF + b"0" * (10 * 1024 * 1024))], "larger than 10 MB"),
        ([upload("setup.png", b"MZ\x90\x00" + b"\x00" * 60)], "looks like a program"),
        ([upload("run.sh", b"#!/bin/sh\nrm -rf /\n")], "looks like a program"),
        ([upload("page.png", b"<html><script>alert(1)</script></html>")], "cannot be sent"),
    ],
    ids=["too-many", "too-big", "exe-renamed", "script", "html-as-png"],
)
def test_refused_files_store_nothing_and_say_why(workspace, agent_member, files, words):
    conversation = email_conversation(workspace, agent_member, 9)
    with pytest.raises(services.ConversationError) as caught:
        services.message_reply(conversation=conversation, text="Files", author=agent_member, files=files)
    assert words in str(caught.value)
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()
    assert not Attachment.objects.exists()


def test_the_type_is_sniffed_not_taken_from_the_browser(workspace, agent_member):
    conversation = email_conversation(workspace, agent_member, 9)
    reply = services.message_reply(conversation=conversation, text="", author=agent_member,
                                   files=[upload("scan.bin", PNG, "text/html"), upload("notes.txt", "Größe 42".encode())])
    png, text = reply.attachments.order_by("pk")
    assert (png.content_type, png.size) == ("image/png", len(PNG))
    assert text.content_type == "text/plain"


# --- the composer: files without text, files on notes ------------------------------------------------------


def test_the_composer_sends_a_file_without_text_and_a_note_keeps_its_files_internal(
    client, workspace, agent_member, run_jobs
):
    conversation = email_conversation(workspace, agent_member, 9)
    client.force_login(agent_member.user)
    url = f"/conversations/{conversation.pk}/send/"
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    assert 'id="composer-text" name="text" required' not in page  # a file alone may be sent

    client.post(url, {"mode": "reply", "text": "", "files": upload("label.pdf", PDF)})
    reply = Message.objects.get(direction=Direction.OUTBOUND)
    assert reply.text == "" and reply.attachments.get().content_type == "application/pdf"

    client.post(url, {"mode": "note", "text": "", "files": upload("scan.png", PNG)})
    note = Message.objects.get(direction=Direction.NOTE)
    stored = note.attachments.get()
    assert (stored.filename, stored.content_type) == ("scan.png", "image/png")
    assert note.delivery_status == ""  # internal: nothing is queued for delivery

    response = client.post(url, {"mode": "note", "text": "   "}, follow=True)
    assert "A note cannot be empty." in response.content.decode()
    assert Message.objects.filter(direction=Direction.NOTE).count() == 1


def test_a_note_refuses_a_dangerous_file_and_stores_nothing(workspace, agent_member):
    conversation = email_conversation(workspace, agent_member, 9)
    with pytest.raises(services.ConversationError, match="looks like a program"):
        services.note_add(conversation=conversation, text="see attached", author=agent_member,
                          files=[upload("setup.png", b"MZ\x90\x00" + b"\x00" * 60)])
    assert not Message.objects.filter(direction=Direction.NOTE).exists() and not Attachment.objects.exists()


# --- sending ----------------------------------------------------------------------------------------------


def test_reply_with_files_on_email_attaches_the_stored_bytes(client, workspace, agent_member, run_jobs, settings):
    settings.PUBLIC_URL = "http://127.0.0.1:9"  # nothing listens: mail must not download its own attachments
    with SmtpSink() as sink:
        conversation = email_conversation(workspace, agent_member, sink.port)
        client.force_login(agent_member.user)
        response = client.post(f"/conversations/{conversation.pk}/send/", {
            "mode": "reply", "text": "The label is attached.", "client_id": "c-1",
            "files": [upload("label.pdf", PDF, "application/pdf"), upload("photo.png", PNG, "image/png")],
        })
        assert response.status_code == 302
        run_jobs()
        reply = Message.objects.get(direction=Direction.OUTBOUND)
        assert reply.delivery_status == DeliveryStatus.SENT, reply.failure_reason
        (captured,) = sink.captured
    sent = email.message_from_bytes(captured.data, policy=email.policy.default)
    files = {part.get_filename(): part.get_content() for part in sent.iter_attachments()}
    assert files == {"label.pdf": PDF, "photo.png": PNG}
    # The agent's timeline shows both through the permission-checked URL.
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    for attachment in reply.attachments.all():
        assert f"/attachments/{attachment.pk}/" in page


class ServedApp:
    """The ASGI app on a loopback port (uvicorn in a thread), so a provider fake can GET our links."""

    def __init__(self) -> None:
        import uvicorn

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config("threadline.asgi:application", host="127.0.0.1", port=self.port,
                                                    lifespan="off", log_level="warning"))
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()), daemon=True)

    def __enter__(self) -> ServedApp:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the app did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def test_reply_with_an_image_on_messenger_sends_a_link_the_provider_can_fetch(workspace, agent_member, client,
                                                                               run_jobs, settings):
    inbox = Inbox.objects.create(workspace=workspace, name="Shop messenger", kind="messenger",
                                 config={"page_id": "1111"},
                                 secrets={"app_secret": "app-secret", "verify_token": "vt", "page_access_token": "tok-1"})
    inbox.agents.add(agent_member)
    with GraphFake(product="messenger", account_id="1111", token="tok-1", clock=Clock(), app_secret="app-secret") as graph, \
            ServedApp() as app:
        settings.THREADLINE_META_GRAPH_URL = graph.graph_url
        settings.PUBLIC_URL = app.url
        MetaDriver(client, inbox, "app-secret").post(
            messaging_envelope("1111", messaging_text("5550001", "1111", "m_IN1", "Photo of the size chart?", time.time()))
        )
        run_jobs()
        conversation = Message.objects.get(provider_id="m_IN1").conversation
        reply = services.message_reply(conversation=conversation, text="Here it is.", author=agent_member,
                                       files=[upload("chart.png", PNG, "image/png")])
        run_jobs()
        reply.refresh_from_db()
        assert reply.delivery_status == DeliveryStatus.SENT, reply.failure_reason
        sends = [call.body for call in graph.calls if call.method == "POST" and call.path.endswith("/messages")]
        (with_file,) = [body for body in sends if "attachment" in body.get("message", {})]
        media = with_file["message"]["attachment"]
        assert media["type"] == "image"
        url = media["payload"]["url"]
        assert url.startswith(f"{app.url}/media/a/")
        fetched = httpx.get(url, timeout=10)  # what Meta does with the link
        assert fetched.status_code == 200 and fetched.content == PNG
        assert fetched.headers["content-type"] == "image/png"
        assert httpx.get(url.replace("/media/a/", "/media/a/x"), timeout=10).status_code == 404
