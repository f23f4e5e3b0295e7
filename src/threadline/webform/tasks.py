"""Background jobs of the web form channel: thin shells over services."""

from __future__ import annotations

from django_tasks import task


@task()
def confirm_submission(conversation_id: int) -> str:
    from threadline.webform.services import webform_confirm

    return webform_confirm(conversation_id=conversation_id)
