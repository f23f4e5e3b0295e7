"""Bot quality: top-1 answer accuracy and correct handovers, per language, on the demo knowledge base.

    .venv/bin/python -m bench.bot_eval [--verbose] [--answer-threshold 0.55] [--clarify-threshold 0.3]

Seeds a scratch SQLite workspace with the demo knowledge base (``knowledge_demo_seed``), turns the bot on
for an API inbox and sends every question of ``bench/bot_eval_set.json`` as a new customer's first message
through the real path (``message_receive`` → ``bot_handle_message``). Then it reads what the bot did:

- **top-1 accuracy** (answerable questions): the bot answered at once with the expected article;
- **offered** (answerable): it answered with it or listed it in a clarifying question;
- **correct handover** (unanswerable questions): the bot handed over instead of answering;
- **false handover** (answerable): it handed over although the knowledge base has the answer.

Baseline in the same run: the search's own top hit for the question, with no confidence measure (what a
bot that always answers would do — it never hands over).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path

SET = Path(__file__).with_name("bot_eval_set.json")
LANGUAGES = ("en", "th", "it", "de", "az")


def _setup() -> None:
    from bench.workspace import django_setup

    django_setup(data_dir=tempfile.mkdtemp(prefix="threadline-bench-bot-"))
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _scene(answer_threshold: float, clarify_threshold: float):
    from threadline.bot.services import bot_settings_save
    from threadline.core.models import Inbox, Workspace
    from threadline.knowledge.demo import knowledge_demo_seed

    workspace = Workspace.objects.create(name="ShoeShop", slug="shoeshop")
    inbox = Inbox.objects.create(workspace=workspace, name="Shop app", kind="api", secrets={"signing_secret": "x"})
    bot_settings_save(
        inbox=inbox, enabled=True, answer_threshold=answer_threshold, clarify_threshold=clarify_threshold
    )
    knowledge_demo_seed(workspace)
    return workspace, inbox


def _ask(inbox, number: int, text: str) -> dict:
    """One new customer's first message through the real path; what the bot did with it."""
    from django.utils import timezone

    from threadline.bot.models import BotSession
    from threadline.bot.services import bot_handle_message
    from threadline.connectors.base import InboundMessage, SenderRef
    from threadline.conversations.services import message_receive

    inbound = InboundMessage(
        provider_id=f"eval-{number}",
        sender=SenderRef(kind="external_id", value=f"eval-customer-{number}", scoped_to_inbox=True),
        sent_at=timezone.now(),
        text=text,
    )
    message = message_receive(inbox=inbox, inbound=inbound).message
    started = time.perf_counter()
    outcome = bot_handle_message(message_id=message.pk)
    elapsed = time.perf_counter() - started
    session = BotSession.objects.get(conversation_id=message.conversation_id)
    return {
        "outcome": outcome,
        "answered": session.suggested[0]["url"] if outcome == "answered" and session.suggested else "",
        "offered": [s["url"] for s in session.suggested],
        "language": session.language,
        "seconds": elapsed,
    }


def _baseline_url(workspace_id: int, text: str) -> str:
    from threadline.knowledge.search import article_search, detect_language

    hits = article_search(workspace_id=workspace_id, query=text, locale=detect_language(text), limit=1)
    return hits[0].url if hits else ""


def _article_key_for(url: str, keys_by_id: dict[int, str]) -> str | None:
    """Help-center URLs look like …/articles/<id>-<slug>."""
    if "/articles/" not in url:
        return None
    head = url.rsplit("/articles/", 1)[1].split("-", 1)[0]
    return keys_by_id.get(int(head)) if head.isdigit() else None


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="bench.bot_eval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--answer-threshold", type=float, default=0.55)
    parser.add_argument("--clarify-threshold", type=float, default=0.3)
    parser.add_argument("--verbose", action="store_true", help="print every question and what the bot did")
    parser.add_argument("--set", type=Path, default=SET,
                        help="question file (default bot_eval_set.json; bot_eval_holdout.json holds questions "
                             "never used for tuning)")
    args = parser.parse_args(argv)
    _setup()
    from threadline.knowledge.models import Article

    workspace, inbox = _scene(args.answer_threshold, args.clarify_threshold)
    keys_by_id = dict(Article.objects.filter(workspace=workspace).values_list("pk", "key"))
    questions = json.loads(args.set.read_text())["questions"]
    stats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    timings = []
    for number, question in enumerate(questions, start=1):
        result = _ask(inbox, number, question["text"])
        timings.append(result["seconds"])
        answered = _article_key_for(result["answered"], keys_by_id)
        offered = {_article_key_for(url, keys_by_id) for url in result["offered"]}
        baseline = _article_key_for(_baseline_url(workspace.pk, question["text"]), keys_by_id)
        expect = question["expect"]
        for bucket in (question["lang"], "all"):
            row = stats[bucket]
            if expect is None:
                row["unanswerable"] += 1
                row["handover_ok"] += result["outcome"] == "handed_over"
                row["baseline_handover_ok"] += 0  # a bot without a confidence measure always answers
            else:
                row["answerable"] += 1
                row["top1"] += answered == expect
                row["offered"] += expect in offered
                row["false_handover"] += result["outcome"] == "handed_over"
                row["baseline_top1"] += baseline == expect
                row["language_ok"] += result["language"] == question["lang"]
        if args.verbose:
            mark = "ok " if (answered == expect if expect else result["outcome"] == "handed_over") else "MISS"
            print(f"{mark} [{question['lang']}] {result['outcome']:<12} got={answered or '-':<16} "
                  f"want={expect or 'handover':<16} {question['text']}")
    _report(stats, timings)
    return stats


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f} %" if whole else "    –  "


def _report(stats, timings) -> None:
    print(f"\nBot evaluation on the demo knowledge base ({args.set.name})")
    print(f"{'lang':<5} {'n':>3} {'top-1':>8} {'offered':>8} {'false h/o':>9} {'search top-1':>12} "
          f"{'handover ok':>11} {'unans.':>6}")
    for lang in (*LANGUAGES, "all"):
        r = stats[lang]
        print(
            f"{lang:<5} {r['answerable']:>3} {_pct(r['top1'], r['answerable']):>8} {_pct(r['offered'], r['answerable']):>8} "
            f"{_pct(r['false_handover'], r['answerable']):>9} {_pct(r['baseline_top1'], r['answerable']):>12} "
            f"{_pct(r['handover_ok'], r['unanswerable']):>11} {r['unanswerable']:>6}"
        )
    timings.sort()
    print(f"\nper question: median {1000 * timings[len(timings) // 2]:.0f} ms, max {1000 * timings[-1]:.0f} ms "
          "(search + decision + storing the reply, SQLite)")


if __name__ == "__main__":
    main()
