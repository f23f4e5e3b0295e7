"""The agent websocket: streams events of exactly the conversations the agent may see.

Authenticated by the Django session (browsers) or an API token in the ``Authorization: Bearer`` header
(other clients). On connect the agent joins one group per visible inbox; each event is checked again
against that set before it is forwarded.
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from threadline.core.permissions import inbox_ids_visible_to, is_admin
from threadline.core.selectors import membership_for_user
from threadline.core.tokens import api_token_authenticate
from threadline.realtime.publish import inbox_group, workspace_admin_group

CLOSE_UNAUTHENTICATED = 4401


def _bearer_token(scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            text = value.decode("latin-1")
            if text.lower().startswith("bearer "):
                return text[7:].strip()
    return ""


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
        self.inbox_ids = inbox_ids
        self.groups_joined = [inbox_group(i) for i in sorted(inbox_ids)]
        if admin:
            self.groups_joined.append(workspace_admin_group(membership.workspace_id))
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "membership_id": membership.pk, "inbox_ids": sorted(inbox_ids)})

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def threadline_event(self, message):
        event = message["event"]
        inbox_id = event.get("inbox_id")
        if inbox_id is not None and inbox_id not in self.inbox_ids:
            return  # defence in depth: never forward what this agent may not see
        await self.send_json(event)
