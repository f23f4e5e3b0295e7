"""The in-memory channel layer for the one-process mode, made safe to publish to from worker threads.

Channels' in-memory layer keeps asyncio queues that belong to the server's event loop. In ``threadline
run`` the task worker publishes from its own thread (and its own loop, through ``async_to_sync``);
putting into another loop's queue from there would not wake the waiting consumer. This layer remembers
the loop its consumers receive on and runs sends on that loop. With Redis (``REDIS_URL``) none of this
is needed: every process talks to Redis.
"""

from __future__ import annotations

import asyncio

from channels.layers import InMemoryChannelLayer


class LoopBridgedInMemoryChannelLayer(InMemoryChannelLayer):
    _home_loop: asyncio.AbstractEventLoop | None = None

    def _foreign_home_loop(self) -> asyncio.AbstractEventLoop | None:
        home = self._home_loop
        if home is None or home.is_closed() or not home.is_running():
            return None
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        return home if current is not home else None

    async def receive(self, channel):
        self._home_loop = asyncio.get_running_loop()
        return await super().receive(channel)

    async def send(self, channel, message):
        home = self._foreign_home_loop()
        if home is None:
            return await super().send(channel, message)
        future = asyncio.run_coroutine_threadsafe(super().send(channel, message), home)
        return await asyncio.wrap_future(future)

    async def group_send(self, group, message):
        home = self._foreign_home_loop()
        if home is None:
            return await super().group_send(group, message)
        future = asyncio.run_coroutine_threadsafe(super().group_send(group, message), home)
        return await asyncio.wrap_future(future)
