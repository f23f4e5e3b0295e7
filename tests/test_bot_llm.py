"""The optional answer mode through an OpenAI-compatible endpoint, against a local fake server that checks
the request shape: only knowledge-base content goes out, the answer must cite the article, and anything
else (no citation, "no answer", a refused key, a dead server) falls back to quoting the article."""

from __future__ import annotations

import pytest

from tests.fakes.llm import FakeChatCompletions
from tests.test_bot_support import ARTICLES, bot_inbox, bot_messages, customer, kb, last_bot_text  # noqa: F401
from threadline.bot.llm import NO_ANSWER, completions_url
from threadline.bot.services import answer_endpoint_save

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = "How do I return my shoes and get a refund?"


@pytest.fixture
def fake_llm():
    with FakeChatCompletions() as server:
        yield server


def configure(workspace, server, *, key="sk-test-key", enabled=True):
    return answer_endpoint_save(workspace=workspace, enabled=enabled, url=server.url + "/v1", model="tiny-kb", api_key=key)


def test_answer_comes_from_the_model_and_cites_the_article(customer, kb, workspace, fake_llm):
    configure(workspace, fake_llm)
    conversation = customer.says(QUESTION)

    [request] = fake_llm.requests
    assert request["model"] == "tiny-kb"
    system, user = request["messages"]
    assert system["role"] == "system" and user == {"role": "user", "content": QUESTION}
    assert ARTICLES["returns"]["en"][0] in system["content"]  # the knowledge base is the only material
    assert "ONLY" in system["content"] and NO_ANSWER in system["content"]
    text = last_bot_text(conversation)
    assert "Source: http" in text and f"/articles/{kb['returns'].pk}-" in text
    assert "This article should help" not in text  # the model's answer replaced the quote


def test_answer_without_a_citation_is_dropped(customer, kb, workspace):
    with FakeChatCompletions(answer=lambda messages: "Just send them back, it is easy.") as server:
        configure(workspace, server)
        conversation = customer.says(QUESTION)
        assert len(server.requests) == 1
    text = last_bot_text(conversation)
    assert "easy" not in text
    assert ARTICLES["returns"]["en"][0] in text  # fell back to quoting the article


def test_model_saying_it_has_no_answer_falls_back(customer, kb, workspace):
    with FakeChatCompletions(answer=lambda messages: NO_ANSWER) as server:
        configure(workspace, server)
        conversation = customer.says(QUESTION)
    assert ARTICLES["returns"]["en"][0] in last_bot_text(conversation)


def test_refused_key_falls_back_and_the_fake_saw_the_wrong_key(customer, kb, workspace, fake_llm):
    configure(workspace, fake_llm, key="sk-wrong")
    conversation = customer.says(QUESTION)
    assert fake_llm.rejected == ["invalid api key"]
    assert ARTICLES["returns"]["en"][0] in last_bot_text(conversation)


def test_unreachable_endpoint_falls_back(customer, kb, workspace):
    with FakeChatCompletions() as server:
        url = server.url
    answer_endpoint_save(workspace=workspace, enabled=True, url=url, model="tiny-kb", api_key="k")
    conversation = customer.says(QUESTION)
    assert ARTICLES["returns"]["en"][0] in last_bot_text(conversation)
    assert len(bot_messages(conversation)) == 1


def test_answer_mode_is_off_by_default(customer, kb, workspace, fake_llm):
    configure(workspace, fake_llm, enabled=False)
    conversation = customer.says(QUESTION)
    assert fake_llm.requests == []
    assert ARTICLES["returns"]["en"][0] in last_bot_text(conversation)


def test_stored_key_is_kept_when_the_form_leaves_it_empty(workspace, fake_llm):
    configure(workspace, fake_llm, key="sk-first")
    row = answer_endpoint_save(workspace=workspace, enabled=True, url=fake_llm.url, model="m", api_key=None)
    assert row.api_key == "sk-first"
    assert "sk-first" not in repr(row)


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/chat/completions"),
        ("http://127.0.0.1:8080/v1/", "http://127.0.0.1:8080/v1/chat/completions"),
        ("https://llm.example/v1/chat/completions", "https://llm.example/v1/chat/completions"),
    ],
)
def test_completions_url_accepts_the_usual_forms(base, expected):
    assert completions_url(base) == expected
