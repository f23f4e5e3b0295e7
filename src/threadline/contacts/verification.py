"""Identity capture by one-time code: prove an email address or phone number the customer gave in a chat.

``verification_start`` sends a 6-digit code on the channel being proved (email through a workspace email
inbox, or the application's own mail when it has none; a phone number through an inbox that can text
it), storing only a keyed hash of the code. The customer types the code back into the conversation;
``verification_try_code`` (called by the MessageCreated reaction and by the bot) checks it. A right code
makes the identity verified on the conversation's contact, and a verified identifier is the one signal
that links two contacts automatically: if another contact already holds it verified, the two are merged
(``contact_merge``, with its audit record, so an agent can undo it).

Codes expire after ``CODE_TTL``; ``MAX_ATTEMPTS`` wrong codes end a verification; a code is resent at most
once per ``RESEND_SECONDS`` and ``MAX_SENDS_PER_HOUR`` times an hour per conversation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from threadline import events
from threadline.connectors.base import OutboundMessage, SendError
from threadline.contacts.models import Contact, Identity, IdentityKind, IdentityVerification
from threadline.contacts.normalise import InvalidIdentityError, normalise
from threadline.contacts.services import contact_merge, merge_suggestion_add
from threadline.core.models import Inbox, InboxHealth, InboxState, Membership

logger = logging.getLogger(__name__)

CODE_TTL = dt.timedelta(minutes=15)
MAX_ATTEMPTS = 5
RESEND_SECONDS = 30
MAX_SENDS_PER_HOUR = 5
VERIFIABLE_KINDS = (IdentityKind.EMAIL, IdentityKind.PHONE)
# Identity kinds that prove a phone number too (a WhatsApp id is the phone number).
_PHONE_KINDS = (IdentityKind.PHONE, IdentityKind.WHATSAPP)
# Six digits, optionally written as "123 456" or "123-456", not part of a longer number.
_CODE = re.compile(r"(?<![\d])(\d{3})[ \-]?(\d{3})(?![\d])")


class VerificationError(ValueError):
    """A verification that cannot start (bad value, throttled, no channel); the message is user-facing."""


@dataclass(frozen=True)
class VerificationOutcome:
    verified: bool
    identity: Identity | None
    contact: Contact
    verification: IdentityVerification
    # "" when verified; else "wrong_code", "expired" or "too_many_attempts".
    reason: str = ""
    attempts_left: int = 0


def mask(kind: str, value: str) -> str:
    """A form of the address safe to show in a timeline: ``a…@s….example``, ``+66…78``."""
    if kind == IdentityKind.EMAIL and "@" in value:
        local, _sep, domain = value.partition("@")
        name, _dot, tld = domain.rpartition(".")
        return f"{local[:1]}…@{(name or domain)[:1]}…{'.' + tld if name else ''}"
    return f"{value[:3]}…{value[-2:]}" if len(value) > 6 else "…"


def _code_hash(verification_key: str, code: str) -> str:
    message = f"{verification_key}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _key(conversation_id: int, kind: str, value: str, nonce: str) -> str:
    return f"{conversation_id}:{kind}:{value}:{nonce}"


def contact_known_identity(*, contact: Contact, kind: str) -> str | None:
    """The contact's verified email address or phone number, if one is known: then never ask for it again."""
    kinds = _PHONE_KINDS if kind == IdentityKind.PHONE else (kind,)
    return (
        Identity.objects.filter(contact=contact, kind__in=kinds, verified=True, inbox__isnull=True)
        .order_by("-last_seen_at", "-id")
        .values_list("value", flat=True)
        .first()
    )


