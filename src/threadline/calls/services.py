"""Call services: apply one step of a phone call to the call log, the caller's conversation and the screen pop.

``call_event_apply`` is idempotent on (inbox, call id): a repeated or late event never moves a call
backwards and announces nothing twice. A call becomes one "call" entry (a message whose ``meta["call"]``
holds direction, numbers, state, duration, recording and transcript) in the caller's open conversation,
found through the caller's phone identity, the same one SMS and WhatsApp use. Withheld numbers are logged
without a conversation.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from threadline import events
from threadline.calls.linking import caller_is_unknown, caller_number, likely_contacts_for_call
from threadline.calls.models import STATE_ORDER, Call, CallState
from threadline.calls.selectors import (
    agents_for_ringing_call,
    agents_matching,
    open_conversations_card,
    visible_to_all,
)
from threadline.connectors.base import CallEvent, InboundMessage
from threadline.contacts.models import Contact
from threadline.conversations.models import AuthorKind, Conversation, Direction, Message
from threadline.conversations.payloads import message_payload
from threadline.conversations.services import message_receive
from threadline.core.models import Inbox, Membership

logger = logging.getLogger(__name__)


def call_event_apply(*, inbox: Inbox, event: CallEvent) -> Call:
    """Record one call step; log the call in the caller's conversation; leave a callback for a missed call.

    Publishes: MessageCreated (the call entry, a callback item), MessageUpdated, CallRinging (the screen pop,
    once per call), CallAnswered, CallEnded.
    """
    entry = _timeline_entry(inbox, event)
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _apply_once(inbox, event, entry)
        except IntegrityError:  # a concurrent delivery of the same call created the row first
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _timeline_entry(inbox: Inbox, event: CallEvent) -> Message | None:
    """The call's entry in the caller's conversation (message_receive dedupes it on ``call:<id>``)."""
    if event.caller is None:
        return None
    inbound = InboundMessage(
        provider_id=f"call:{event.call_id}"[:255],
        sender=event.caller,
        sent_at=event.at,
        text=_("Phone call"),
        echo=event.direction == "outbound",  # our agent called: the entry is on our side of the timeline
        meta={"call": {"direction": event.direction, "state": CallState.RINGING}},
    )
    return message_receive(inbox=inbox, inbound=inbound).message


def _apply_once(inbox: Inbox, event: CallEvent, entry: Message | None) -> Call:
    call = Call.objects.select_for_update().filter(inbox=inbox, call_id=event.call_id).first()
    created = call is None
    if call is None:
        call = Call.objects.create(
            workspace_id=inbox.workspace_id, inbox=inbox, call_id=event.call_id, direction=event.direction,
            from_number=event.from_number, to_number=event.to_number, started_at=event.at,
            contact_id=entry.conversation.contact_id if entry else None,
            conversation_id=entry.conversation_id if entry else None, message=entry,
        )
    before = _summary(call)
    if event.step == "ringing" and created:
        _announce_ringing(call, event)
    elif event.step == "answered":
        _answer(call, event)
    elif event.step == "ended":
        _end(call, event)
    elif event.step == "recording" and event.recording_url:
        call.recording_url = event.recording_url
        call.duration = call.duration if call.duration is not None else event.duration
    elif event.step == "transcript" and event.transcript:
        call.transcript = event.transcript
    call.save()
    if created or _summary(call) != before:
        _refresh_entry(call)
    logger.info("call %s step=%s state=%s", call.pk, event.step, call.state)
    return call


def _summary(call: Call) -> dict:
    """What the timeline shows of a call (Message.meta["call"])."""
    return {
        "id": call.pk, "direction": call.direction, "from": call.from_number, "to": call.to_number,
        "state": call.state, "outcome": call.outcome, "duration": call.duration,
        "answered_by": str(call.agent) if call.agent else "", "recording_url": call.recording_url,
        "transcript": call.transcript,
    }


def _refresh_entry(call: Call) -> None:
    if call.message_id is None:
        return
    message = Message.objects.select_related("inbox", "author", "conversation").get(pk=call.message_id)
    message.meta = {**message.meta, "call": _summary(call)}
    message.save(update_fields=["meta"])
    events.record(events.MessageUpdated(
        workspace_id=call.workspace_id, conversation_id=message.conversation_id,
        inbox_id=message.conversation.inbox_id,
        message=message_payload(message),
    ))


def _announce_ringing(call: Call, event: CallEvent) -> None:
    recipients = agents_for_ringing_call(call.inbox, event.agents)
    contact = call.contact
    card = None
    conversations: list[dict] = []
    if contact is not None:
        number = event.caller.value if event.caller else ""
        card = {"id": contact.pk, "name": contact.name, "number": number}
        conversations = open_conversations_card(contact, call.inbox, recipients)
    events.record(events.CallRinging(
        workspace_id=call.workspace_id, conversation_id=call.conversation_id, inbox_id=call.inbox_id,
        call_id=call.pk, direction=call.direction,
        number=event.caller.value if event.caller else "", contact=card,
        open_conversations=conversations, recipient_ids=[member.pk for member in recipients],
        likely_contacts=likely_contacts_for_call(call, visible_inbox_ids=visible_to_all(recipients)),
        unknown_caller=caller_is_unknown(contact),
    ))


def _answer(call: Call, event: CallEvent) -> None:
    if STATE_ORDER[call.state] >= STATE_ORDER[CallState.ANSWERED]:
        return
    matched = agents_matching(call.inbox, event.agents)
    call.state = CallState.ANSWERED
    call.answered_at = event.at
    call.agent = matched[0] if matched else None
    events.record(events.CallAnswered(
        workspace_id=call.workspace_id, conversation_id=call.conversation_id, inbox_id=call.inbox_id,
        actor_id=call.agent_id, call_id=call.pk, agent_id=call.agent_id,
        recipient_ids=[call.agent_id] if call.agent_id else [],
    ))


def _end(call: Call, event: CallEvent) -> None:
    if call.state in (CallState.ENDED, CallState.MISSED):
        return
    outcome = event.outcome or "completed"
    if outcome == "completed" and call.direction == "inbound" and call.answered_at is None:
        outcome = "missed"  # the caller hung up (or left a voicemail) before anyone answered
    call.outcome = outcome
    call.state = CallState.ENDED if outcome == "completed" else CallState.MISSED
    call.ended_at = event.at
    if event.duration is not None:
        call.duration = event.duration
    elif call.answered_at is not None:
        call.duration = max(0, int((event.at - call.answered_at).total_seconds()))
    events.record(events.CallEnded(
        workspace_id=call.workspace_id, conversation_id=call.conversation_id, inbox_id=call.inbox_id,
        call_id=call.pk, outcome=outcome, duration=call.duration,
    ))
    if call.state == CallState.MISSED and call.direction == "inbound" and call.conversation_id is not None:
        _leave_callback(call)


def _leave_callback(call: Call) -> None:
    """A missed call leaves a callback item in the caller's conversation, which routing already assigns."""
    callback = Message.objects.create(
        workspace_id=call.workspace_id, conversation_id=call.conversation_id, inbox_id=call.inbox_id,
        direction=Direction.ACTIVITY, author_kind=AuthorKind.SYSTEM,
        text=_("Missed call: please call the customer back."),
        provider_sent_at=call.ended_at, meta={"callback": {"call_id": call.pk, "number": call.from_number}},
    )
    call.callback = callback
    events.record(events.MessageCreated(
        workspace_id=call.workspace_id, conversation_id=call.conversation_id,
        inbox_id=callback.conversation.inbox_id,
        message=message_payload(callback),
    ))


