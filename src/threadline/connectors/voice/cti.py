"""The generic CTI API (Zammad's, CHANNELS.md §6): any PBX or cloud call centre reports its calls.

The PBX POSTs ``newCall``, ``answer`` and ``hangup`` events, as JSON or form data (``user[]`` repeated), to
the inbox's webhook URL. The URL path carries the inbox's public id, which is opaque but not a secret
(it is shown in the admin UI), so the inbox also has a ``token`` secret that the PBX sends as the ``token``
query parameter (PBXs built for Zammad can only be given a URL), an ``X-Cti-Token`` header or an
``Authorization: Bearer`` header; it is compared in constant time and never stored. Reference:
docs/channels/cti.md.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import urllib.parse

from django.utils.translation import gettext_lazy as _

from threadline.connectors.base import (
    CallEvent,
    ChannelConfig,
    Connector,
    HttpResponse,
    InboundEvent,
    OutboundMessage,
    PayloadError,
    RawRequest,
    SendError,
    SendReceipt,
    VerificationError,
)
from threadline.connectors.voice.numbers import caller_ref

TOKEN_HEADER = "x-cti-token"
TOKEN_QUERY = "token"
_STEPS = {"newCall": "ringing", "answer": "answered", "hangup": "ended"}
_DIRECTIONS = {"in": "inbound", "out": "outbound"}
# Hangup causes that mean nobody talked (Zammad counts cancel/noAnswer/busy as missed, §6.3).
_MISSED_CAUSES = {"cancel": "missed", "noAnswer": "missed", "busy": "busy", "congestion": "failed",
                  "notFound": "failed"}


class CtiPayloadError(PayloadError):
    """An event Zammad's API answers with 422 (an unknown direction or event)."""

    http_status = 422


def offered_token(raw: RawRequest) -> str:
    """The token the PBX sent: query parameter, ``X-Cti-Token`` or ``Authorization: Bearer``."""
    bearer = raw.headers.get("authorization", "")
    if bearer.lower().startswith("bearer "):
        return bearer[7:].strip()
    return raw.headers.get(TOKEN_HEADER, "") or str(raw.query.get(TOKEN_QUERY, ""))


def _fields(raw: RawRequest) -> dict[str, object]:
    """The event's fields from a JSON object or a form body (``user[]`` becomes the list ``user``)."""
    text = raw.body.decode("utf-8", errors="strict") if raw.body else ""
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise PayloadError("The body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise PayloadError("The body must be a JSON object.")
        return data
    try:
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise PayloadError("The body is neither a JSON object nor form data.") from None
    data: dict[str, object] = {}
    for name, value in pairs:
        if name in ("user[]", "user"):
            data.setdefault("user", [])
            data["user"].append(value)  # type: ignore[union-attr]
        else:
            data[name] = value
    return data


def _names(value: object) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    return tuple(str(item).strip()[:200] for item in values if isinstance(item, str) and item.strip())


class CtiConnector(Connector):
    """Calls reported by a phone system through the generic CTI API; logged in the caller's conversation."""

    kind = "cti"
    label = _("Phone system (CTI API)")
    secret_names = ("token",)
    recipient_kinds = ()  # a phone line sends no written messages: replies go on another channel

    def verify(self, raw: RawRequest, config: ChannelConfig) -> None:
        expected = config.secrets.get("token", "")
        offered = offered_token(raw)
        if not expected or not offered or not hmac.compare_digest(expected.encode(), offered.encode()):
            raise VerificationError("Invalid token, please contact your admin!")

    def parse(self, raw: RawRequest, config: ChannelConfig) -> list[InboundEvent]:
        try:
            data = _fields(raw)
        except UnicodeDecodeError:
            raise PayloadError("The body is not UTF-8.") from None
        event = str(data.get("event", ""))
        if event not in _STEPS:
            raise CtiPayloadError(f"Unknown event {event[:30]!r}.")
        direction = _DIRECTIONS.get(str(data.get("direction", "")))
        if direction is None:
            raise CtiPayloadError("Invalid direction!")
        call_id = str(data.get("callId", "")).strip()
        if not call_id or len(call_id) > 250:
            raise PayloadError("'callId' is missing or longer than 250 characters.")
        return [self._event(_STEPS[event], direction, call_id, data)]

    def _event(self, step: str, direction: str, call_id: str, data: dict[str, object]) -> InboundEvent:
        from_number, to_number = str(data.get("from", ""))[:64], str(data.get("to", ""))[:64]
        customer = from_number if direction == "inbound" else to_number
        agents = _names(data.get("answeringNumber")) + _names(data.get("user"))
        if direction == "outbound":  # on an outbound call ``user`` is the calling agent (§6.2)
            agents = _names(data.get("user")) + _names(data.get("answeringNumber"))
        outcome = ""
        if step == "ended":
            outcome = _MISSED_CAUSES.get(str(data.get("cause", "")), "completed")
        return CallEvent(
            call_id=call_id,
            step=step,
            direction=direction,
            at=dt.datetime.now(dt.UTC),  # the API carries no time: the event is as recent as its arrival
            caller=caller_ref(customer),
            from_number=from_number,
            to_number=to_number,
            outcome=outcome,
            agents=agents,
        )

    def acknowledge(self, events: list[InboundEvent]) -> HttpResponse:
        """``{}``: Zammad's default answer (no reject/dial instruction; block lists are not built yet)."""
        return HttpResponse(status=200, body=b"{}", content_type="application/json")

    def send(self, message: OutboundMessage, config: ChannelConfig) -> SendReceipt:
        raise SendError(str(_("A phone inbox cannot send written messages; reply on another channel.")),
                        transient=False)
