"""The demo's bot: on for the website live chat inbox, answering from the demo knowledge base.

The messaging inboxes keep the bot off so the customer simulator shows a plain agent conversation; turn
it on for any of them on its settings page (e.g. Messenger collecting the order number and email).
"""

from __future__ import annotations

from threadline.bot.models import BotSettings
from threadline.bot.services import bot_settings_save
from threadline.core.models import Inbox, Workspace

DEMO_BOT_INBOXES: dict[str, list[str]] = {"livechat": []}


def bot_demo_seed(workspace: Workspace) -> int:
    """Turn the bot on (once) for the demo inboxes that have none yet. Returns how many were turned on."""
    turned_on = 0
    for kind, collect in DEMO_BOT_INBOXES.items():
        for inbox in Inbox.objects.filter(workspace=workspace, kind=kind):
            if BotSettings.objects.filter(inbox=inbox).exists():
                continue
            bot_settings_save(inbox=inbox, enabled=True, collect=list(collect))
            turned_on += 1
    return turned_on
