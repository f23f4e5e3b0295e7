"""One thread across channels: which open conversation a message from another channel joins, and its settings.

A message from a known contact joins their most recent open conversation when it came on the same
channel, or — from another channel — when that conversation was active within the workspace's window
(``ThreadingSettings.join_window_hours``, default 24 h; 0 = never). An inbox can opt out ("always start
a separate conversation"): its messages then join only conversations that began in it, and messages
from other channels never join its conversations.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from threadline.contacts.models import Contact
from threadline.conversations.models import ACTIVE_STATUSES, Conversation, Message, ThreadingSettings
from threadline.core.models import Inbox, Membership

MAX_WINDOW_HOURS = 24 * 90


class ThreadingSettingsError(ValueError):
    """Settings that cannot be saved; the message is shown to the admin."""


def threading_policy(workspace_id: int) -> tuple[int, set[int]]:
    """(join window in hours, ids of the inboxes that always start a separate conversation)."""
    row = ThreadingSettings.objects.filter(workspace_id=workspace_id).first()
    if row is None:
        return ThreadingSettings.DEFAULT_WINDOW_HOURS, set()
    return row.join_window_hours, set(row.separate_inboxes.values_list("pk", flat=True))


def conversation_for_new_message(*, contact: Contact, inbox: Inbox, at: dt.datetime) -> Conversation | None:
    """The open conversation a new message from ``contact`` on ``inbox`` (sent at ``at``) joins, or None."""
    active = Conversation.objects.filter(contact=contact, status__in=ACTIVE_STATUSES).order_by("-last_activity_at", "-id")
    latest = active.first()
    if latest is None or latest.inbox_id == inbox.pk:
        return latest
    window, separate = threading_policy(inbox.workspace_id)
    own = active.filter(inbox=inbox).first()  # an open conversation that began on this channel
    if inbox.pk in separate or latest.inbox_id in separate:
        return own
    if Message.objects.filter(conversation=latest, inbox=inbox).exists():
        return latest  # the customer already wrote on this channel in that conversation
    if window and latest.last_activity_at >= at - dt.timedelta(hours=window):
        return latest
    return own


def threading_settings_update(
    *, workspace_id: int, join_window_hours: int, separate_inboxes: list[Inbox], actor: Membership | None = None
) -> ThreadingSettings:
    """Save how conversations span channels: the join window and the inboxes that always stay separate."""
    if join_window_hours < 0 or join_window_hours > MAX_WINDOW_HOURS:
        raise ThreadingSettingsError(_("The window must be between 0 and %(max)s hours.") % {"max": MAX_WINDOW_HOURS})
    if any(inbox.workspace_id != workspace_id for inbox in separate_inboxes):
        raise ThreadingSettingsError(_("That inbox belongs to another workspace."))
    with transaction.atomic():
        row, _created = ThreadingSettings.objects.select_for_update().get_or_create(workspace_id=workspace_id)
        row.join_window_hours = join_window_hours
        row.save(update_fields=["join_window_hours"])
        row.separate_inboxes.set(separate_inboxes)
    return row
