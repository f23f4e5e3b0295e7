"""Websocket URL routes."""

from django.urls import path

from threadline.realtime.consumers import AgentConsumer

websocket_urlpatterns = [
    path("ws/agent/", AgentConsumer.as_asgi()),
]
