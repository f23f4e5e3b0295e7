"""Template helpers of routing: the SLA badge of a conversation row ("due in 12 min" / "breached")."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from threadline.routing.selectors import queued_conversations

register = template.Library()


def sla_badge_text(due_at, breached: bool, now) -> tuple[str, str]:
    """(css modifier, text) for a conversation's earliest running SLA target; ("", "") when none runs."""
    if due_at is None:
        return "", ""
    if breached or due_at <= now:
        return "breached", _("SLA breached")
    minutes = max(1, int((due_at - now).total_seconds() // 60))
    if minutes < 120:
        return "due", ngettext("due in %(n)d min", "due in %(n)d min", minutes) % {"n": minutes}
    hours = minutes // 60
    return "due", ngettext("due in %(n)d hour", "due in %(n)d hours", hours) % {"n": hours}


@register.simple_tag(takes_context=True)
def sla_badge(context, conversation) -> str:
    """The SLA badge of an inbox row, plus the queue position while it waits for an agent.

    ``sla_due_at``, ``sla_breached`` and ``queued_at`` are annotated by the inbox list's selector; queue
    positions are read once per rendered page, and only when a row is queued.
    """
    now = timezone.now()
    modifier, text = sla_badge_text(
        getattr(conversation, "sla_due_at", None), getattr(conversation, "sla_breached", False), now
    )
    html = format_html('<span class="pill sla-{}" title="{}">{}</span>', modifier, _("SLA"), text) if text else ""
    if getattr(conversation, "queued_at", None) and conversation.assignee_id is None:
        if "queue_positions" not in context.render_context:
            queued = queued_conversations(conversation.workspace_id)
            context.render_context["queue_positions"] = {c.pk: n for n, c in enumerate(queued, start=1)}
        position = context.render_context["queue_positions"].get(conversation.pk)
        if position:
            html += format_html(
                ' <span class="pill queued">{}</span>', _("queue #%(position)s") % {"position": position}
            )
    return html