def verification_start(*, conversation, kind: str, value: str, actor: Membership | None = None) -> IdentityVerification:
    """Send a one-time code to ``value`` on its own channel and wait for the customer to type it back.

    Replaces an earlier pending code of the conversation. Sends outside the transaction (network).
    Publishes: IdentityVerificationStarted. Raises VerificationError with a user-facing message.
    """
    if kind not in VERIFIABLE_KINDS:
        raise VerificationError(_("Only an email address or a phone number can be verified."))
    try:
        value = normalise(kind, value)
    except InvalidIdentityError:
        if kind == IdentityKind.EMAIL:
            raise VerificationError(_("That is not a valid email address.")) from None
        raise VerificationError(_("That is not a valid phone number.")) from None
    contact = conversation.contact
    if Identity.objects.filter(contact=contact, kind=kind, value=value, verified=True, inbox__isnull=True).exists():
        raise VerificationError(_("This address is already verified for this customer."))
    now = timezone.now()
    code = f"{secrets.randbelow(10**6):06d}"
    nonce = secrets.token_hex(8)
    with transaction.atomic():
        recent = IdentityVerification.objects.select_for_update().filter(
            conversation_id=conversation.pk, last_sent_at__gte=now - dt.timedelta(hours=1)
        )
        if recent.count() >= MAX_SENDS_PER_HOUR:
            raise VerificationError(_("Too many codes were sent in this conversation. Try again in an hour."))
        latest = recent.filter(kind=kind, value=value).order_by("-last_sent_at").first()
        if latest is not None and latest.last_sent_at > now - dt.timedelta(seconds=RESEND_SECONDS):
            raise VerificationError(_("A code was sent a moment ago. Wait half a minute before sending another."))
        IdentityVerification.objects.filter(
            conversation_id=conversation.pk, state=IdentityVerification.State.PENDING
        ).update(state=IdentityVerification.State.CANCELLED)
        verification = IdentityVerification.objects.create(
            workspace_id=conversation.workspace_id,
            contact=contact,
            conversation=conversation,
            kind=kind,
            value=value,
            code_hash=nonce + ":" + _code_hash(_key(conversation.pk, kind, value, nonce), code),
            last_sent_at=now,
            expires_at=now + CODE_TTL,
            actor=actor,
        )
    try:
        inbox = _send_code(verification, code, conversation)
    except VerificationError:
        IdentityVerification.objects.filter(pk=verification.pk).update(state=IdentityVerification.State.CANCELLED)
        raise
    with transaction.atomic():
        verification.inbox = inbox
        verification.save(update_fields=["inbox"])
        events.record(
            events.IdentityVerificationStarted(
                workspace_id=conversation.workspace_id,
                conversation_id=conversation.pk,
                inbox_id=conversation.inbox_id,
                actor_id=actor.pk if actor else None,
                verification_id=verification.pk,
                identity_kind=kind,
                masked=mask(kind, value),
            )
        )
    return verification


