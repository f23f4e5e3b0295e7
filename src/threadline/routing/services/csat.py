"""Satisfaction surveys: after resolution, a link on the customer's channel; the answer is stored once per survey.

The link carries a signed token (``django.core.signing``: HMAC with the secret key, compared in constant
time), so it names its survey without a guessable id and cannot be forged. Channels with their own rating
UI (the widget's stars, quick-reply buttons) call ``csat_record_rating`` with the survey they received from
``csat_send``: the storage and the event are the same for every channel.

Publishes: MessageCreated (the survey message, via message_reply), CsatRecorded.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from threadline import events
from threadline.conversations.models import AuthorKind, Conversation, Status
from threadline.conversations.services import ConversationError, message_reply
from threadline.routing.models import CsatResponse
from threadline.routing.services.config import routing_settings_ensure

TOKEN_SALT = "threadline.routing.csat"
TOKEN_MAX_AGE = 30 * 24 * 3600  # a survey link works for 30 days


class CsatError(ValueError):
    """A survey link or answer that cannot be accepted; its message is shown to the customer."""


def csat_token(csat: CsatResponse) -> str:
    return signing.dumps({"csat": csat.pk, "conversation": csat.conversation_id}, salt=TOKEN_SALT, compress=True)


def csat_link(csat: CsatResponse) -> str:
    return settings.PUBLIC_URL + reverse("web:csat", args=[csat_token(csat)])


def csat_from_token(token: str) -> CsatResponse:
    """The survey a link names. Raises CsatError for a forged, altered or expired token."""
    try:
        payload = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        raise CsatError(_("This survey link is not valid or has expired.")) from None
    csat = CsatResponse.objects.filter(pk=payload.get("csat"), conversation_id=payload.get("conversation")).first()
    if csat is None:
        raise CsatError(_("This survey link is not valid or has expired."))
    return csat


def csat_send(*, conversation_id: int) -> CsatResponse | None:
    """Send the survey of a resolved conversation on the customer's channel (once). None when not sent."""
    conversation = (
        Conversation.objects.select_related("inbox", "contact", "workspace").filter(pk=conversation_id).first()
    )
    if conversation is None or conversation.status != Status.RESOLVED:
        return None
    if not routing_settings_ensure(workspace_id=conversation.workspace_id).csat_enabled:
        return None
    language = conversation.contact.language or conversation.language or conversation.workspace.default_language
    try:
        with transaction.atomic():
            csat, created = CsatResponse.objects.get_or_create(
                conversation=conversation,
                defaults={
                    "workspace_id": conversation.workspace_id,
                    "inbox": conversation.inbox,
                    "channel_kind": conversation.inbox.kind,
                    "agent": conversation.assignee,
                    "language": language,
                },
            )
            if not created:
                return None
            with translation.override(language):
                text = _("How did we do? Rate our help in one click: %(link)s") % {"link": csat_link(csat)}
            message = message_reply(conversation=conversation, text=text, author=None, author_kind=AuthorKind.SYSTEM)
            csat.inbox_id = message.inbox_id
            csat.channel_kind = message.inbox.kind
            csat.save(update_fields=["inbox", "channel_kind"])
            return csat
    except ConversationError:  # e.g. the channel's reply window has closed: no survey, nothing stored
        return None


def csat_record(*, token: str, rating: int, comment: str = "") -> CsatResponse:
    """Store the customer's answer from the survey link. Publishes: CsatRecorded."""
    return csat_record_rating(csat=csat_from_token(token), rating=rating, comment=comment)


def csat_record_rating(*, csat: CsatResponse, rating: int, comment: str = "") -> CsatResponse:
    """Store a rating (1–5) and comment; a later answer replaces an earlier one. Publishes: CsatRecorded."""
    if not 1 <= int(rating) <= 5:
        raise CsatError(_("Choose a rating from 1 to 5."))
    with transaction.atomic():
        csat = CsatResponse.objects.select_for_update().select_related("conversation").get(pk=csat.pk)
        csat.rating, csat.comment, csat.answered_at = int(rating), comment.strip()[:2000], timezone.now()
        csat.save(update_fields=["rating", "comment", "answered_at"])
        events.record(
            events.CsatRecorded(
                workspace_id=csat.workspace_id,
                conversation_id=csat.conversation_id,
                inbox_id=csat.conversation.inbox_id,
                csat_id=csat.pk,
                rating=csat.rating,
                agent_id=csat.agent_id,
            )
        )
    return csat
