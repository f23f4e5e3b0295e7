"""The visitor websocket (``/ws/widget/?inbox=<public id>``): live chat for one visitor.

Checks the Origin against the inbox's allowed domains before accepting, then expects the signed session
as the first frame (``auth``) and joins the groups of exactly the conversations this visitor may read.
Frames in: ``auth``, ``resume`` (replay after a cursor), ``message`` (client-generated id; a retry never
duplicates), ``typing``, ``read``, ``ping``.
Frames out: ``hello``, ``history``, ``ack``, ``message``, ``typing``, ``error``, ``pong``.
"""

from __future__ import annotations

import asyncio
import hashlib
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.consumer import get_handler_name
from django.utils.translation import gettext_lazy as _

from threadline.connectors.livechat import conversation_group as visitor_conversation_group
from threadline.realtime.publish import conversation_group as agent_conversation_group
from threadline.widget import selectors, services
from threadline.widget.config import origin_allowed, widget_settings
from threadline.widget.services import WidgetError

CLOSE_NOT_ALLOWED = 4403
CLOSE_UNAUTHENTICATED = 4401
AUTH_SECONDS = 10  # a socket that has not sent its session by then is closed


def visitor_group(inbox_id: int, key: str) -> str:
    """All sockets of one visitor (several tabs), to tell them about a new conversation."""
    return f"widget.visitor.{inbox_id}.{hashlib.sha256(key.encode()).hexdigest()[:32]}"


@database_sync_to_async
def _inbox_for(public_id: str, origin: str):
    inbox = selectors.widget_inbox_get(public_id)
    if inbox is None:
        return None, "not found"
    allowed = list(widget_settings(inbox.config)["allowed_domains"])
    if allowed and not origin_allowed(origin, allowed):
        return inbox, "origin"
    return inbox, ""


@database_sync_to_async
def _visitor_for(inbox, token: str):
    try:
        visitor, _payload = services.session_read(inbox=inbox, token=token)
    except WidgetError:
        return None
    return visitor


