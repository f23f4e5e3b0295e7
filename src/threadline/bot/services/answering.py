"""Handling one customer message: language, answering from the knowledge base with a confidence measure,
clarifying questions, misses — and the dispatch to collecting and handing over (``handover.py``).
"""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.utils import translation

from threadline.bot import matching, phrases
from threadline.bot.models import AnswerEndpoint, BotSession, BotSettings, HandoverReason, SessionState
from threadline.bot.services.common import Turn, finish, logger
from threadline.bot.services.handover import (
    bot_hand_over_quietly,
    hand_over,
    on_awaiting_code,
    on_collecting,
    start_handover,
)
from threadline.conversations.models import AuthorKind, Conversation, Direction, Message

_CHOICE = re.compile(r"^\s*(?:#|no\.?\s*|nr\.?\s*|n\.?\s*)?([1-3])\s*[.)!]?\s*$", re.IGNORECASE)


def bot_handle_message(*, message_id: int) -> str:
    """Handle one inbound customer message: answer, clarify, collect or hand over. Idempotent per message.

    Returns what happened ("answered", "clarified", "collecting", "handed_over", "silent", …).
    Publishes: MessageCreated (bot replies and the handover note), BotHandedOver.
    Enqueues: conversations.tasks.deliver_message (through message_reply).
    """
    message = (
        Message.objects.select_related("conversation", "inbox")
        .filter(pk=message_id, direction=Direction.INBOUND, author_kind=AuthorKind.CONTACT)
        .first()
    )
    if message is None:
        return "skipped"
    try:
        for attempt in range(3):
            try:
                with transaction.atomic():
                    return _handle(message)
            except IntegrityError:  # two jobs created the session at once: the loser retries and finds it
                if attempt == 2:
                    raise
    except Exception:
        logger.exception("bot failed on message=%s conversation=%s", message.pk, message.conversation_id)
        bot_hand_over_quietly(conversation_id=message.conversation_id, reason=HandoverReason.ERROR)
        return "failed"
    raise AssertionError("unreachable")


def _handle(message: Message) -> str:
    conversation = Conversation.objects.select_related("contact", "workspace", "inbox").get(pk=message.conversation_id)
    session, _created = BotSession.objects.get_or_create(
        conversation=conversation, defaults={"workspace_id": conversation.workspace_id}
    )
    session = BotSession.objects.select_for_update().get(pk=session.pk)
    if session.state == SessionState.HANDED_OVER:
        return "silent"
    if message.pk <= session.last_message_id:
        return "duplicate"
    session.last_message_id = message.pk
    settings = BotSettings.objects.filter(inbox_id=message.inbox_id).first()
    if settings is None or not settings.enabled:
        return hand_over(_quiet_turn(message, conversation, session, settings), HandoverReason.DISABLED)
    turn = Turn(message, conversation, session, settings, language=_language(session, message, conversation))
    if message.meta.get("automatic") or message.meta.get("sent_outside_threadline"):
        return hand_over(turn, HandoverReason.NOT_FOR_BOT)
    if conversation.assignee_id is not None or _agent_replied(conversation, since=session.created_at):
        return hand_over(turn, HandoverReason.AGENT_JOINED)
    if session.replies + 1 >= settings.max_replies:  # the last message the bot may send is its goodbye
        turn.say(phrases.limit_reached())
        return hand_over(turn, HandoverReason.LIMIT, announce=False)
    if not turn.text.strip():  # a photo or a file without words: nothing to answer, and not a miss
        return "no_text"
    handler = {
        SessionState.COLLECTING: on_collecting,
        SessionState.AWAITING_CODE: on_awaiting_code,
    }.get(session.state, _on_question)
    outcome = handler(turn)
    finish(turn)
    return outcome


def _quiet_turn(message, conversation, session, settings) -> Turn:
    return Turn(message, conversation, session, settings or BotSettings(), language=session.language or "en")


def _language(session: BotSession, message: Message, conversation: Conversation) -> str:
    """The customer's language: Thai script, else a detection on a real sentence, else what we knew before."""
    text = message.text or ""
    detected = ""
    if phrases.has_thai(text):
        detected = "th"
    elif len(phrases.words(text)) >= 3:
        detected = _detect(text)
    fallback = session.language or conversation.contact.language or conversation.language
    language = (detected or fallback or conversation.workspace.default_language or "en").split("-")[0].lower()
    if language not in phrases.SUPPORTED_LANGUAGES:
        language = "en"
    session.language = language
    return language


def _detect(text: str) -> str:
    try:
        from threadline.knowledge.search import detect_language
    except ImportError:  # the knowledge app is not installed: keep what we know
        return ""
    return detect_language(text)


def _agent_replied(conversation: Conversation, *, since) -> bool:
    return Message.objects.filter(
        conversation=conversation,
        direction__in=[Direction.OUTBOUND, Direction.NOTE],
        author_kind=AuthorKind.AGENT,
        provider_sent_at__gte=since,
    ).exists()


