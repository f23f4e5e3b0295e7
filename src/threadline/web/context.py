"""Template context every agent page needs: role, unread notifications, presence choices, UI strings."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from threadline.conversations.selectors import notification_unread_count
from threadline.core.models import Presence
from threadline.core.permissions import is_admin


def agent_context(request) -> dict:
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    return {
        "is_admin": is_admin(membership),
        "unread_notifications": notification_unread_count(membership),
        "presence_choices": Presence.choices,
        "ui_strings": {
            "viewing": _("Also viewing: %(names)s"),
            "typing": _("%(name)s is typing a reply…"),
            "mention": _("You were mentioned in a conversation."),
            "assigned": _("A conversation was assigned to you."),
            "open": pgettext("link to a conversation", "Open"),
            "reconnecting": _("Connection lost. Reconnecting…"),
            "call_ringing": _("Incoming call: %(caller)s"),
            "call_unknown": _("unknown caller"),
            "call_conversations": _("Open conversations:"),
        },
    }
