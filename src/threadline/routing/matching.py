"""Pure routing-rule matching: which rule fits a new conversation, and why (for its activity line).

No database: the caller gathers a ``RoutingFacts`` and the rules' conditions; the first rule whose every
condition holds wins, and its reasons say which condition matched on what.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

CONDITION_KEYS = ("channel_kinds", "inbox_ids", "languages", "labels", "keywords", "contact_attributes")


@dataclass(frozen=True)
class RoutingFacts:
    channel_kind: str
    inbox_id: int
    language: str = ""
    labels: frozenset[str] = frozenset()
    first_message: str = ""
    contact_attributes: dict[str, Any] = field(default_factory=dict)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def keyword_found(keyword: str, text: str) -> bool:
    """Whole-word match for words made of letters; plain substring otherwise (e.g. Thai has no spaces)."""
    keyword, text = _fold(keyword.strip()), _fold(text)
    if not keyword:
        return False
    if keyword.isascii():
        return re.search(rf"(?<!\w){re.escape(keyword)}\w{{0,3}}(?!\w)", text) is not None
    return keyword in text


def match_reasons(conditions: dict[str, Any], facts: RoutingFacts) -> list[str] | None:
    """The reasons every condition holds (``key=value`` strings), or None when one does not."""
    reasons: list[str] = []
    checks = (
        ("channel_kinds", lambda values: [v for v in values if v == facts.channel_kind]),
        ("inbox_ids", lambda values: [str(v) for v in values if int(v) == facts.inbox_id]),
        ("languages", lambda values: [v for v in values if facts.language and _fold(v) == _fold(facts.language)]),
        ("labels", lambda values: [v for v in values if v in facts.labels]),
        ("keywords", lambda values: [v for v in values if keyword_found(v, facts.first_message)]),
        ("contact_attributes", lambda values: _attributes_held(values, facts.contact_attributes)),
    )
    for key, check in checks:
        wanted = conditions.get(key)
        if not wanted:
            continue
        held = check(wanted)
        if not held:
            return None
        reasons.append(f"{key}={', '.join(held)}")
    return reasons


def _attributes_held(wanted: dict[str, Any], attributes: dict[str, Any]) -> list[str]:
    if not all(str(attributes.get(key, "")).casefold() == str(value).casefold() for key, value in wanted.items()):
        return []
    return [f"{key}:{value}" for key, value in wanted.items()]


def first_match(rules: Iterable[tuple[Any, dict[str, Any]]], facts: RoutingFacts) -> tuple[Any, list[str]] | None:
    """The first (rule, reasons) whose conditions hold, in the given order; a rule with no condition matches all."""
    for rule, conditions in rules:
        reasons = match_reasons(conditions, facts)
        if reasons is not None:
            return rule, reasons
    return None
