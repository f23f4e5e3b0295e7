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
            "call_likely": _("Unknown number. Is this one of them?"),
            "call_link": _("This is %(name)s"),
            "call_linked": _("The number was linked to %(name)s."),
            "call_link_failed": _("The number could not be linked."),
            "call_reason_same_number": _("same number on %(kind)s"),
            "call_reason_last_digits": _("same last %(digits)s digits (%(number)s)"),
            "call_reason_same_name": _("same name"),
            "call_reason_similar_name": _("similar name"),
            "call_reason_recent": _("wrote %(minutes)s min ago"),
            "close": _("Close"),
            "call_name": _("Name the caller gives"),
            "call_find": _("Find"),
            "call_none": _("No likely contact found."),
            "call_confirmed": _("The caller confirmed this number"),
            "call_preview": _("Latest messages"),
            "call_customer": _("Customer"),
            "call_agent": _("Agent"),
            "call_bot": _("Bot"),
            "call_photo": _("Photo"),
            "call_files": _("Other attachments: %(count)s"),
            "suggest_insert_link": _("Insert link"),
            "suggest_insert_answer": _("Insert answer"),
            "suggest_internal": _("Internal article"),
            "suggest_no_link": _("Internal articles have no public link."),
            "suggest_open": _("Open the article in a new tab"),
            "suggest_inserted": _("Inserted into the reply."),
        },
    }
