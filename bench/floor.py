"""The floor: the smallest ASGI application, served by the same server as Threadline, for baselines.

HTTP answers 200 "ok"; a websocket is accepted, greeted with a hello like the agent socket's, and then
held idle. The difference between Threadline and this app on the same server (same websocket
implementation) is what Django, Channels and the agent consumer cost.

    python -m uvicorn bench.floor:app --port 8100 --ws wsproto
"""

from __future__ import annotations

import json


async def app(scope, receive, send):
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})
    elif scope["type"] == "websocket":
        while True:
            message = await receive()
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.accept"})
                await send({"type": "websocket.send", "text": json.dumps({"type": "hello"})})
            elif message["type"] == "websocket.disconnect":
                return
