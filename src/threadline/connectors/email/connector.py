"""EmailConnector: one channel kind, three ways in (SMTP listener, IMAP polling, provider webhooks).

Mail received by the SMTP listener or the IMAP poller reaches ``parse`` as a stored raw delivery whose
method is ``SMTP`` or ``IMAP`` and whose body is the RFC 5322 bytes; provider webhooks arrive as ``POST``
and go through ``verify`` first. ``parse`` is pure: threading is only *hinted* (reply token, references)
and the core decides, so a forged header can never reach another customer's conversation.
"""

from __future__ import annotations

import datetime as dt
import re

import dkim
from django.conf import settings as django_settings
from django.utils.translation import gettext_lazy as _

from threadline.connectors import http
from threadline.connectors.base import (
    ChannelConfig,
    Connector,
    DeliveryUpdate,
    HealthCheck,
    Ignored,
    InboundEvent,
    InboundMessage,
    MediaRef,
    OutboundMessage,
    PayloadError,
    RawRequest,
    SenderRef,
    SendError,
    SendReceipt,
    ThreadHint,
)
from threadline.connectors.email import (
    compose,
    folding,
    loops,
    options,
    smtp,
    threading,
    webhooks,
)
from threadline.connectors.email.parsing import ParsedMail, parse_mail

INTAKE_METHODS = ("SMTP", "IMAP")
# Header our intake adds to the stored request: the envelope recipients (RCPT TO), comma-separated.
ENVELOPE_HEADER = "x-threadline-envelope-to"
RECEIVED_AT_HEADER = "x-threadline-received-at"
_AUTH_PASS = re.compile(r"\b(dmarc|dkim)=pass\b", re.IGNORECASE)


class EmailConnector(Connector):
    kind = "email"
    label = _("Email")
    secret_names = ("smtp_password", "imap_password", "webhook_signing_key", "webhook_secret", "dkim_private_key")
    recipient_kinds = ("email",)
    config_fields = options.CONFIG_FIELDS

    def verify(self, raw: RawRequest, config: ChannelConfig) -> None:
        webhooks.verify(raw, config)

    def parse(self, raw: RawRequest, config: ChannelConfig) -> list[InboundEvent]:
        if raw.method in INTAKE_METHODS:
            mime = raw.body
            envelope = [a.strip() for a in raw.headers.get(ENVELOPE_HEADER, "").split(",") if a.strip()]
        else:
            provider = str(config.settings.get("webhook_provider") or "")
            if provider not in webhooks.PROVIDERS:
                raise PayloadError("This email inbox does not take provider webhooks.")
            mime, envelope = webhooks.extract(raw, provider)
        try:
            parsed = parse_mail(mime)
        except ValueError as exc:
            raise PayloadError(str(exc)) from None
        return [mail_event(parsed, config=config, envelope=envelope, received_at=_received_at(raw))]

    def send(self, message: OutboundMessage, config: ChannelConfig) -> SendReceipt:
        address = str(config.settings.get("address") or "")
        if "@" not in address:
            raise SendError("This email inbox has no sending address configured.", transient=False)
        files = [compose.media_content(media, http.download) for media in message.attachments]
        mail = compose.build_message(message, inbox_id=config.inbox_id, settings=config.settings, files=files)
        raw = mail.as_bytes()
        selector = str(config.settings.get("dkim_selector") or "")
        key = config.secrets.get("dkim_private_key", "")
        if selector and key:
            domain = str(config.settings.get("dkim_domain") or address.partition("@")[2])
            try:
                raw = compose.sign_dkim(raw, selector=selector, domain=domain, private_key=key)
            except dkim.DKIMException:
                raise SendError("The DKIM key of this inbox cannot sign (paste a PEM RSA key).", transient=False) from None
        smtp.send_bytes(
            raw,
            sender=threading.bounce_address(address, config.inbox_id, message.conversation_id, message.message_id),
            recipients=[message.recipient],
            settings=config.settings,
            password=config.secrets.get("smtp_password", ""),
        )
        return SendReceipt(provider_id=str(mail["Message-ID"]))

    def check_credentials(self, config: ChannelConfig) -> HealthCheck:
        """Log in to the outbound SMTP server and, when configured, the IMAP mailbox."""
        try:
            if config.settings.get("smtp_host"):
                smtp.check_login(config.settings, config.secrets.get("smtp_password", ""))
            if config.settings.get("imap_host"):
                _check_imap(config)
        except SendError as error:
            return HealthCheck(ok=False, detail=error.reason)
        return HealthCheck(ok=True)


