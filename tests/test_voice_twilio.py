"""Twilio Voice (CHANNELS.md §3.6): pure parse tests, then signed webhooks end to end into the call log and
the caller's conversation, with forged signatures refused. Signatures come from the Twilio fake's signer."""

from __future__ import annotations

import pytest

from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, TwilioDriver
from threadline.calls.models import Call, CallState
from threadline.connectors.base import (
    CallEvent,
    ChannelConfig,
    Ignored,
    RawRequest,
    SenderRef,
)
from threadline.connectors.voice import TwilioVoiceConnector
from threadline.contacts.models import Identity
from threadline.conversations.models import Direction, Event, Message
from threadline.core.models import Inbox
from threadline.ingest.models import RawDelivery

PUBLIC_URL = "https://threadline.example"
CALLER = "+4930123456"
VOICE = TwilioVoiceConnector()


def call_params(call_sid: str = "CA00000000000000000000000000000004", status: str = "ringing",
                caller: str = CALLER, **extra: str) -> list[tuple[str, str]]:
    """The documented incoming-call / status-callback parameters (§3.6 example)."""
    params = [("CallSid", call_sid), ("AccountSid", ACCOUNT_SID), ("From", caller), ("To", "+4940999999"),
              ("CallStatus", status), ("Direction", "inbound"), ("ApiVersion", "2010-04-01")]
    return params + list(extra.items())


def raw(params: list[tuple[str, str]]) -> RawRequest:
    return RawRequest(method="POST", path="/webhooks/twilio_voice/p1", query={}, headers={},
                      body=TwilioDriver.encode(params), url=f"{PUBLIC_URL}/webhooks/twilio_voice/p1")


e2e = pytest.mark.django_db(transaction=True)  # jobs run through the real database task backend

CONFIG = ChannelConfig(inbox_id=1, settings={}, secrets={"auth_token": AUTH_TOKEN},
                       webhook_url=f"{PUBLIC_URL}/webhooks/twilio_voice/p1")


# --- parse (pure) ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "extra", "step", "outcome"), [
    ("ringing", {}, "ringing", ""),
    ("in-progress", {}, "answered", ""),
    ("completed", {"CallDuration": "42"}, "ended", "completed"),
    ("completed", {"CallDuration": "0"}, "ended", "missed"),
    ("no-answer", {}, "ended", "missed"),
    ("busy", {}, "ended", "busy"),
    ("canceled", {}, "ended", "missed"),
])
def test_call_statuses_become_call_steps(status, extra, step, outcome):
    [event] = VOICE.parse(raw(call_params(status=status, **extra)), CONFIG)
    assert isinstance(event, CallEvent)
    assert (event.step, event.outcome, event.direction) == (step, outcome, "inbound")
    assert event.caller == SenderRef(kind="phone", value=CALLER, verified=False)


def test_sdk_clients_and_failed_transcriptions_are_not_customers_or_transcripts():
    [client_call] = VOICE.parse(raw(call_params(caller="client:agent_42")), CONFIG)
    assert client_call.caller is None
    [failed] = VOICE.parse(raw(call_params(TranscriptionSid="TR1", TranscriptionStatus="failed")), CONFIG)
    assert isinstance(failed, Ignored)


def test_incoming_call_is_answered_with_voicemail_twiml():
    answer = VOICE.acknowledge(VOICE.parse(raw(call_params()), CONFIG))
    assert answer.content_type == "text/xml"
    assert b"<Record " in answer.body and b'transcribeCallback="?callback=transcription"' in answer.body


# --- webhooks end to end ---------------------------------------------------------------------------------


@pytest.fixture
def voice_inbox(workspace, agent_member, settings):
    settings.PUBLIC_URL = PUBLIC_URL
    inbox = Inbox.objects.create(workspace=workspace, name="Hotline", kind="twilio_voice",
                                 config={"account_sid": ACCOUNT_SID}, secrets={"auth_token": AUTH_TOKEN})
    inbox.agents.add(agent_member)
    return inbox


def post(client, inbox, batches, query: str = "", **knobs):
    url = inbox.webhook_url + (f"?{query}" if query else "")
    return TwilioDriver().post(client, url, batches, **knobs)


@e2e
def test_signed_incoming_call_is_logged_in_the_callers_conversation(client, voice_inbox, run_jobs):
    [response] = post(client, voice_inbox, [call_params()])
    assert response.status_code == 200 and b"<Say>" in response.content
    run_jobs()

    call = Call.objects.get(inbox=voice_inbox)
    assert (call.state, call.direction, call.from_number) == (CallState.RINGING, "inbound", CALLER)
    entry = Message.objects.get(pk=call.message_id)
    assert entry.conversation.contact_id == call.contact_id
    assert entry.meta["call"]["state"] == "ringing" and entry.meta["call"]["from"] == CALLER
    identity = Identity.objects.get(kind="phone", value=CALLER)
    assert identity.contact_id == call.contact_id and identity.verified is False  # a caller id can be spoofed