# --- Questions and answers ------------------------------------------------------------------------------


def _on_question(turn: Turn) -> str:
    session, text = turn.session, turn.text
    if phrases.wants_human(text):
        return start_handover(turn, HandoverReason.REQUESTED)
    if session.state == SessionState.CLARIFYING:
        chosen = _chosen_option(text, session.options)
        if chosen is not None:
            _say_answer(turn, chosen)
            session.state, session.options = SessionState.ANSWERING, []
            return "answered"
    short = len(phrases.words(text)) <= 3 or (phrases.has_thai(text) and len(text.strip()) <= 15)
    if short and session.suggested and phrases.is_negative(text):
        return _missed(turn)
    if short and session.suggested and phrases.is_positive(text):
        with translation.override(turn.language):
            turn.say(phrases.glad())
        session.state, session.options = SessionState.ANSWERING, []
        return "thanked"
    if phrases.is_greeting_only(text):
        with translation.override(turn.language):
            turn.say(turn.settings.greeting.strip() or phrases.default_greeting())
        return "greeted"
    if not session.question:
        session.question = text[:1000]
    decision = _decide(turn, text)
    if decision.kind == matching.ANSWER:
        _say_answer(turn, _option(decision.best, text), hits=[r.hit for r in decision.ranked[:3]])
        session.state, session.options = SessionState.ANSWERING, []
        return "answered"
    if decision.kind == matching.CLARIFY:
        _say_choices(turn, [_option(r.hit, text) for r in decision.ranked])
        return "clarified"
    if session.state == SessionState.CLARIFYING or session.suggested:
        return _missed(turn)
    return start_handover(turn, HandoverReason.LOW_CONFIDENCE)


def _decide(turn: Turn, text: str) -> matching.Decision:
    hits = article_hits(workspace_id=turn.conversation.workspace_id, query=text, locale=turn.language)
    return matching.decide(
        text, hits, answer_threshold=turn.settings.answer_threshold, clarify_threshold=turn.settings.clarify_threshold
    )


def article_hits(*, workspace_id: int, query: str, locale: str) -> list:
    """Public articles for the question from the knowledge base's search (none when it is not installed)."""
    try:
        from threadline.knowledge.search import article_search
    except ImportError:
        return []
    return article_search(workspace_id=workspace_id, query=query, locale=locale, audience="public", limit=5)


def _option(hit, question: str) -> dict:
    return {
        "article_id": hit.article_id,
        "title": hit.title,
        "url": hit.url,
        "excerpt": matching.excerpt(hit.body_text, question),
        "locale": hit.locale,
    }


def _chosen_option(text: str, options: list[dict]) -> dict | None:
    match = _CHOICE.match(text or "")
    if match and int(match.group(1)) <= len(options):
        return options[int(match.group(1)) - 1]
    norm = phrases.normalise(text).strip(" .!?")
    return next((o for o in options if norm and phrases.normalise(o["title"]).strip(" .!?") == norm), None)


def _say_answer(turn: Turn, option: dict, *, hits: list | None = None) -> None:
    composed = _compose_with_endpoint(turn, hits) if hits else None
    with translation.override(turn.language):
        if composed:
            turn.say(composed)
        else:
            parts = [phrases.answer_intro(option["title"])]
            if option["excerpt"]:
                parts.append(option["excerpt"])
            if option["url"]:
                parts.append(phrases.read_more(option["url"]))
            turn.say("\n".join(parts))
        turn.say(phrases.answer_followup())
    _remember_suggestion(turn.session, option)


def _remember_suggestion(session: BotSession, option: dict) -> None:
    entry = {"title": option["title"], "url": option["url"]}
    if entry not in session.suggested:
        session.suggested = [*session.suggested, entry][-5:]


def _say_choices(turn: Turn, options: list[dict]) -> None:
    with translation.override(turn.language):
        lines = [phrases.clarify_intro()]
        lines += [f"{number}. {option['title']}" for number, option in enumerate(options, start=1)]
        lines.append(phrases.clarify_none())
        turn.say("\n".join(lines))
    turn.session.state = SessionState.CLARIFYING
    turn.session.options = options
    for option in options:
        _remember_suggestion(turn.session, option)


def _missed(turn: Turn) -> str:
    session = turn.session
    session.misses += 1
    session.options = []
    if session.misses >= turn.settings.max_misses:
        return start_handover(turn, HandoverReason.MISSES)
    session.state = SessionState.ANSWERING
    with translation.override(turn.language):
        turn.say(phrases.rephrase())
    return "missed"


def _compose_with_endpoint(turn: Turn, hits: list) -> str | None:
    endpoint = AnswerEndpoint.objects.filter(workspace_id=turn.conversation.workspace_id, enabled=True).first()
    if endpoint is None or not endpoint.url:
        return None
    from threadline.bot.llm import compose_answer

    return compose_answer(endpoint=endpoint, question=turn.text, hits=hits, language=turn.language)
