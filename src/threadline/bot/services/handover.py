"""Collecting details before a handover (order number, an email proved by a one-time code, a way to reach
the customer outside business hours), and the handover itself: the goodbye, the summary note for the
agent and the BotHandedOver event whose reaction routes the conversation.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from threadline import events
from threadline.bot import phrases
from threadline.bot.models import BotSession, BotSettings, Detail, HandoverReason, SessionState
from threadline.bot.services.common import QUIET_REASONS, Turn, finish
from threadline.conversations.models import Conversation
from threadline.conversations.services import bot_note_add

_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+", re.UNICODE)
_ORDER = re.compile(r"(?<![\w@.])#?([A-Za-z]{0,4}[-]?\d[\dA-Za-z-]{2,24})(?![\w@])")
_PHONE = re.compile(r"\+?\d[\d ()\-]{6,}\d")
# Details proved by a one-time code on their own channel: detail → the identity kind it becomes.
_VERIFIED = {Detail.EMAIL: "email", Detail.PHONE: "phone"}


def start_handover(turn: Turn, reason: str) -> str:
    """Hand over now, or first ask for the configured details the conversation does not have yet."""
    turn.session.handover_after_collecting = reason
    turn.session.options = []
    return _ask_next_or_hand_over(turn)


def _missing(turn: Turn) -> list[str]:
    from threadline.contacts.verification import contact_known_identity

    session, contact = turn.session, turn.conversation.contact
    missing = []
    for detail in turn.settings.collect:
        if detail in session.collected:
            continue
        if detail in _VERIFIED and contact_known_identity(contact=contact, kind=_VERIFIED[detail]):
            continue  # what is known is never asked again
        missing.append(detail)
    if "contact" not in session.collected and _closed_until(turn) is not None:
        known = contact_known_identity(contact=contact, kind="email") or contact_known_identity(
            contact=contact, kind="phone"
        )
        if not known and not session.collected.get(Detail.EMAIL):
            missing.append("contact")
    return missing


def _closed_until(turn: Turn) -> str | None:
    """None while the team is at work; else when it opens next, as the customer should read it ("" if never)."""
    from zoneinfo import ZoneInfo

    from django.utils import formats

    from threadline.routing.hours import is_open, next_opening
    from threadline.routing.selectors import conversation_schedule

    schedule = conversation_schedule(turn.conversation)
    now = timezone.now()
    if schedule.always_open or is_open(schedule, now):
        return None
    opening = next_opening(schedule, now)
    if opening is None:
        return ""
    local = opening.astimezone(ZoneInfo(turn.conversation.workspace.time_zone or schedule.time_zone))
    with translation.override(turn.language):
        return formats.date_format(local, "D j M H:i") + f" ({local.tzname()})"


def _ask_next_or_hand_over(turn: Turn) -> str:
    missing = _missing(turn)
    session = turn.session
    if not missing:
        return hand_over(turn, session.handover_after_collecting or HandoverReason.REQUESTED)
    session.state, session.pending, session.prompts = SessionState.COLLECTING, missing[0], 0
    with translation.override(turn.language):
        if missing[0] == Detail.ORDER_NUMBER:
            turn.say(phrases.ask_order_number())
        elif missing[0] == Detail.EMAIL:
            turn.say(phrases.ask_email())
        elif missing[0] == Detail.PHONE:
            turn.say(phrases.ask_phone())
        else:
            turn.say(phrases.out_of_hours(_closed_until(turn) or ""))
    return "collecting"


def on_collecting(turn: Turn) -> str:
    session, text = turn.session, turn.text
    pending = session.pending
    giving_up = phrases.is_skip(text) or (phrases.wants_human(text) and pending != "contact")
    if pending == Detail.ORDER_NUMBER:
        match = _ORDER.search(text)
        if match and sum(ch.isdigit() for ch in match.group(1)) >= 3:
            session.collected = {**session.collected, Detail.ORDER_NUMBER: match.group(1)}
            return _ask_next_or_hand_over(turn)
        return _retry_or_skip(turn, giving_up, phrases.order_number_invalid)
    if pending == Detail.EMAIL:
        match = _EMAIL.search(text)
        if match:
            return _start_code(turn, Detail.EMAIL, match.group(0))
        return _retry_or_skip(turn, giving_up, phrases.email_invalid)
    if pending == Detail.PHONE:
        match = _PHONE.search(text)
        if match:
            return _start_code(turn, Detail.PHONE, match.group(0))
        return _retry_or_skip(turn, giving_up, phrases.phone_invalid)
    # Outside business hours: an email address or a phone number to answer on.
    value = _reachable_at(text)
    if value:
        session.collected = {**session.collected, "contact": value}
        with translation.override(turn.language):
            turn.say(phrases.contact_noted(value))
        return hand_over(turn, session.handover_after_collecting or HandoverReason.REQUESTED, announce=False)
    return _retry_or_skip(turn, giving_up, phrases.contact_invalid)


def _reachable_at(text: str) -> str:
    from threadline.contacts.normalise import InvalidIdentityError, normalise

    email = _EMAIL.search(text)
    if email:
        return email.group(0)
    phone = _PHONE.search(text)
    if phone:
        try:
            return normalise("phone", phone.group(0))
        except InvalidIdentityError:
            return ""
    return ""


def _retry_or_skip(turn: Turn, giving_up: bool, prompt) -> str:
    session = turn.session
    session.prompts += 1
    if giving_up or session.prompts >= 2:
        session.collected = {**session.collected, session.pending: None}  # asked, not given: never ask again
        return _ask_next_or_hand_over(turn)
    with translation.override(turn.language):
        turn.say(prompt())
    return "collecting"


def _start_code(turn: Turn, detail: str, address: str) -> str:
    """Send a one-time code to the address the customer gave (an email, or a phone by text message)."""
    from threadline.contacts.verification import VerificationError, verification_start

    session = turn.session
    try:
        verification_start(conversation=turn.conversation, kind=_VERIFIED[detail], value=address)
    except VerificationError as error:
        session.prompts += 1
        if session.prompts >= 2:
            session.collected = {**session.collected, detail: {"value": address, "verified": False}}
            return _ask_next_or_hand_over(turn)
        with translation.override(turn.language):
            turn.say(str(error))
            turn.say(phrases.ask_email() if detail == Detail.EMAIL else phrases.ask_phone())
        return "collecting"
    session.state, session.pending, session.prompts = SessionState.AWAITING_CODE, detail, 0
    session.collected = {**session.collected, "code_pending": address}
    with translation.override(turn.language):
        turn.say(phrases.code_sent(address))
    return "awaiting_code"


def on_awaiting_code(turn: Turn) -> str:
    from threadline.contacts.verification import contact_known_identity, verification_try_code

    session, text = turn.session, turn.text
    detail = session.pending if session.pending in _VERIFIED else Detail.EMAIL
    kind = _VERIFIED[detail]
    address = session.collected.get("code_pending", "")
    outcome = verification_try_code(conversation=turn.conversation, text=text, message_id=turn.message.pk)
    if outcome is not None and outcome.verified:
        return _confirmed(turn, detail, outcome.identity.value if outcome.identity else address)
    known = contact_known_identity(contact=_fresh_contact(turn), kind=kind)
    if outcome is None and known:  # the identity reaction checked this message's code first
        return _confirmed(turn, detail, known)
    other = (_EMAIL if detail == Detail.EMAIL else _PHONE).search(text)
    if outcome is None and other and other.group(0) != address:
        return _start_code(turn, detail, other.group(0))
    session.prompts += 1
    failed = outcome is not None and outcome.reason in ("expired", "too_many_attempts")
    if failed or session.prompts >= 3 or phrases.is_skip(text) or phrases.wants_human(text):
        session.collected = {**session.collected, detail: {"value": address, "verified": False}}
        return _ask_next_or_hand_over(turn)
    with translation.override(turn.language):
        turn.say(phrases.code_wrong(kind) if outcome is not None else phrases.code_prompt(kind))
    return "awaiting_code"


def _fresh_contact(turn: Turn):
    """The conversation's contact now (a verified email may just have merged it into another one)."""
    turn.conversation = Conversation.objects.select_related("contact", "workspace", "inbox").get(pk=turn.conversation.pk)
    return turn.conversation.contact