# --- An unknown caller: link the number to a contact in one click ----------------------------------------


class LinkError(ValueError):
    """A link the agent cannot make; the message is shown to them."""


def call_link_contact(*, call: Call, contact: Contact, actor: Membership, confirmed: bool = False) -> Call:
    """Give ``contact`` the unknown caller's number and move the call (and its conversation) onto them.

    The number is stored unverified unless the agent confirms it (caller ids can be spoofed). The call's
    conversation moves to the contact with its entries; the empty placeholder contact is retired into the
    chosen one (``merged_into``), so old links lead there. Publishes: CallerLinked.
    """
    if contact.workspace_id != call.workspace_id or actor.workspace_id != call.workspace_id:
        raise LinkError(_("That contact belongs to another workspace."))
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call.pk)
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        placeholder = call.contact
        if contact.merged_into_id is not None:
            raise LinkError(_("That contact was merged into another one; choose that one."))
        if placeholder is None:
            raise LinkError(_("This call has no number to link."))
        if placeholder.pk == contact.pk:
            raise LinkError(_("The call is already on this contact."))
        if not caller_is_unknown(placeholder):
            raise LinkError(_("This number already belongs to a known contact."))
        number = caller_number(call)
        moved_identities = list(placeholder.identities.values_list("pk", flat=True))
        placeholder.identities.update(contact=contact, verified=confirmed)
        conversations = list(Conversation.objects.filter(contact=placeholder).values_list("pk", flat=True))
        Conversation.objects.filter(pk__in=conversations).update(contact=contact)
        Call.objects.filter(contact=placeholder).update(contact=contact)
        placeholder.merged_into = contact
        placeholder.save(update_fields=["merged_into", "updated_at"])
        if not contact.name and placeholder.name:
            contact.name = placeholder.name
            contact.save(update_fields=["name", "updated_at"])
        call.refresh_from_db()
        events.record(events.CallerLinked(
            workspace_id=call.workspace_id,
            conversation_id=call.conversation_id,
            inbox_id=call.conversation.inbox_id if call.conversation_id else call.inbox_id,
            actor_id=actor.pk,
            call_id=call.pk,
            contact_id=contact.pk,
            previous_contact_id=placeholder.pk,
            number=number,
            verified=confirmed,
            moved_conversation_ids=conversations,
            moved_identity_ids=moved_identities,
        ))
    return call
