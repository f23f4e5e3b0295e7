"""WhatsApp through Twilio: the SMS connector with ``whatsapp:+E164`` addresses, a 24-hour reply window,
and approved templates (Content API: ``ContentSid`` + ``ContentVariables``) once the window has closed.

Reference: docs/channels/twilio_whatsapp.md; contract: CHANNELS.md §3.2–3.4, §3.7, §8 #14.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _

from threadline.connectors.base import (
    OutboundMessage,
    ReplyWindow,
    SenderRef,
    SendError,
)
from threadline.connectors.twilio.messaging import SmsConnector

WINDOW = dt.timedelta(hours=24)


def _template_fields(template: object) -> list[tuple[str, str]]:
    """``{"content_sid": "HX…", "variables": {"1": "Anna"}}`` (or ``"parameters": ["Anna"]``) → form fields."""
    if not isinstance(template, Mapping):
        raise SendError("The template option must be an object with a 'content_sid'.", transient=False)
    sid = str(template.get("content_sid") or template.get("name") or "")
    if not sid.startswith("HX"):
        raise SendError("A Twilio WhatsApp template is named by its Content SID (HX…).", transient=False)
    variables = template.get("variables")
    parameters = template.get("parameters")
    if variables is None and isinstance(parameters, list):
        variables = {str(position): str(value) for position, value in enumerate(parameters, start=1)}
    fields = [("ContentSid", sid)]
    if variables:
        if not isinstance(variables, Mapping):
            raise SendError("Template 'variables' must be an object such as {\"1\": \"Anna\"}.", transient=False)
        fields.append(("ContentVariables", json.dumps({str(k): str(v) for k, v in variables.items()})))
    return fields


class TwilioWhatsappConnector(SmsConnector):
    kind = "twilio_whatsapp"
    label = _("WhatsApp (Twilio)")
    recipient_kinds = ("whatsapp",)
    sender_kind = "whatsapp"
    address_prefix = "whatsapp:"

    def sender(self, number: str, params: dict[str, str]) -> SenderRef:
        # The bare E.164 number joins WhatsApp, SMS and voice of one person (CHANNELS.md §0, §3.7).
        return SenderRef(
            kind="whatsapp",
            value=number,
            verified=True,
            name=params.get("ProfileName", "")[:200],
            extra={"phone": number},
            extra_verified=True,
        )

    def describe_extras(self, params: dict[str, str]) -> str:
        if params.get("ButtonText"):
            return params["ButtonText"]
        if params.get("Latitude") and params.get("Longitude"):
            label = " ".join(filter(None, (params.get("Label", ""), params.get("Address", ""))))
            return f"📍 {params['Latitude']}, {params['Longitude']} {label}".strip()
        return ""

    def content_fields(self, message: OutboundMessage) -> list[tuple[str, str]]:
        if "template" in message.options:
            return _template_fields(message.options["template"])
        return super().content_fields(message)

    def reply_window(self, *, last_inbound_at: dt.datetime | None, now: dt.datetime) -> ReplyWindow:
        if last_inbound_at is None or now - last_inbound_at >= WINDOW:
            return ReplyWindow(open=False, alternatives=("template",))
        return ReplyWindow(open=True, closes_at=last_inbound_at + WINDOW)
