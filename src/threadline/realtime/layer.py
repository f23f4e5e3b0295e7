"""The in-memory channel layer for the one-process mode, made safe to publish to from worker threads.

Channels' in-memory layer keeps asyncio queues that belong to the server's event loop. In ``threadline
run`` the task worker publishes from its own thread (and its own loop, through ``async_to_sync``);
putting into another loop's queue from there would not wake the waiting consumer. This layer remembers
the loop its consumers receive on and runs sends on that loop. With Redis (``REDIS_URL``) none of this
is needed: every process talks to Redis.

It is also lighter than Channels' own in-memory layer, because every open websocket waits on its channel
all the time: an idle channel costs one small mailbox and one future here instead of an ``asyncio.Queue``
(four deques and an event, ~3 kB per socket), and the expiry sweep runs at most once a second over the
channels holding messages instead of over every channel and group on each receive and group send (which
made delivery slower as sockets accumulated). Semantics are Channels': per-channel capacity
(``ChannelFull``), messages expire after ``expiry`` seconds (and the channel then leaves its groups),
group memberships after ``group_expiry``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from copy import deepcopy

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer

SWEEP_SECONDS = 1.0  # message expiry is checked at most this often
GROUP_SWEEP_SECONDS = 60.0  # group memberships expire after a day by default: checked once a minute


class _Mailbox:
    """One channel: messages not received yet (a deque only while there are some) and waiting receivers."""

    __slots__ = ("messages", "waiters")

    def __init__(self):
        self.messages: deque | None = None
        self.waiters: list[asyncio.Future] | None = None


class LoopBridgedInMemoryChannelLayer(InMemoryChannelLayer):
    _home_loop: asyncio.AbstractEventLoop | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.channels: dict[str, _Mailbox] = {}
        self._backlog: set[str] = set()  # channels with messages waiting to be received
        self._next_sweep = 0.0
        self._next_group_sweep = 0.0

    def _foreign_home_loop(self) -> asyncio.AbstractEventLoop | None:
        home = self._home_loop
        if home is None or home.is_closed() or not home.is_running():
            return None
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        return home if current is not home else None

    # --- receiving ------------------------------------------------------------------------------------

    async def receive(self, channel):
        self.require_valid_channel_name(channel)
        loop = self._home_loop = asyncio.get_running_loop()
        self._clean_expired()
        while True:
            box = self.channels.get(channel)
            if box is None:
                box = self.channels[channel] = _Mailbox()
            if box.messages:
                break
            waiter = loop.create_future()
            if box.waiters is None:
                box.waiters = []
            box.waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                # Cancelled (the socket closed): a message meant for us goes to the next receiver.
                self._discard_waiter(channel, box, waiter)
                if waiter.done() and not waiter.cancelled() and box.messages:
                    self._wake(box)
                raise
            self._discard_waiter(channel, box, waiter)
        _expires, message = box.messages.popleft()
        if not box.messages:
            box.messages = None
            self._backlog.discard(channel)
            if not box.waiters:
                self.channels.pop(channel, None)
        return message

    def _discard_waiter(self, channel: str, box: _Mailbox, waiter: asyncio.Future) -> None:
        waiters = box.waiters
        if waiters is not None and waiter in waiters:
            waiters.remove(waiter)
        if not waiters:
            box.waiters = None
            if not box.messages and self.channels.get(channel) is box:
                del self.channels[channel]

    @staticmethod
    def _wake(box: _Mailbox) -> None:
        for waiter in box.waiters or ():
            if not waiter.done():
                try:
                    waiter.set_result(None)
                except RuntimeError:  # its loop is closed (an earlier test's): try the next receiver
                    continue
                return

    # --- sending --------------------------------------------------------------------------------------

    def _put(self, channel: str, message: dict) -> None:
        box = self.channels.get(channel)
        if box is None:
            box = self.channels[channel] = _Mailbox()
        if box.messages is None:
            box.messages = deque()
        elif len(box.messages) >= self.get_capacity(channel):
            raise ChannelFull(channel)
        box.messages.append((time.time() + self.expiry, deepcopy(message)))
        self._backlog.add(channel)
        self._wake(box)

    async def _send_here(self, channel, message):
        self._put(channel, message)

    async def _group_send_here(self, group, message):
        self._clean_expired()
        for channel in list(self.groups.get(group, ())):
            try:
                self._put(channel, message)
            except ChannelFull:
                pass

    async def send(self, channel, message):
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_channel_name(channel)
        assert "__asgi_channel__" not in message
        home = self._foreign_home_loop()
        if home is None:
            return self._put(channel, message)
        future = asyncio.run_coroutine_threadsafe(self._send_here(channel, message), home)
        return await asyncio.wrap_future(future)

    async def group_send(self, group, message):
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        home = self._foreign_home_loop()
        if home is None:
            return await self._group_send_here(group, message)
        future = asyncio.run_coroutine_threadsafe(self._group_send_here(group, message), home)
        return await asyncio.wrap_future(future)

    # --- expiry ---------------------------------------------------------------------------------------

    def _clean_expired(self):
        now = time.time()
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_SECONDS
        for channel in list(self._backlog):
            box = self.channels.get(channel)
            messages = box.messages if box is not None else None
            if not messages:
                self._backlog.discard(channel)
                continue
            expired = False
            while messages and messages[0][0] < now:
                messages.popleft()
                expired = True
            if expired:
                self._remove_from_groups(channel)
            if not messages:
                box.messages = None
                self._backlog.discard(channel)
                if not box.waiters:
                    self.channels.pop(channel, None)
        if now >= self._next_group_sweep:
            self._next_group_sweep = now + GROUP_SWEEP_SECONDS
            oldest = now - self.group_expiry
            for group, members in list(self.groups.items()):
                for name, joined in list(members.items()):
                    if joined and joined < oldest:
                        members.pop(name, None)
                if not members:
                    self.groups.pop(group, None)

    async def flush(self):
        # Receivers already waiting keep waiting on their channels; messages and groups are dropped.
        self.channels = {channel: box for channel, box in self.channels.items() if box.waiters}
        for box in self.channels.values():
            box.messages = None
        self._backlog = set()
        self.groups = {}
