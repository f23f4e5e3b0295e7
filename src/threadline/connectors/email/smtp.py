"""Sending through the inbox's SMTP server (smtplib), with errors mapped onto SendError.

4xx replies and network failures are transient (retried with backoff), 5xx replies permanent, and an
authentication failure blocks the inbox's sending until an admin reconnects it.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping

from threadline.connectors.base import SendError
from threadline.connectors.email import options

TIMEOUT_SECONDS = 30


def _connect(settings: Mapping[str, object]) -> smtplib.SMTP:
    host = str(settings.get("smtp_host") or "")
    if not host:
        raise SendError("This inbox has no SMTP server configured.", transient=False)
    security = str(settings.get("smtp_security") or "starttls").strip().lower()
    port = options.port(settings, "smtp_port", default=465 if security == "ssl" else 587)
    context = ssl.create_default_context()
    if security == "ssl":
        return smtplib.SMTP_SSL(host, port, timeout=TIMEOUT_SECONDS, context=context)
    client = smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS)
    if security == "starttls":
        client.starttls(context=context)
    return client


def send_bytes(raw: bytes, *, sender: str, recipients: list[str], settings: Mapping[str, object], password: str) -> None:
    """Deliver ``raw`` to ``recipients`` with ``sender`` as the envelope sender (Return-Path)."""
    try:
        client = _connect(settings)
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"Could not reach the SMTP server ({type(exc).__name__}).", transient=True) from None
    try:
        with client:
            username = str(settings.get("smtp_username") or "")
            if username:
                client.login(username, password)
            client.sendmail(sender, recipients, raw)
    except smtplib.SMTPAuthenticationError:
        raise SendError("The SMTP server rejected our login.", transient=False, auth_failed=True) from None
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        transient = all(400 <= code < 500 for code in codes)
        raise SendError(f"The SMTP server refused the recipient ({', '.join(map(str, codes))}).", transient=transient) from None
    except smtplib.SMTPResponseException as exc:
        transient = 400 <= exc.smtp_code < 500
        raise SendError(f"The SMTP server refused the message ({exc.smtp_code}).", transient=transient) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"The SMTP conversation failed ({type(exc).__name__}).", transient=True) from None


def check_login(settings: Mapping[str, object], password: str) -> None:
    """Connect and log in without sending (the inbox's "test connection"). Raises SendError."""
    try:
        with _connect(settings) as client:
            username = str(settings.get("smtp_username") or "")
            if username:
                client.login(username, password)
            client.noop()
    except smtplib.SMTPAuthenticationError:
        raise SendError("The SMTP server rejected our login.", transient=False, auth_failed=True) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"Could not reach the SMTP server ({type(exc).__name__}).", transient=True) from None