def _check_imap(config: ChannelConfig) -> None:
    from imapclient import IMAPClient
    from imapclient.exceptions import IMAPClientError, LoginError

    settings = config.settings
    use_ssl = options.flag(settings, "imap_ssl", default=True)
    try:
        client = IMAPClient(str(settings["imap_host"]), port=options.port(settings, "imap_port", default=993 if use_ssl else 143),
                            ssl=use_ssl, timeout=smtp.TIMEOUT_SECONDS)
        try:
            client.login(str(settings.get("imap_username") or settings.get("address")), config.secrets.get("imap_password", ""))
        finally:
            client.shutdown()
    except LoginError:
        raise SendError("The IMAP server rejected our login.", transient=False, auth_failed=True) from None
    except (IMAPClientError, OSError) as exc:
        raise SendError(f"Could not reach the IMAP server ({type(exc).__name__}).", transient=True) from None


def _received_at(raw: RawRequest) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(raw.headers[RECEIVED_AT_HEADER])
    except (KeyError, ValueError):
        return dt.datetime.now(tz=dt.UTC)


def _ours(parsed: ParsedMail, config: ChannelConfig) -> bool:
    """Mail we sent ourselves coming back (our X-Loop, or our own address as the sender)."""
    address = str(config.settings.get("address") or "").lower()
    if not address:
        return False
    loop = str(parsed.headers.get("X-Loop", "")).strip().lower()
    return loop == address or threading.base_address(parsed.from_address) == threading.base_address(address)


def _attachments(parsed: ParsedMail) -> tuple[tuple[MediaRef, ...], int]:
    limit = django_settings.THREADLINE_EMAIL_MAX_ATTACHMENTS
    refs = tuple(
        MediaRef(
            filename=part.filename[:255],
            content_type=part.content_type,
            size=len(part.content),
            content=part.content,
            provider_media_id=f"cid:{part.content_id}" if part.content_id else "",
        )
        for part in parsed.parts[:limit]
    )
    return refs, max(0, len(parsed.parts) - limit)


def _bounce_event(parsed: ParsedMail, *, config: ChannelConfig, envelope: list[str], received_at: dt.datetime) -> InboundEvent:
    """A failed receipt for our message: named by the VERP Return-Path token, else the returned headers."""
    bounce = loops.bounce_details(parsed.headers)
    provider_id = bounce.original_message_id
    verp = threading.bounced_message(envelope, config.inbox_id)
    if verp is not None:
        domain = str(config.settings.get("address") or "").partition("@")[2]
        provider_id = compose.outbound_id(inbox_id=config.inbox_id, conversation_id=verp[0], message_id=verp[1], domain=domain)
    if not provider_id:
        return Ignored(reason="bounce that names none of our messages")
    return DeliveryUpdate(provider_id=provider_id, status="failed", at=received_at, reason=bounce.reason)


def mail_event(parsed: ParsedMail, *, config: ChannelConfig, envelope: list[str], received_at: dt.datetime) -> InboundEvent:
    """The one event a received mail means: a message, a bounce receipt, or an ignored loop."""
    if _ours(parsed, config):
        return Ignored(reason="our own mail came back (X-Loop or our address as sender)")
    automatic = loops.classify(parsed.headers)
    if automatic == loops.BOUNCE:
        return _bounce_event(parsed, config=config, envelope=envelope, received_at=received_at)
    text = parsed.text or folding.html_to_text(parsed.html)
    # A forward's quoted part is the point of the mail: it stays visible.
    forwarded = folding.is_forward(parsed.subject)
    visible_text = text.strip() if forwarded else folding.fold_text(text)
    attachments, omitted = _attachments(parsed)
    meta: dict[str, object] = {"email": {"subject": parsed.subject}}
    if visible_text != text.strip():
        meta["email"]["full_text"] = text
    if omitted:
        meta["email"]["attachments_omitted"] = omitted
    # A From header proves nothing; Authentication-Results only when our own MTA writes (and strips) it.
    authenticated = bool(config.settings.get("trust_authentication_results")) and bool(
        _AUTH_PASS.search(str(parsed.headers.get("Authentication-Results", "")))
    )
    conversation_id = threading.token_in_recipients([*envelope, *threading.header_recipients(parsed.headers)], config.inbox_id)
    return InboundMessage(
        provider_id=parsed.message_id,
        sender=SenderRef(kind="email", value=parsed.from_address, name=parsed.from_name[:200], verified=authenticated),
        sent_at=min(parsed.sent_at, received_at) if parsed.sent_at else received_at,
        text=visible_text,
        html=parsed.html if forwarded else folding.fold_html(parsed.html),
        attachments=attachments,
        subject=parsed.subject,
        thread_hint=ThreadHint(conversation_id=conversation_id, references=threading.references_of(parsed.headers)),
        automatic=automatic,
        meta=meta,
    )
