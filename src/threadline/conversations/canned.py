"""Canned responses: saved replies with variables, filled in for one conversation and agent."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from threadline.conversations.models import CannedResponse, Conversation
from threadline.conversations.services import ConversationError
from threadline.core.models import Membership, Workspace

_VARIABLE = re.compile(r"\{\{\s*([a-z_]+)\.([a-z_]+)\s*\}\}")


def canned_variables(conversation: Conversation, agent: Membership) -> dict[str, str]:
    """The values a canned response may use, e.g. ``{{ contact.first_name }}``."""
    contact_name = conversation.contact.name or ""
    agent_name = str(agent)
    return {
        "contact.name": contact_name,
        "contact.first_name": contact_name.split(" ")[0] if contact_name else "",
        "agent.name": agent_name,
        "agent.first_name": agent_name.split(" ")[0],
        "conversation.id": str(conversation.pk),
        "workspace.name": conversation.workspace.name,
    }


def canned_response_render(response: CannedResponse, *, conversation: Conversation, agent: Membership) -> str:
    """The response's text with its variables filled in; unknown variables are left as written."""
    values = canned_variables(conversation, agent)
    return _VARIABLE.sub(lambda m: values.get(f"{m.group(1)}.{m.group(2)}", m.group(0)), response.body)


def canned_response_save(
    *, workspace: Workspace, shortcut: str, title: str, body: str, response: CannedResponse | None = None
) -> CannedResponse:
    """Create or edit a canned response; the shortcut is unique per workspace."""
    shortcut = slugify(shortcut)[:40]
    if not shortcut or not body.strip():
        raise ConversationError(_("A canned response needs a shortcut and a text."))
    response = response or CannedResponse(workspace=workspace)
    response.shortcut, response.title, response.body = shortcut, title.strip()[:120] or shortcut, body.strip()
    try:
        with transaction.atomic():
            response.save()
    except IntegrityError:
        raise ConversationError(_("Another canned response already uses that shortcut.")) from None
    return response


def canned_response_delete(*, response: CannedResponse) -> None:
    response.delete()
