"""Queries of the demo: its workspace's channel inboxes."""

from __future__ import annotations

from threadline.core.models import Inbox

DEMO_WORKSPACE = "shoeshop"


def demo_inboxes() -> list[Inbox]:
    return list(Inbox.objects.filter(workspace__slug=DEMO_WORKSPACE).order_by("pk"))


def demo_inbox_of_kind(kind: str) -> Inbox | None:
    return Inbox.objects.filter(workspace__slug=DEMO_WORKSPACE, kind=kind).order_by("pk").first()


def demo_inbox(pk: int) -> Inbox | None:
    return Inbox.objects.filter(workspace__slug=DEMO_WORKSPACE, pk=pk).first()
