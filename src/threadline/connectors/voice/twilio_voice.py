"""Twilio Voice: incoming-call, call-status, recording and transcription webhooks (CHANNELS.md §3.6).

Every request is form-encoded and signed with ``X-Twilio-Signature`` (§3.1, checked by
``connectors.twilio.signature``). All of them go to the inbox's one webhook URL: the incoming call is
answered with TwiML that greets the caller and records a voicemail, whose ``<Record>`` action, recording
status and transcription callbacks come back to the same URL (a relative URL in TwiML resolves against the
document's own URL). Each request becomes one ``CallEvent`` keyed by ``CallSid``. Reference:
docs/channels/twilio_voice.md.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import urllib.parse
from xml.sax.saxutils import quoteattr

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from threadline.connectors.base import (
    CallEvent,
    ChannelConfig,
    ConfigField,
    Connector,
    HttpResponse,
    Ignored,
    InboundEvent,
    OutboundMessage,
    PayloadError,
    RawRequest,
    SendError,
    SendReceipt,
    VerificationError,
)
from threadline.connectors.twilio.messaging import SIGNATURE_HEADER, form_params
from threadline.connectors.twilio.signature import signature_matches
from threadline.connectors.voice.numbers import caller_ref

_RINGING = {"queued", "initiated", "ringing"}
_ENDED = {"completed": "completed", "busy": "busy", "failed": "failed", "no-answer": "missed", "canceled": "missed"}
HANGUP_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>'


def _at(params: dict[str, str]) -> dt.datetime:
    """Status callbacks carry an RFC 2822 ``Timestamp``; the other requests are as recent as their arrival."""
    try:
        return email.utils.parsedate_to_datetime(params["Timestamp"]).astimezone(dt.UTC)
    except (KeyError, TypeError, ValueError, IndexError):
        return dt.datetime.now(dt.UTC)


def _whole(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def voicemail_twiml() -> bytes:
    """Greet the caller and record a voicemail; every callback comes back to this same webhook URL."""
    greeting = quoteattr(gettext("Thank you for calling. Please leave a message after the beep."))[1:-1]
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        f"<Say>{greeting}</Say>"
        '<Record maxLength="120" playBeep="true" recordingStatusCallback="?callback=recording" '
        'transcribe="true" transcribeCallback="?callback=transcription"/>'
        "</Response>"
    ).encode()


class TwilioVoiceConnector(Connector):
    """Phone calls to a Twilio number: each call is logged in the caller's conversation."""

    kind = "twilio_voice"
    label = _("Phone (Twilio Voice)")
    secret_names = ("auth_token",)
    config_fields = (
        ConfigField("account_sid", _("Account SID")),
        ConfigField("phone_number", _("Phone number"), help=_("In E.164 form, e.g. +15005550001."), required=False),
    )
    recipient_kinds = ()  # a phone line sends no written messages: replies go on another channel
    media_policy = "link"  # recordings stay at Twilio (behind the account's media auth) and are linked

    def verify(self, raw: RawRequest, config: ChannelConfig) -> None:
        token = config.secrets.get("auth_token", "")
        received = raw.headers.get(SIGNATURE_HEADER, "")
        if not token or not received:
            raise VerificationError("Missing X-Twilio-Signature header.")
        try:
            params = form_params(raw.body)
        except PayloadError:
            raise VerificationError("The body is not form-encoded, so its signature cannot be checked.") from None
        # The inbox's public URL plus the query Twilio called (our TwiML adds ?callback=…): see §3.1.
        query = urllib.parse.urlsplit(raw.url).query
        url = config.webhook_url + (f"?{query}" if query else "") if config.webhook_url else raw.url
        if not signature_matches(token, [url], params, received):
            raise VerificationError("The X-Twilio-Signature does not match this request.")

    def parse(self, raw: RawRequest, config: ChannelConfig) -> list[InboundEvent]:
        params = dict(form_params(raw.body))
        sid = params.get("CallSid", "")
        if not sid:
            return [Ignored(reason="a request without CallSid (not a voice webhook)")]
        if params.get("TranscriptionSid"):
            return [self._transcript(sid, params)]
        if params.get("RecordingSid") or params.get("RecordingUrl"):
            return [self._recording(sid, params)]
        return [self._status(sid, params)]

    def _base(self, sid: str, params: dict[str, str]) -> dict:
        outbound = params.get("Direction", "inbound").startswith("outbound")
        customer = params.get("To" if outbound else "From", "")
        return {
            "call_id": sid,
            "direction": "outbound" if outbound else "inbound",
            "at": _at(params),
            "caller": caller_ref(customer, params.get("CallerName", "")),
            "from_number": params.get("From", "")[:64],
            "to_number": params.get("To", "")[:64],
        }

    def _status(self, sid: str, params: dict[str, str]) -> InboundEvent:
        status = params.get("CallStatus", "")
        if status in _RINGING:
            return CallEvent(step="ringing", **self._base(sid, params))
        if status == "in-progress":
            return CallEvent(step="answered", **self._base(sid, params))
        if status in _ENDED:
            duration = _whole(params.get("CallDuration", ""))
            outcome = _ENDED[status]
            if outcome == "completed" and duration == 0:  # completed with no talk time is a missed call (§3.6)
                outcome = "missed"
            return CallEvent(step="ended", outcome=outcome, duration=duration, **self._base(sid, params))
        return Ignored(reason=f"call status {status[:20]!r} is not one we track")

    def _recording(self, sid: str, params: dict[str, str]) -> InboundEvent:
        url = params.get("RecordingUrl", "")
        if params.get("RecordingStatus", "completed") != "completed" or not url.startswith("https://"):
            return Ignored(reason="a recording that is not (yet) available")
        return CallEvent(step="recording", recording_url=url[:500],
                         duration=_whole(params.get("RecordingDuration", "")), **self._base(sid, params))

    def _transcript(self, sid: str, params: dict[str, str]) -> InboundEvent:
        if params.get("TranscriptionStatus", "completed") != "completed":
            return Ignored(reason="a transcription that failed")
        text = params.get("TranscriptionText", "").replace("\x00", "")
        return CallEvent(step="transcript", transcript=text[:10000], **self._base(sid, params))

    def acknowledge(self, events: list[InboundEvent]) -> HttpResponse:
        """TwiML: the voicemail flow for a ringing call, a hang-up after a recording, else an empty answer."""
        steps = {event.step for event in events if isinstance(event, CallEvent)}
        if "ringing" in steps:
            body = voicemail_twiml()
        elif "recording" in steps:
            body = HANGUP_TWIML
        else:
            body = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'
        return HttpResponse(status=200, body=body, content_type="text/xml")

    def send(self, message: OutboundMessage, config: ChannelConfig) -> SendReceipt:
        raise SendError(str(_("A phone inbox cannot send written messages; reply on another channel.")),
                        transient=False)
