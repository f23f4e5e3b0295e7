"""Background jobs of the widget: thin shells over services."""

from __future__ import annotations

from django_tasks import task


@task()
def continuity_check(message_id: int) -> str:
    from threadline.widget.services import widget_reply_email_fallback

    return widget_reply_email_fallback(message_id=message_id)
