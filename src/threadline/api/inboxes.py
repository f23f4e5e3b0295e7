"""REST operations on inboxes (configured channels): list and detail of the ones the caller may see.

An inbox's secrets are never returned. Its webhook URL (what an admin pastes into the provider) and its
settings are shown to admins only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from threadline.api.schemas import PathId, responses
from threadline.conversations.selectors import inbox_get_for, inbox_list_for
from threadline.core.models import Inbox
from threadline.core.permissions import is_admin

router = Router(tags=["inboxes"])


def _for_admin(context: dict[str, Any]) -> bool:
    return is_admin(context["request"].auth)


class InboxOut(Schema):
    id: int
    name: str
    kind: str
    state: str
    health: str
    health_detail: str
    default_team_id: int | None
    created_at: dt.datetime
    webhook_url: str | None = Field(description="Where the provider must send events (admins only).")
    config: dict[str, Any] | None = Field(description="Non-secret channel settings (admins only).")

    @staticmethod
    def resolve_webhook_url(inbox: Inbox, context: dict[str, Any]) -> str | None:
        if not _for_admin(context):
            return None
        return inbox.webhook_url

    @staticmethod
    def resolve_config(inbox: Inbox, context: dict[str, Any]) -> dict[str, Any] | None:
        return inbox.config if _for_admin(context) else None


@router.get("", response=responses(200, list[InboxOut]), summary="List inboxes")
def inbox_list(request: HttpRequest):
    """The inboxes the caller may see, by name."""
    return inbox_list_for(request.auth)


@router.get("/{inbox_id}", response=responses(200, InboxOut, lookup=True), summary="Get an inbox")
def inbox_detail(request: HttpRequest, inbox_id: PathId):
    return inbox_get_for(request.auth, inbox_id)