def _code_text(code: str) -> str:
    minutes = int(CODE_TTL.total_seconds() // 60)
    return _("Your verification code is %(code)s. Type it in the chat to confirm it is you. "
             "It expires in %(minutes)s minutes. If you did not ask for it, ignore this message.") % {
        "code": code, "minutes": minutes}


def _candidate_inboxes(verification: IdentityVerification, conversation) -> list[Inbox]:
    from threadline.connectors.registry import connector_for

    inboxes = Inbox.objects.filter(
        workspace_id=verification.workspace_id, state=InboxState.ACTIVE, health=InboxHealth.OK
    ).order_by("pk")
    able = [inbox for inbox in inboxes if verification.kind in connector_for(inbox.kind).recipient_kinds]
    # The conversation's own channel first, then the others in the order they were set up.
    return sorted(able, key=lambda inbox: inbox.pk != conversation.inbox_id)


def _send_code(verification: IdentityVerification, code: str, conversation) -> Inbox | None:
    """Send the code on the first inbox that can reach the address; email falls back to the app's own mail."""
    from threadline.conversations.delivery import channel_config
    from threadline.connectors.registry import connector_for

    language = verification.contact.language or conversation.language or None
    with translation.override(language):
        text = _code_text(code)
        subject = _("Your verification code")
    for inbox in _candidate_inboxes(verification, conversation):
        outbound = OutboundMessage(
            # A negative id marks a message that is not a stored Message row (no receipts are matched to it).
            message_id=-verification.pk,
            conversation_id=conversation.pk,
            recipient_kind=verification.kind,
            recipient=verification.value,
            text=text,
            subject=subject,
            automatic=True,
        )
        try:
            connector_for(inbox.kind).send(outbound, channel_config(inbox))
        except SendError as error:
            logger.info("verification code not sent verification=%s inbox=%s transient=%s",
                        verification.pk, inbox.pk, error.transient)
            continue
        except Exception:
            logger.exception("connector %s raised while sending verification=%s", inbox.kind, verification.pk)
            continue
        return inbox
    if verification.kind == IdentityKind.EMAIL:
        try:
            send_mail(subject, text, None, [verification.value])
        except Exception:
            logger.exception("application mail failed for verification=%s", verification.pk)
        else:
            return None
    if verification.kind == IdentityKind.PHONE:
        raise VerificationError(_("No text-message inbox could send the code. Add or check an SMS inbox."))
    raise VerificationError(_("The code could not be sent. Check the email inbox's outgoing mail settings."))


def _codes_in(text: str) -> list[str]:
    return ["".join(match.groups()) for match in _CODE.finditer(text or "")][:3]


def verification_pending(*, conversation) -> IdentityVerification | None:
    """The conversation's open verification, if any (expired ones included until a code is tried)."""
    return (
        IdentityVerification.objects.filter(conversation_id=conversation.pk, state=IdentityVerification.State.PENDING)
        .order_by("-created_at", "-id")
        .first()
    )


def _message_id_for(conversation, text: str) -> int | None:
    from threadline.conversations.models import Direction, Message

    candidates = (
        Message.objects.filter(conversation_id=conversation.pk, direction=Direction.INBOUND)
        .order_by("-provider_sent_at", "-id")
        .values_list("pk", "text")[:5]
    )
    return next((pk for pk, body in candidates if body == text), None)


def verification_try_code(*, conversation, text: str, message_id: int | None = None) -> VerificationOutcome | None:
    """Check a customer's message for the pending code. None when nothing is pending or no code is in it.

    Idempotent per inbound message: the reaction and the bot may both call it for the same message; the
    second call returns the first one's outcome without counting another attempt. A right code verifies
    the identity on the conversation's contact and merges another contact that holds it verified.
    Publishes: IdentityVerified; ContactsMerged (through contact_merge).
    """
    codes = _codes_in(text)
    if not codes:
        return None
    if message_id is None:
        message_id = _message_id_for(conversation, text)
    now = timezone.now()
    with transaction.atomic():
        done = _verified_by(conversation, message_id)
        if done is not None:
            return done
        verification = (
            IdentityVerification.objects.select_for_update()
            .filter(conversation_id=conversation.pk, state=IdentityVerification.State.PENDING)
            .order_by("-created_at", "-id")
            .first()
        )
        if verification is None:
            # A concurrent caller may have verified with this very message while we waited for the lock.
            return _verified_by(conversation, message_id)
        contact = _live(verification.contact)
        if message_id is not None and message_id in verification.checked_message_ids:
            return VerificationOutcome(False, None, contact, verification, "wrong_code",
                                       MAX_ATTEMPTS - verification.attempts)
        if verification.expires_at <= now:
            verification.state = IdentityVerification.State.EXPIRED
            verification.save(update_fields=["state"])
            return VerificationOutcome(False, None, contact, verification, "expired")
        nonce, _sep, expected = verification.code_hash.partition(":")
        key = _key(conversation.pk, verification.kind, verification.value, nonce)
        right = False
        for code in codes:  # compare every candidate, constant time each
            right |= hmac.compare_digest(_code_hash(key, code), expected)
        if message_id is not None:
            verification.checked_message_ids = [*verification.checked_message_ids, message_id][-20:]
        if not right:
            verification.attempts += 1
            reason = "wrong_code"
            if verification.attempts >= MAX_ATTEMPTS:
                verification.state = IdentityVerification.State.FAILED
                reason = "too_many_attempts"
            verification.save(update_fields=["attempts", "state", "checked_message_ids"])
            return VerificationOutcome(False, None, contact, verification, reason, MAX_ATTEMPTS - verification.attempts)
        identity, contact, merge_id = _attach_identity(verification, contact)
        verification.state = IdentityVerification.State.VERIFIED
        verification.verified_at = now
        verification.verified_message_id = message_id
        verification.identity = identity
        verification.save(update_fields=["state", "verified_at", "verified_message_id", "identity", "checked_message_ids"])
        events.record(
            events.IdentityVerified(
                workspace_id=conversation.workspace_id,
                conversation_id=conversation.pk,
                inbox_id=conversation.inbox_id,
                actor_id=None,
                verification_id=verification.pk,
                identity_kind=verification.kind,
                masked=mask(verification.kind, verification.value),
                contact_id=contact.pk,
                merge_id=merge_id,
            )
        )
    return VerificationOutcome(True, identity, contact, verification)


def _verified_by(conversation, message_id: int | None) -> VerificationOutcome | None:
    """The outcome of an earlier check of this same message that verified the code, if there was one."""
    if message_id is None:
        return None
    done = (
        IdentityVerification.objects.select_related("identity", "contact")
        .filter(conversation_id=conversation.pk, verified_message_id=message_id)
        .first()
    )
    return VerificationOutcome(True, done.identity, _live(done.contact), done) if done else None


def _live(contact: Contact) -> Contact:
    """Follow merge tombstones to the contact that holds the data now."""
    seen = set()
    while contact.merged_into_id and contact.pk not in seen:
        seen.add(contact.pk)
        contact = Contact.objects.get(pk=contact.merged_into_id)
    return contact


def _attach_identity(verification: IdentityVerification, contact: Contact) -> tuple[Identity, Contact, int | None]:
    """Make the proved address a verified identity of ``contact``; merge a contact that already holds it verified.

    An address held *unverified* by someone else is moved to the person who proved it, and the two contacts
    become a merge suggestion for an agent: only a verified identifier links people automatically.
    """
    now = timezone.now()
    holder = (
        Identity.objects.select_for_update()
        .select_related("contact")
        .filter(workspace_id=verification.workspace_id, kind=verification.kind, value=verification.value,
                inbox__isnull=True)
        .first()
    )
    if holder is None:
        identity = Identity.objects.create(
            workspace_id=verification.workspace_id, contact=contact, kind=verification.kind, value=verification.value,
            raw_value=verification.value, verified=True, source="verification", last_seen_at=now,
        )
        return identity, contact, None
    owner = _live(holder.contact)
    if owner.pk == contact.pk:
        Identity.objects.filter(pk=holder.pk).update(contact=contact, verified=True, last_seen_at=now)
        holder.refresh_from_db()
        return holder, contact, None
    if holder.verified:
        # A verified identifier on two contacts: one person. The known contact survives; the audit allows undo.
        merge = contact_merge(survivor=owner, absorbed=contact, actor=None)
        Identity.objects.filter(pk=holder.pk).update(last_seen_at=now)
        holder.refresh_from_db()
        return holder, _live(owner), merge.pk
    Identity.objects.filter(pk=holder.pk).update(contact=contact, verified=True, source="verification",
                                                  last_seen_at=now)
    holder.refresh_from_db()
    merge_suggestion_add(contact=contact, other=owner, reason=f"verified_{verification.kind}",
                         detail=verification.value, confidence=0.9)
    return holder, contact, None


_EMAIL_IN_TEXT = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+", re.UNICODE)


def verification_check_message(*, conversation_id: int, message_id: int, text: str) -> VerificationOutcome | None:
    """What an inbound message says about identity: a pending code typed back, an email someone else has.

    Called after commit for every inbound message, so it returns at once when the text holds neither.
    """
    from threadline.conversations.models import Conversation

    if not text or ("@" not in text and not _CODE.search(text)):
        return None
    conversation = Conversation.objects.select_related("contact").filter(pk=conversation_id).first()
    if conversation is None:
        return None
    outcome = None
    if _CODE.search(text) and verification_pending(conversation=conversation) is not None:
        outcome = verification_try_code(conversation=conversation, text=text, message_id=message_id)
    if "@" in text:
        merge_suggestions_from_text(contact=_live(conversation.contact), text=text)
    return outcome


def merge_suggestions_from_text(*, contact: Contact, text: str) -> int:
    """An email address the customer typed that belongs to another contact becomes a merge suggestion."""
    found = 0
    for raw in set(_EMAIL_IN_TEXT.findall(text)[:5]):
        try:
            value = normalise(IdentityKind.EMAIL, raw)
        except InvalidIdentityError:
            continue
        owner_id = (
            Identity.objects.filter(workspace_id=contact.workspace_id, kind=IdentityKind.EMAIL, value=value,
                                    inbox__isnull=True)
            .exclude(contact_id=contact.pk)
            .values_list("contact_id", flat=True)
            .first()
        )
        if owner_id is None:
            continue
        other = _live(Contact.objects.get(pk=owner_id))
        if other.pk != contact.pk:
            merge_suggestion_add(contact=contact, other=other, reason="typed_email", detail=value, confidence=0.5)
            found += 1
    return found
