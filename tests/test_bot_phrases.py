"""Pure tests of what the bot recognises (handover requests in every language, feedback, greetings) and of
its confidence measure on hand-made hits."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from threadline.bot import matching, phrases


@pytest.mark.parametrize(
    "text",
    [
        "human", "Can I talk to an AGENT?", "I need a real person", "operator pls",
        "คุยกับพนักงาน", "ขอคุยกับพนักงานหน่อยค่ะ", "ติดต่อเจ้าหน้าที่ได้ไหม",
        "operatore", "Vorrei parlare con un operatore", "voglio un umano",
        "Mitarbeiter", "Kann ich mit einer Mitarbeiterin sprechen?", "bitte einen Menschen",
        "operator", "operatorla danışmaq istəyirəm", "insan", "insanla danışa bilərəm?", "əməkdaşla əlaqə",
    ],
)
def test_a_request_for_a_person_is_recognised_in_every_language(text):
    assert phrases.wants_human(text)


@pytest.mark.parametrize(
    "text",
    ["How do I return my shoes?", "รองเท้าไม่พอดี", "Quanto costa la spedizione?", "Wo ist mein Paket?",
     "Sifarişim haradadır?", "now what about delivery", "nobody told me the price"],
)
def test_ordinary_questions_are_not_handover_requests(text):
    assert not phrases.wants_human(text)


@pytest.mark.parametrize("text", ["no", "Nope", "didn't help", "ไม่ใช่", "non mi aiuta", "nein", "hilft nicht", "yox"])
def test_negative_feedback(text):
    assert phrases.is_negative(text)


@pytest.mark.parametrize("text", ["now", "nothing else", "normal size"])
def test_short_words_do_not_match_inside_longer_ones(text):
    assert not phrases.is_negative(text)


@pytest.mark.parametrize("text", ["hi", "Hello!", "สวัสดีครับ", "Ciao", "Guten Tag", "Salam"])
def test_greetings_alone(text):
    assert phrases.is_greeting_only(text)


def test_a_greeting_with_a_question_is_a_question():
    assert not phrases.is_greeting_only("Hi, how do I return my shoes and get a refund?")


def test_normalise_folds_case_accents_and_azerbaijani_letters_but_keeps_thai():
    assert phrases.normalise("ƏMƏKDAŞ Größe") == "emekdas grosse"
    assert phrases.normalise("พนักงาน") == "พนักงาน"


def test_thai_questions_are_segmented_into_content_words():
    terms = matching.content_terms("ฉันอยากคืนรองเท้าครับ")
    assert "รองเท้า" in terms and "คืน" in terms
    assert "ครับ" not in terms and "ฉัน" not in terms


@dataclass(frozen=True)
class Hit:
    article_id: int
    title: str
    body_text: str
    score: float
    url: str = ""
    locale: str = "en"


RETURNS = Hit(1, "Returning shoes", "Return shoes within 30 days for a refund.", 9.0)
SIZES = Hit(2, "Shoe sizes", "Measure your foot to find the size.", 3.0)
PAYMENT = Hit(3, "Payment methods", "We accept cards and bank transfer.", 8.5)


def test_a_clear_winner_that_covers_the_question_is_answered():
    decision = matching.decide("How do I return shoes for a refund?", [RETURNS, SIZES],
                               answer_threshold=0.55, clarify_threshold=0.3)
    assert decision.kind == matching.ANSWER and decision.best is RETURNS
    assert decision.confidence >= 0.8


def test_two_near_equal_articles_make_the_bot_ask():
    card_returns = Hit(1, "Refund to your card", "Refunds go back to your card.", 5.0)
    card_payment = Hit(3, "Paying by card", "We accept every card.", 5.0)
    decision = matching.decide("card", [card_returns, card_payment], answer_threshold=0.55, clarify_threshold=0.3)
    assert decision.kind == matching.CLARIFY
    assert {r.hit.article_id for r in decision.ranked} == {1, 3}


def test_a_question_the_articles_do_not_cover_gets_no_answer():
    decision = matching.decide("Can my parrot come to the warehouse party?", [RETURNS, PAYMENT],
                               answer_threshold=0.55, clarify_threshold=0.3)
    assert decision.kind == matching.NONE
    assert decision.confidence < 0.3


def test_no_hits_means_no_answer():
    assert matching.decide("anything", [], answer_threshold=0.5, clarify_threshold=0.3).kind == matching.NONE


def test_excerpt_picks_the_line_about_the_question():
    body = "Returns\nYou can return shoes within 30 days.\nPayment\nWe accept credit cards and bank transfer."
    assert "credit cards" in matching.excerpt(body, "Do you accept credit cards?")