def _confirmed(turn: Turn, detail: str, address: str) -> str:
    _fresh_contact(turn)
    collected = {k: v for k, v in turn.session.collected.items() if k != "code_pending"}
    turn.session.collected = {**collected, detail: {"value": address, "verified": True}}
    with translation.override(turn.language):
        turn.say(phrases.email_confirmed() if detail == Detail.EMAIL else phrases.phone_confirmed())
    return _ask_next_or_hand_over(turn)


def hand_over(turn: Turn, reason: str, *, announce: bool = True) -> str:
    """Stop the bot in this conversation: tell the customer, leave the agent a summary, let routing take it."""
    session = turn.session
    quiet = reason in QUIET_REASONS
    if announce and not quiet:
        closed_until = _closed_until(turn)
        with translation.override(turn.language):
            turn.say(phrases.handover_message() if closed_until is None else phrases.handover_closed(closed_until))
    finish(turn)
    session.state, session.pending, session.options = SessionState.HANDED_OVER, "", []
    session.handover_reason = reason
    session.handed_over_at = timezone.now()
    session.save()
    if not quiet or reason == HandoverReason.ERROR:
        bot_note_add(conversation=turn.conversation, text=handover_summary(session, turn.conversation))
    events.record(
        events.BotHandedOver(
            workspace_id=turn.conversation.workspace_id,
            conversation_id=turn.conversation.pk,
            inbox_id=turn.conversation.inbox_id,
            reason=reason,
        )
    )
    return "handed_over"


