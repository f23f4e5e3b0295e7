"""One conversation's timeline: messages from every channel, notes, activity lines and channel switches.

Activity lines are read from the append-only Event log (nothing is stored twice); a channel switch is
marked where the customer's messages move from one inbox to another.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from threadline.conversations.models import Conversation, Direction, Event, Message, Priority, Status
from threadline.conversations.selectors import message_list_for
from threadline.core.models import Membership

ACTIVITY_KINDS = (
    "conversation.assigned",
    "conversation.status_changed",
    "conversation.updated",
    "conversation.routed",
    "conversation.queued",
    "sla.warning",
    "sla.breached",
    "csat.recorded",
    "identity.verification_started",
    "identity.verified",
    "conversation.merged",
    "conversation.split",
    "conversation.unmerged",
)


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # "message", "activity" or "channel_switch"
    at: dt.datetime
    message: Message | None = None
    text: str = ""


def timeline_for(conversation: Conversation) -> list[TimelineEntry]:
    messages = list(message_list_for(conversation))
    entries: list[TimelineEntry] = []
    last_inbox_id = None
    for message in messages:
        if message.direction == Direction.INBOUND:
            if last_inbox_id is not None and message.inbox_id != last_inbox_id:
                entries.append(
                    TimelineEntry(
                        kind="channel_switch",
                        at=message.provider_sent_at,
                        text=_("The customer continued on %(channel)s") % {"channel": message.inbox.name},
                    )
                )
            last_inbox_id = message.inbox_id
        entries.append(TimelineEntry(kind="message", at=message.provider_sent_at, message=message))
    events = list(
        Event.objects.filter(
            workspace_id=conversation.workspace_id, conversation_id=conversation.pk, kind__in=ACTIVITY_KINDS
        ).order_by("created_at", "id")
    )
    names = _agent_names(conversation.workspace_id, events)
    for event in events:
        text = activity_text(event, names)
        if text:
            entries.append(TimelineEntry(kind="activity", at=event.created_at, text=text))
    return sorted(entries, key=lambda entry: entry.at)


def _agent_names(workspace_id: int, events: list[Event]) -> dict[int, str]:
    ids = {e.actor_id for e in events} | {e.data.get("assignee_id") for e in events}
    ids.discard(None)
    members = Membership.objects.select_related("user").filter(workspace_id=workspace_id, pk__in=ids)
    return {m.pk: str(m) for m in members}


def activity_text(event: Event, names: dict[int, str]) -> str:
    """A sentence for one activity event, in the active language."""
    actor = names.get(event.actor_id) or _("Threadline")
    data = event.data
    if event.kind == "conversation.assigned":
        assignee = names.get(data.get("assignee_id"))
        if assignee:
            return _("%(actor)s assigned the conversation to %(assignee)s") % {"actor": actor, "assignee": assignee}
        return _("%(actor)s unassigned the conversation") % {"actor": actor}
    if event.kind == "conversation.status_changed":
        status = data.get("status")
        if status == Status.RESOLVED:
            return _("%(actor)s resolved the conversation") % {"actor": actor}
        if status == Status.OPEN and data.get("previous_status") == Status.RESOLVED:
            return _("%(actor)s reopened the conversation") % {"actor": actor}
        if status == Status.OPEN and data.get("previous_status") == Status.SNOOZED and not event.actor_id:
            return _("The conversation woke up from snooze")
        if status == Status.SNOOZED:
            until = dt.datetime.fromisoformat(data["snoozed_until"]) if data.get("snoozed_until") else None
            when = formats.date_format(until, "SHORT_DATETIME_FORMAT") if until else ""
            return _("%(actor)s snoozed the conversation until %(when)s") % {"actor": actor, "when": when}
        return _("%(actor)s set the status to %(status)s") % {"actor": actor, "status": Status(status).label}
    if event.kind == "conversation.updated":
        changes = data.get("changes", {})
        if "priority" in changes:
            return _("%(actor)s set the priority to %(priority)s") % {
                "actor": actor,
                "priority": Priority(changes["priority"]).label,
            }
        if "labels" in changes:
            labels = ", ".join(changes["labels"]) or _("none")
            return _("%(actor)s set the labels: %(labels)s") % {"actor": actor, "labels": labels}
    return merge_activity_text(event, actor) or routing_activity_text(event)


def merge_activity_text(event: Event, actor: str) -> str:
    """Activity lines of identity capture and of conversation merges and splits."""
    data = event.data
    if event.kind == "identity.verification_started":
        if data.get("identity_kind") == "phone":
            return _("%(actor)s sent a verification code by text message to %(address)s") % {
                "actor": actor, "address": data.get("masked", "")}
        return _("%(actor)s sent a verification code by email to %(address)s") % {
            "actor": actor, "address": data.get("masked", "")}
    if event.kind == "identity.verified":
        if data.get("merge_id"):
            return _("The customer confirmed %(address)s with the code; their other contact record was merged in") % {
                "address": data.get("masked", "")}
        return _("The customer confirmed %(address)s with the code") % {"address": data.get("masked", "")}
    here = event.conversation_id
    if event.kind == "conversation.merged":
        if here == data.get("target_id"):
            return _("%(actor)s merged conversation #%(other)s into this one") % {"actor": actor, "other": data.get("source_id")}
        return _("%(actor)s merged this conversation into #%(other)s") % {"actor": actor, "other": data.get("target_id")}
    if event.kind == "conversation.split":
        if here == data.get("source_id"):
            return _("%(actor)s split the later messages into conversation #%(other)s") % {
                "actor": actor, "other": data.get("target_id")}
        return _("%(actor)s split this conversation from #%(other)s") % {"actor": actor, "other": data.get("source_id")}
    if event.kind == "conversation.unmerged":
        other = data.get("source_id") if here == data.get("target_id") else data.get("target_id")
        return _("%(actor)s undid the merge or split with #%(other)s") % {"actor": actor, "other": other}
    return ""


SLA_TARGET_NAMES = {
    "first_response": gettext_lazy("first response"),
    "next_response": gettext_lazy("next response"),
    "resolution": gettext_lazy("resolution"),
}


ROUTING_CONDITION_NAMES = {
    "channel_kinds": gettext_lazy("channel"),
    "inbox_ids": gettext_lazy("inbox"),
    "languages": gettext_lazy("language"),
    "labels": gettext_lazy("label"),
    "keywords": gettext_lazy("first message mentions"),
    "contact_attributes": gettext_lazy("contact"),
}


def _routing_reason(reason: str) -> str:
    key, _sep, values = reason.partition("=")
    return f"{ROUTING_CONDITION_NAMES.get(key, key)}: {values}"


def routing_activity_text(event: Event) -> str:
    """Activity lines of routing: which rule matched and why, queueing, SLA warnings and breaches, CSAT."""
    data = event.data
    if event.kind == "conversation.routed":
        reasons = "; ".join(_routing_reason(reason) for reason in data.get("reasons", [])) or _("no conditions")
        return _("Routing rule “%(rule)s” matched (%(reasons)s)") % {"rule": data.get("rule_name", ""), "reasons": reasons}
    if event.kind == "conversation.queued":
        if data.get("reason") == "agent_offline":
            return _("The agent went offline: back in the queue at position %(position)s") % {"position": data.get("position")}
        return _("No suitable agent has room: waiting in the queue at position %(position)s") % {
            "position": data.get("position")
        }
    target = SLA_TARGET_NAMES.get(data.get("target", ""), data.get("target", ""))
    if event.kind == "sla.warning":
        return _("SLA warning: the %(target)s target is close") % {"target": target}
    if event.kind == "sla.breached":
        return _("SLA breached: the %(target)s target was missed") % {"target": target}
    if event.kind == "csat.recorded":
        return _("The customer rated the conversation %(rating)s of 5") % {"rating": data.get("rating")}
    return ""