class WidgetConsumer(AsyncJsonWebsocketConsumer):
    """The session arrives in the first frame (``{"type": "auth", "session": …}``), not in the URL, so it
    never lands in access logs."""

    async def connect(self):
        query = {k: v[0] for k, v in parse_qs(self.scope.get("query_string", b"").decode()).items()}
        origin = next((v.decode("latin-1") for k, v in self.scope.get("headers", []) if k == b"origin"), "")
        self.ip = (self.scope.get("client") or ("", 0))[0] or ""
        self.visitor = None
        inbox, problem = await _inbox_for(query.get("inbox", ""), origin)
        if problem:
            await self.close(code=CLOSE_NOT_ALLOWED if problem == "origin" else CLOSE_UNAUTHENTICATED)
            return
        self.inbox = inbox
        await self.accept()
        self.auth_timeout = asyncio.get_running_loop().call_later(AUTH_SECONDS, self._auth_expired)

    def _auth_expired(self) -> None:
        if self.visitor is None:
            asyncio.ensure_future(self.close(code=CLOSE_UNAUTHENTICATED))

    async def _authenticate(self, token: str) -> None:
        visitor = await _visitor_for(self.inbox, token) if isinstance(token, str) else None
        if visitor is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.auth_timeout.cancel()
        # An idle socket keeps only what its frames need: the inbox (and its workspace and config) was for
        # the session check; the services load ``visitor.inbox`` when a frame needs it.
        self.auth_timeout = self.inbox = None
        self.token = token
        self.visitor = visitor
        self.joined: set[int] = set()
        self.own_group = visitor_group(visitor.inbox_id, visitor.key)
        await self.channel_layer.group_add(self.own_group, self.channel_name)
        await self._join_readable()
        await self.send_json({"type": "hello", "conversation_ids": sorted(self.joined)})

    async def disconnect(self, code):
        if getattr(self, "auth_timeout", None) is not None:
            self.auth_timeout.cancel()
        if getattr(self, "visitor", None) is None:
            return
        await self.channel_layer.group_discard(self.own_group, self.channel_name)
        for conversation_id in self.joined:
            await self.channel_layer.group_discard(visitor_conversation_group(conversation_id), self.channel_name)
            await self.channel_layer.group_discard(agent_conversation_group(conversation_id), self.channel_name)
        await database_sync_to_async(services.visitor_touch)(visitor=self.visitor)

    async def dispatch(self, message):
        # The agents' conversation group also carries frames meant for agents only (viewers, future kinds):
        # a visitor socket ignores every type it has no handler for instead of failing.
        handler = getattr(self, get_handler_name(message), None)
        if handler is not None:
            await handler(message)

    async def _join_readable(self) -> None:
        ids = await database_sync_to_async(selectors.visitor_conversation_ids)(self.visitor)
        for conversation_id in ids:
            if conversation_id not in self.joined:
                self.joined.add(conversation_id)
                await self.channel_layer.group_add(visitor_conversation_group(conversation_id), self.channel_name)
                await self.channel_layer.group_add(agent_conversation_group(conversation_id), self.channel_name)

    # --- frames from the visitor ------------------------------------------------------------------------

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if self.visitor is None:
            if kind == "auth":
                await self._authenticate(content.get("session"))
            else:
                await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        try:
            if kind == "ping":
                await self.send_json({"type": "pong"})
            elif kind == "resume":
                after = content.get("after", 0)
                messages = await database_sync_to_async(selectors.visitor_messages)(
                    self.visitor, after=after if isinstance(after, int) and after > 0 else 0
                )
                await self.send_json({"type": "history", "messages": messages})
            elif kind == "message":
                await self._message(content)
            elif kind == "typing":
                await self._typing(bool(content.get("composing")))
            elif kind == "read" and isinstance(content.get("message_id"), int):
                await database_sync_to_async(services.visitor_mark_read)(visitor=self.visitor, message_id=content["message_id"])
        except WidgetError as error:
            await self.send_json({"type": "error", "status": error.status, "detail": str(error),
                                  "client_id": content.get("client_id")})

    async def _message(self, content: dict) -> None:
        client_id = content.get("client_id")
        text = content.get("text", "")
        if not isinstance(client_id, str) or not isinstance(text, str):
            raise WidgetError("'client_id' and 'text' must be strings.")
        payload = await database_sync_to_async(self._send_sync)(client_id, text, str(content.get("page_url", ""))[:500])
        await self.send_json({"type": "ack", "client_id": client_id, "message": payload})
        conversation_id = payload["conversation_id"]
        if conversation_id not in self.joined:
            await self._join_readable()
            await self.channel_layer.group_send(self.own_group, {"type": "widget.joined"})
        # The visitor's other tabs show it too (each socket drops ids it already has).
        await self.channel_layer.group_send(
            visitor_conversation_group(conversation_id), {"type": "widget.message", "message": payload}
        )

    def _send_sync(self, client_id: str, text: str, page_url: str) -> dict:
        message, _created = services.widget_message_send(
            visitor=self.visitor, token=self.token, client_id=client_id, text=text, page_url=page_url, ip=self.ip
        )
        return selectors.widget_message_payload(message)

    async def _typing(self, composing: bool) -> None:
        if not self.joined:
            return
        conversation_id = max(self.joined)
        await self.channel_layer.group_send(
            agent_conversation_group(conversation_id),
            {
                "type": "threadline.typing",
                "conversation_id": conversation_id,
                "membership_id": f"visitor-{self.visitor.pk}",
                "name": self.visitor.name or str(_("Visitor")),
                "composing": composing,
                "from_visitor": True,
            },
        )

    # --- frames from the server side --------------------------------------------------------------------

    async def widget_message(self, message):
        await self.send_json({"type": "message", "message": message["message"]})

    async def widget_joined(self, message):
        await self._join_readable()

    async def threadline_typing(self, message):
        if message.get("from_visitor") or message.get("conversation_id") not in self.joined:
            return
        await self.send_json({"type": "typing", "conversation_id": message["conversation_id"],
                              "name": message.get("name", ""), "composing": bool(message.get("composing"))})