def handover_summary(session: BotSession, conversation: Conversation) -> str:
    """The note agents read at handover, in the workspace's language: why, the question, what was offered."""
    language = conversation.workspace.default_language or "en"
    with translation.override(language):
        reason = HandoverReason(session.handover_reason).label if session.handover_reason else ""
        lines = [_("The bot handed this conversation over: %(reason)s.") % {"reason": reason}]
        if session.question:
            lines.append(_("Customer's question: %(question)s") % {"question": session.question})
        if session.suggested:
            offered = "; ".join(f"{s['title']} ({s['url']})" if s.get("url") else s["title"] for s in session.suggested)
            lines.append(_("The bot suggested: %(articles)s") % {"articles": offered})
        else:
            lines.append(_("The bot suggested no article."))
        lines += _detail_lines(session.collected)
        if session.language:
            lines.append(_("Customer's language: %(language)s") % {"language": _language_name(session.language)})
    return "\n".join(lines)


def _detail_lines(collected: dict) -> list[str]:
    lines = []
    if Detail.ORDER_NUMBER in collected:
        value = collected[Detail.ORDER_NUMBER]
        lines.append(_("Order number: %(value)s") % {"value": value} if value else _("Order number: not given"))
    labels = {
        Detail.EMAIL: (_("Email: %(value)s (verified by code)"), _("Email: %(value)s (not verified)"), _("Email: not given")),
        Detail.PHONE: (_("Phone: %(value)s (verified by code)"), _("Phone: %(value)s (not verified)"), _("Phone: not given")),
    }
    for detail, (verified, unverified, missing) in labels.items():
        value = collected.get(detail)
        if isinstance(value, dict) and value.get("value"):
            lines.append((verified if value.get("verified") else unverified) % {"value": value["value"]})
        elif detail in collected:
            lines.append(missing)
    if collected.get("contact"):
        lines.append(
            _("Outside business hours: reply by email or call back at %(value)s") % {"value": collected["contact"]}
        )
    return lines


def _language_name(code: str) -> str:
    from django.conf import settings

    return str(dict(settings.LANGUAGES).get(code, code))


def bot_hand_over_quietly(*, conversation_id: int, reason: str) -> bool:
    """Take the bot out of a conversation without a word to the customer (a failure, an agent took over).

    Publishes: BotHandedOver (its reaction routes the conversation); MessageCreated (a note, on failure).
    """
    with transaction.atomic():
        conversation = Conversation.objects.select_related("contact", "workspace", "inbox").filter(pk=conversation_id).first()
        if conversation is None:
            return False
        session, _created = BotSession.objects.get_or_create(
            conversation=conversation, defaults={"workspace_id": conversation.workspace_id}
        )
        session = BotSession.objects.select_for_update().get(pk=session.pk)
        if session.state == SessionState.HANDED_OVER:
            return False
        turn = Turn(None, conversation, session, BotSettings(), language=session.language or "en")  # type: ignore[arg-type]
        hand_over(turn, reason)
    return True
