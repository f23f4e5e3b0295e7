"""The demo's livechat inbox (``threadline demo``) and the host page that embeds its widget."""

from __future__ import annotations

from threadline.core.models import Inbox, Membership, Team, Workspace

DEMO_INBOX_NAME = "ShoeShop website chat"
DEMO_SETTINGS = {
    "greeting": "",
    "color": "#0f766e",
    "position": "right",
    "allowed_domains": [],
    "prechat_enabled": False,
    "proactive": [
        {"id": "sizes", "url_contains": "widget-test", "seconds_on_page": 5,
         "message": "Questions about sizes? We are here to help.", "max_per_visitor": 1, "min_hours_between": 24},
    ],
}


def demo_widget_seed(*, workspace: Workspace, team: Team | None, members: list[Membership]) -> Inbox:
    """Create (once) the demo's livechat inbox with every demo agent on it."""
    from threadline.core.services import inbox_create

    inbox = Inbox.objects.filter(workspace=workspace, kind="livechat").order_by("id").first()
    if inbox is None:
        inbox = inbox_create(workspace=workspace, kind="livechat", name=DEMO_INBOX_NAME, config={"widget": DEMO_SETTINGS})
        inbox.default_team = team
        inbox.save(update_fields=["default_team"])
    inbox.agents.add(*members)
    return inbox


def demo_inbox_public_id() -> str:
    return Inbox.objects.filter(kind="livechat").order_by("id").values_list("public_id", flat=True).first() or ""
