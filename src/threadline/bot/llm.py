"""Optional answer mode: compose the bot's answer through an OpenAI-compatible chat completions endpoint.

Off by default (``AnswerEndpoint.enabled``). The model is given only the knowledge-base articles the
search found and must cite the address of the one it used; an answer that cites none of them, says it
has no answer, or fails in any way is dropped and the bot falls back to quoting the article itself.
The call goes through ``connectors.http`` (the one outbound HTTP helper); the key is sent as a bearer
token and never logged.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings

from threadline.bot.models import AnswerEndpoint
from threadline.connectors import http
from threadline.connectors.base import SendError

logger = logging.getLogger(__name__)

NO_ANSWER = "NO_ANSWER"
MAX_ARTICLE_CHARS = 4000
MAX_ANSWER_CHARS = 1500


def completions_url(base: str) -> str:
    """Accept a server root, a ``…/v1`` base or the full ``…/v1/chat/completions`` address."""
    base = base.rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    if base.endswith("/v1"):
        return base + "/chat/completions"
    return base + "/v1/chat/completions"


def request_body(*, model: str, question: str, hits: list, language: str) -> dict:
    """The chat completions request: instructions plus the articles, then the customer's question."""
    language_name = dict(settings.LANGUAGES).get(language, language)
    articles = "\n\n".join(
        f"ARTICLE {number}\nTITLE: {hit.title}\nURL: {hit.url}\nTEXT:\n{hit.body_text[:MAX_ARTICLE_CHARS]}"
        for number, hit in enumerate(hits, start=1)
    )
    instructions = (
        "You answer customers of a support team. Use ONLY the knowledge-base articles below: no other knowledge, "
        f"no guesses. If they do not answer the question, reply exactly {NO_ANSWER}. Answer briefly in "
        f"{language_name} (language code {language}) and end with the URL of the article you used, exactly as "
        "given.\n\n" + articles
    )
    return {
        "model": model,
        "temperature": 0,
        "max_tokens": 400,
        "messages": [
            {"role": "system", "content": instructions},
            {"role": "user", "content": question},
        ],
    }


def compose_answer(*, endpoint: AnswerEndpoint, question: str, hits: list, language: str) -> str | None:
    """The model's answer when it is usable (cites one of the given articles), else None."""
    urls = [hit.url for hit in hits if hit.url]
    if not urls:
        return None
    body = json.dumps(request_body(model=endpoint.model, question=question, hits=hits, language=language))
    headers = {"Content-Type": "application/json"}
    if endpoint.api_key:
        headers["Authorization"] = f"Bearer {endpoint.api_key}"
    try:
        response = http.post(completions_url(endpoint.url), content=body.encode(), headers=headers)
    except SendError as error:
        logger.info("answer endpoint unreachable workspace=%s transient=%s", endpoint.workspace_id, error.transient)
        return None
    if response.status_code != 200:
        logger.info("answer endpoint refused workspace=%s status=%s", endpoint.workspace_id, response.status_code)
        return None
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        logger.info("answer endpoint sent an unreadable answer workspace=%s", endpoint.workspace_id)
        return None
    content = (content or "").strip()
    if not content or NO_ANSWER in content or not any(url in content for url in urls):
        return None  # no answer, or one that does not cite the knowledge base: quote the article instead
    return content[:MAX_ANSWER_CHARS]
