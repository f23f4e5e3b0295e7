"""Websocket routing for the widget: ``/ws/widget/`` bypasses the agents' same-host Origin check.

Visitors connect from customers' sites, so the agent socket's ``AllowedHostsOriginValidator`` would
refuse them; the widget consumer checks the Origin against the inbox's allowed domains itself.
"""

from __future__ import annotations

from threadline.widget.consumers import WidgetConsumer

WIDGET_PATH = "/ws/widget/"

_widget_app = WidgetConsumer.as_asgi()


def with_widget(agent_app):
    """An ASGI app sending ``/ws/widget/`` to the visitor consumer and everything else to ``agent_app``."""

    async def app(scope, receive, send):
        if scope.get("type") == "websocket" and scope.get("path", "").rstrip("/") == WIDGET_PATH.rstrip("/"):
            return await _widget_app(scope, receive, send)
        return await agent_app(scope, receive, send)

    return app
