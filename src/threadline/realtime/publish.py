"""The one publish function, and the pure audience rule that says which websocket groups hear an event.

Domain code never touches sockets: services record events, ``reactions.dispatch`` calls ``publish``,
and consumers (``consumers.py``) forward what their groups receive.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync

from channels.layers import get_channel_layer

from threadline.events import (
    CallAnswered,
    CallRinging,
    DomainEvent,
    InboxHealthChanged,
    NotificationCreated,
    SlaBreached,
    SlaWarning,
)


def inbox_group(inbox_id: int) -> str:
    """Agents who may see an inbox's conversations join this group."""
    return f"inbox.{inbox_id}"


def agent_group(membership_id: int) -> str:
    """One agent's own sockets (notifications meant for them alone)."""
    return f"agent.{membership_id}"


def conversation_group(conversation_id: int) -> str:
    """Agents who have this conversation open (who is viewing, who is typing)."""
    return f"conversation.{conversation_id}"


def workspace_admin_group(workspace_id: int) -> str:
    """Owners and admins of a workspace (inbox health, settings changes)."""
    return f"workspace.{workspace_id}.admins"


def audience(event: DomainEvent) -> list[str]:
    """The websocket groups that may receive this event. Pure: no database, no network."""
    if isinstance(event, InboxHealthChanged):
        return [workspace_admin_group(event.workspace_id)]
    if isinstance(event, NotificationCreated):
        return [agent_group(event.membership_id)]
    if isinstance(event, CallRinging):  # the screen pop: only the agents the call concerns
        return [agent_group(member) for member in event.recipient_ids]
    if event.inbox_id is None:
        return []
    if isinstance(event, CallAnswered):  # every ringing card closes; the answering agent's screen pops
        return [inbox_group(event.inbox_id), *(agent_group(member) for member in event.recipient_ids)]
    if isinstance(event, (SlaWarning, SlaBreached)):  # the assignee and the team's leads, wherever they are
        return [inbox_group(event.inbox_id), *(agent_group(member) for member in event.recipient_ids)]
    return [inbox_group(event.inbox_id)]


def wire_message(event: DomainEvent, *, sequence: int) -> dict[str, Any]:
    """The JSON an agent's socket receives."""
    return {
        "type": event.kind,
        "seq": sequence,
        "workspace_id": event.workspace_id,
        "conversation_id": event.conversation_id,
        "inbox_id": event.inbox_id,
        "data": event.data(),
    }


def publish(event: DomainEvent, *, sequence: int) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    groups = audience(event)
    if not groups:
        return
    message = {"type": "threadline.event", "event": wire_message(event, sequence=sequence)}
    # One trip into an event loop for all the groups: each async_to_sync call from a worker thread starts a
    # loop, and channels-redis opens a new Redis connection per loop (bench.publish).
    async_to_sync(_send_to_groups)(layer, groups, message)


async def _send_to_groups(layer, groups: list[str], message: dict[str, Any]) -> None:
    for group in groups:
        await layer.group_send(group, message)
