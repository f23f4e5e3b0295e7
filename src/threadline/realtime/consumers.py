"""The agent websocket: streams events of exactly the conversations the agent may see.

Authenticated by the Django session (browsers) or an API token in the ``Authorization: Bearer`` header
(other clients). On connect the agent joins one group per visible inbox; each event is checked again
against that set before it is forwarded.
"""

from __future__ import annotations

import sys

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from threadline.conversations.selectors import conversation_inbox_id
from threadline.core.permissions import inbox_ids_visible_to, is_admin
from threadline.core.selectors import membership_for_user
from threadline.core.tokens import api_token_authenticate
from threadline.realtime import presence
from threadline.realtime.publish import agent_group, conversation_group, inbox_group, workspace_admin_group

CLOSE_UNAUTHENTICATED = 4401


def _bearer_token(scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            text = value.decode("latin-1")
            if text.lower().startswith("bearer "):
                return text[7:].strip()
    return ""


_SHARED_SETS: dict[frozenset, frozenset] = {}


def _shared(ids: frozenset) -> frozenset:
    """One object per distinct set of visible inboxes, shared by every socket that sees the same set."""
    if len(_SHARED_SETS) > 10_000:
        _SHARED_SETS.clear()
    return _SHARED_SETS.setdefault(ids, ids)


@database_sync_to_async
def _resolve(scope):
    token = _bearer_token(scope)
    if token:
        membership = api_token_authenticate(token)
    else:
        workspace = scope.get("query_workspace")
        membership = membership_for_user(scope.get("user"), workspace)
    if membership is None:
        return None, set(), False
    str(membership)  # resolve the display name (may read the user) while we are in a sync thread
    return membership, inbox_ids_visible_to(membership), is_admin(membership)


class AgentConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        query = dict(
            part.split("=", 1) for part in self.scope.get("query_string", b"").decode().split("&") if "=" in part
        )
        workspace = query.get("workspace", "")
        self.scope["query_workspace"] = int(workspace) if workspace.isdigit() else None
        membership, inbox_ids, admin = await _resolve(self.scope)
        if membership is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.membership_id = membership.pk
        self.workspace_id = membership.workspace_id
        self.name = str(membership)
        self.inbox_ids = _shared(frozenset(inbox_ids))
        self.viewing: set[int] = set()
        groups = [inbox_group(i) for i in sorted(inbox_ids)] + [agent_group(membership.pk)]
        if admin:
            groups.append(workspace_admin_group(membership.workspace_id))
        self.groups_joined = [sys.intern(group) for group in groups]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "membership_id": membership.pk, "inbox_ids": sorted(inbox_ids)})

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        for conversation_id in list(getattr(self, "viewing", ())):
            await self._leave(conversation_id)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        conversation_id = content.get("conversation_id")
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "conversation.view" and isinstance(conversation_id, int):
            await self._view(conversation_id)
        elif kind == "conversation.leave" and conversation_id in self.viewing:
            await self._leave(conversation_id)
        elif kind == "typing" and conversation_id in self.viewing:
            await self.channel_layer.group_send(
                conversation_group(conversation_id),
                {
                    "type": "threadline.typing",
                    "conversation_id": conversation_id,
                    "membership_id": self.membership_id,
                    "name": self.name,
                    "composing": bool(content.get("composing")),
                },
            )

    async def _view(self, conversation_id: int) -> None:
        """Join a conversation's viewer group, after checking the agent may see it."""
        inbox_id = await database_sync_to_async(conversation_inbox_id)(self.workspace_id, conversation_id)
        if inbox_id is None or inbox_id not in self.inbox_ids:
            await self.send_json({"type": "error", "detail": "not found", "conversation_id": conversation_id})
            return
        if conversation_id not in self.viewing:
            self.viewing.add(conversation_id)
            await self.channel_layer.group_add(conversation_group(conversation_id), self.channel_name)
        viewers = await sync_to_async(presence.viewer_touch)(conversation_id, self.membership_id, self.name)
        await self._broadcast_presence(conversation_id, viewers)

    async def _leave(self, conversation_id: int) -> None:
        self.viewing.discard(conversation_id)
        await self.channel_layer.group_discard(conversation_group(conversation_id), self.channel_name)
        viewers = await sync_to_async(presence.viewer_leave)(conversation_id, self.membership_id)
        await self._broadcast_presence(conversation_id, viewers)

    async def _broadcast_presence(self, conversation_id: int, viewers: list[dict]) -> None:
        await self.channel_layer.group_send(
            conversation_group(conversation_id),
            {"type": "threadline.presence", "conversation_id": conversation_id, "viewers": viewers},
        )

    async def threadline_presence(self, message):
        await self.send_json({"type": "presence", "conversation_id": message["conversation_id"], "viewers": message["viewers"]})

    async def threadline_typing(self, message):
        if message["conversation_id"] in self.viewing:
            await self.send_json({k: message[k] for k in ("conversation_id", "membership_id", "name", "composing")} | {"type": "typing"})

    async def threadline_event(self, message):
        event = message["event"]
        inbox_id = event.get("inbox_id")
        if inbox_id is not None and inbox_id not in self.inbox_ids:
            return  # defence in depth: never forward what this agent may not see
        await self.send_json(event)
