"""Idle websocket clients in their own process (asyncio + websockets), driven line by line on stdin.

    python -m bench.socket_clients ws://127.0.0.1:8000/ws/agent/ <api token>

Commands (one per line), each answered by one JSON line on stdout:

    open N     open connections until N are open (100 handshakes at a time); wait for each one's hello
    check      how many are still open
    quit       close them all and exit

Each client only reads (answering the server's pings, as a browser does) and never sends a message.
"""

from __future__ import annotations

import asyncio
import json
import sys

import websockets

from bench.procs import raise_open_files

HANDSHAKES_AT_ONCE = 100


class Clients:
    def __init__(self, url: str, token: str):
        self.url, self.token = url, token
        self.sockets: list = []
        self.failures: list[str] = []
        self.readers: list[asyncio.Task] = []

    async def _open_one(self, gate: asyncio.Semaphore) -> None:
        async with gate:
            try:
                ws = await websockets.connect(self.url, additional_headers={"Authorization": f"Bearer {self.token}"},
                                              open_timeout=60, max_size=None)
                await asyncio.wait_for(ws.recv(), 60)  # the hello: authenticated and subscribed
            except Exception as exc:  # every failure is counted and reported, not raised
                self.failures.append(type(exc).__name__)
                return
        self.sockets.append(ws)
        self.readers.append(asyncio.create_task(self._drain(ws)))

    async def _drain(self, ws) -> None:
        try:
            async for _ in ws:
                pass
        except websockets.ConnectionClosed:
            pass

    async def open(self, total: int) -> dict:
        gate = asyncio.Semaphore(HANDSHAKES_AT_ONCE)
        failures_before = len(self.failures)
        missing = max(0, total - len(self.sockets))
        await asyncio.gather(*(self._open_one(gate) for _ in range(missing)))
        return {"open": self.open_count(), "failed": len(self.failures) - failures_before,
                "reasons": sorted(set(self.failures))[:5]}

    def open_count(self) -> int:
        return sum(1 for ws in self.sockets if ws.state == websockets.State.OPEN)

    async def close(self) -> None:
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)


async def serve(url: str, token: str) -> None:
    clients = Clients(url, token)
    loop = asyncio.get_running_loop()
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if not line or line == "quit":
            await clients.close()
            print(json.dumps({"closed": True}), flush=True)
            return
        command, *rest = line.split()
        if command == "open":
            answer = await clients.open(int(rest[0]))
        elif command == "check":
            answer = {"open": clients.open_count()}
        else:
            answer = {"error": f"unknown command {command!r}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    raise_open_files()
    asyncio.run(serve(sys.argv[1], sys.argv[2]))
