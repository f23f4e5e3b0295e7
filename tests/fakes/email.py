"""Local stand-ins for the email world: an SMTP sink, a Dovecot IMAP server, and provider webhook posts.

* ``SmtpSink`` — an aiosmtpd server on loopback that records every mail our connector sends.
* ``Dovecot`` — a real Dovecot (Debian ``dovecot-imapd``) started from a generated config in a temp dir,
  on a free port, with one passwd-file user and a Maildir; ``append`` puts mail in its INBOX.
* ``mailgun_post`` / ``sendgrid_post`` / ``postmark_post`` — request bodies and headers shaped like each
  provider's inbound webhook (contract §4.7c), signed (Mailgun) or with Basic credentials.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import pwd
import shutil
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from aiosmtpd.controller import Controller

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "email"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- SMTP sink ------------------------------------------------------------------------------------------


@dataclass
class Captured:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


@dataclass
class _SinkHandler:
    captured: list[Captured] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        self.captured.append(Captured(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"


class SmtpSink:
    """A loopback SMTP server capturing what is sent to it."""

    def __init__(self) -> None:
        self.handler = _SinkHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, decode_data=False)

    @property
    def captured(self) -> list[Captured]:
        return self.handler.captured

    def __enter__(self) -> Self:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


# --- Dovecot --------------------------------------------------------------------------------------------

DOVECOT_BIN = shutil.which("dovecot") or "/usr/sbin/dovecot"


def dovecot_available() -> None:
    """Raise unless Debian's dovecot-imapd is installed (the IMAP tests need a real server)."""
    if not Path(DOVECOT_BIN).exists() or not Path("/usr/lib/dovecot/imap").exists():
        raise FileNotFoundError("dovecot-imapd is not installed")


# Plaintext IMAP on loopback only, passwd-file auth, Maildir; chroots off so no root-owned dirs are needed.
DOVECOT_CONFIG = """
base_dir = {root}/run
state_dir = {root}/state
instance_name = threadline-test-{instance}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {root}/dovecot.log
default_login_user = {login_user}
default_internal_user = {internal_user}
mail_location = maildir:{maildir}
first_valid_uid = {min_uid}
first_valid_gid = {min_gid}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
"""


class Dovecot:
    """A private Dovecot instance: plaintext IMAP on a loopback port, one user, Maildir storage."""

    def __init__(self, root: Path, *, user: str = "support@acme.example", password: str = "imap-test-pass") -> None:
        self.root, self.user, self.password = root, user, password
        self.port = free_port()
        self.maildir = root / "mail"
        self.config = root / "dovecot.conf"

    def _write_config(self) -> None:
        uid, gid = os.getuid(), os.getgid()
        login_user = internal_user = pwd.getpwuid(uid).pw_name
        if uid == 0:
            # Dovecot never runs logins or mail access as root: use the package's unprivileged users,
            # and let the mail user own the temp dir.
            login_user, internal_user = "dovenull", "dovecot"
            uid, gid = pwd.getpwnam("dovecot").pw_uid, pwd.getpwnam("dovecot").pw_gid
            for path in (self.root, self.maildir):
                os.chown(path, uid, gid)
        (self.root / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}:{uid}:{gid}::{self.maildir}\n")
        self.config.write_text(
            DOVECOT_CONFIG.format(
                root=self.root, maildir=self.maildir, port=self.port, instance=uuid.uuid4().hex[:8],
                login_user=login_user, internal_user=internal_user, min_uid=min(uid, 500), min_gid=min(gid, 500),
            )
        )

    def start(self) -> Dovecot:
        self.maildir.mkdir(parents=True, exist_ok=True)
        for sub in ("run", "state"):
            (self.root / sub).mkdir(exist_ok=True)
        self._write_config()
        # Dovecot daemonises; its output goes to log_path, so no pipes are held open.
        subprocess.run(
            [DOVECOT_BIN, "-c", str(self.config)],
            check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("dovecot did not start: " + (self.root / "dovecot.log").read_text(errors="replace")[-2000:])

    def stop(self) -> None:
        subprocess.run(
            [DOVECOT_BIN, "-c", str(self.config), "stop"],
            check=False,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30,
        )

    def client(self):
        from imapclient import IMAPClient

        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(self.user, self.password)
        return client

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        client = self.client()
        try:
            client.append(folder, raw)
        finally:
            client.logout()


# --- Provider webhooks ----------------------------------------------------------------------------------


def _multipart(fields: dict[str, bytes]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    chunks = []
    for name, value in fields.items():
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def basic_auth(credentials: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


def mailgun_post(raw_mail: bytes, *, signing_key: str, recipient: str, tamper: bool = False) -> tuple[bytes, dict[str, str]]:
    """A Mailgun "forward to …/mime" route POST: body-mime plus timestamp/token/signature."""
    timestamp, token = str(int(time.time())), uuid.uuid4().hex
    signature = hmac.new(signing_key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    if tamper:
        signature = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    body, content_type = _multipart(
        {
            "recipient": recipient.encode(),
            "timestamp": timestamp.encode(),
            "token": token.encode(),
            "signature": signature.encode(),
            "body-mime": raw_mail,
        }
    )
    return body, {"Content-Type": content_type}


def sendgrid_post(raw_mail: bytes, *, credentials: str, recipient: str) -> tuple[bytes, dict[str, str]]:
    """A SendGrid Inbound Parse POST with "send raw" on: the full MIME in ``email``."""
    envelope = json.dumps({"to": [recipient], "from": "ana@customer.test"}).encode()
    body, content_type = _multipart({"envelope": envelope, "email": raw_mail, "charsets": b"{}"})
    return body, {"Content-Type": content_type, **basic_auth(credentials)}


def postmark_post(*, credentials: str, message_id: str, sender: str, text: str, subject: str) -> tuple[bytes, dict[str, str]]:
    """A Postmark inbound JSON POST without RawEmail (rebuilt into MIME by the connector)."""
    payload = {
        "From": sender,
        "FromFull": {"Email": sender, "Name": ""},
        "To": "support@acme.example",
        "OriginalRecipient": "support@acme.example",
        "Subject": subject,
        "MessageID": str(uuid.uuid4()),
        "Date": "Tue, 14 Nov 2023 10:00:00 +0000",
        "TextBody": text,
        "HtmlBody": f"<p>{text}</p>",
        "Headers": [{"Name": "Message-ID", "Value": message_id}],
        "Attachments": [
            {"Name": "note.txt", "Content": base64.b64encode(b"hello").decode(), "ContentType": "text/plain", "ContentID": ""}
        ],
    }
    return json.dumps(payload).encode(), {"Content-Type": "application/json", **basic_auth(credentials)}