@e2e
@pytest.mark.parametrize("knob", ["tamper_signature", "other_token"])
def test_forged_voice_webhooks_get_401_and_store_nothing(client, voice_inbox, run_jobs, knob):
    if knob == "tamper_signature":
        [response] = post(client, voice_inbox, [call_params()], tamper_signature=True)
    else:
        url = voice_inbox.webhook_url
        [response] = TwilioDriver(auth_token="someone-elses-token").post(client, url, [call_params()])
    assert response.status_code == 401
    run_jobs()
    assert not RawDelivery.objects.exists() and not Call.objects.exists() and not Message.objects.exists()


@e2e
def test_unsigned_voice_webhook_gets_401(client, voice_inbox):
    response = client.post(f"/webhooks/twilio_voice/{voice_inbox.public_id}", data=TwilioDriver.encode(call_params()),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 401
    assert not RawDelivery.objects.exists()


@e2e
def test_answered_call_with_recording_and_transcript_completes_the_entry(client, voice_inbox, run_jobs):
    sid = "CA00000000000000000000000000000005"
    post(client, voice_inbox, [call_params(sid), call_params(sid, "in-progress"),
                               call_params(sid, "completed", CallDuration="73")])
    recording = {"RecordingSid": "RE1", "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
                 "RecordingStatus": "completed", "RecordingDuration": "60"}
    post(client, voice_inbox, [call_params(sid, "completed", **recording)], query="callback=recording")
    post(client, voice_inbox, [call_params(sid, "completed", TranscriptionSid="TR1", TranscriptionStatus="completed",
                                           TranscriptionText="My shoes are the wrong size")],
         query="callback=transcription")
    run_jobs()

    call = Call.objects.get(inbox=voice_inbox)
    assert (call.state, call.outcome, call.duration) == (CallState.ENDED, "completed", 73)
    assert call.recording_url.endswith("/RE1") and call.transcript == "My shoes are the wrong size"
    summary = Message.objects.get(pk=call.message_id).meta["call"]
    assert summary["duration"] == 73 and summary["transcript"] == "My shoes are the wrong size"
    assert call.callback_id is None


@e2e
def test_missed_call_leaves_a_callback_item(client, voice_inbox, run_jobs):
    sid = "CA00000000000000000000000000000006"
    post(client, voice_inbox, [call_params(sid), call_params(sid, "no-answer")])
    run_jobs()
    call = Call.objects.get(inbox=voice_inbox)
    assert (call.state, call.outcome) == (CallState.MISSED, "missed")
    callback = Message.objects.get(pk=call.callback_id)
    assert callback.direction == Direction.ACTIVITY and callback.conversation_id == call.conversation_id
    assert callback.meta["callback"]["call_id"] == call.pk


@e2e
def test_redelivered_and_reordered_call_events_are_stored_once(client, voice_inbox, run_jobs):
    sid = "CA00000000000000000000000000000007"
    post(client, voice_inbox, [call_params(sid), call_params(sid, "in-progress"),
                               call_params(sid, "completed", CallDuration="5")], duplicates=2)
    post(client, voice_inbox, [call_params(sid)])  # a late ringing never moves the call back
    run_jobs()
    call = Call.objects.get(inbox=voice_inbox)
    assert call.state == CallState.ENDED and call.duration == 5
    assert Message.objects.filter(provider_id=f"call:{sid}").count() == 1
    counts = {kind: Event.objects.filter(kind=kind).count() for kind in ("call.ringing", "call.answered", "call.ended")}
    assert counts == {"call.ringing": 1, "call.answered": 1, "call.ended": 1}


@e2e
def test_the_conversation_page_shows_the_call_entry(client, voice_inbox, agent_member, run_jobs):
    sid = "CA00000000000000000000000000000008"
    post(client, voice_inbox, [call_params(sid), call_params(sid, "no-answer")])
    post(client, voice_inbox, [call_params(sid, "completed", TranscriptionSid="TR2", TranscriptionStatus="completed",
                                           TranscriptionText="Please call me back about order 1042")],
         query="callback=transcription")
    run_jobs()
    call = Call.objects.get(inbox=voice_inbox)
    client.force_login(agent_member.user)
    page = client.get(f"/conversations/{call.conversation_id}/").content.decode()
    assert "Incoming call" in page and "Missed" in page and CALLER in page
    assert "Please call me back about order 1042" in page
    assert "Missed call: please call the customer back." in page
