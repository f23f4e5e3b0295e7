"""Applying routing rules to a new conversation: first match wins, and the decision is explained.

Publishes: ConversationRouted (its timeline line names the rule and the conditions that held), plus the
triage services' ConversationUpdated for the priority and labels a rule sets.
"""

from __future__ import annotations

from django.utils import timezone

from threadline import events
from threadline.conversations.models import Conversation, Direction, Label, Message
from threadline.conversations.triage import conversation_set_labels, conversation_set_priority, label_create
from threadline.routing.matching import RoutingFacts, first_match
from threadline.routing.models import ConversationRouting, RoutingRule


def routing_facts(conversation: Conversation) -> RoutingFacts:
    first = (
        Message.objects.filter(conversation_id=conversation.pk, direction=Direction.INBOUND)
        .order_by("provider_sent_at", "id")
        .values_list("text", flat=True)
        .first()
    )
    return RoutingFacts(
        channel_kind=conversation.inbox.kind,
        inbox_id=conversation.inbox_id,
        language=conversation.language or conversation.contact.language,
        labels=frozenset(conversation.labels.values_list("name", flat=True)),
        first_message=" ".join(filter(None, [conversation.subject, first or ""])),
        contact_attributes=conversation.contact.attributes or {},
    )


def routing_rules_apply(conversation: Conversation, state: ConversationRouting) -> RoutingRule | None:
    """Run the workspace's enabled rules once; apply the first match. Call inside the routing transaction."""
    state.routed_at = timezone.now()
    rules = RoutingRule.objects.filter(workspace_id=conversation.workspace_id, enabled=True).order_by("position", "id")
    match = first_match(((rule, rule.conditions) for rule in rules), routing_facts(conversation))
    if match is None:
        state.save(update_fields=["routed_at"])
        return None
    rule, reasons = match
    state.rule, state.required_skills = rule, list(rule.required_skills)
    state.save(update_fields=["routed_at", "rule", "required_skills"])
    if rule.team_id:
        conversation.team_id = rule.team_id  # saved by the assignment that follows (conversation_assign)
    if rule.priority:
        conversation_set_priority(conversation=conversation, priority=rule.priority, actor=None)
    if rule.labels:
        _add_labels(conversation, rule.labels)
    events.record(
        events.ConversationRouted(
            workspace_id=conversation.workspace_id,
            conversation_id=conversation.pk,
            inbox_id=conversation.inbox_id,
            rule_id=rule.pk,
            rule_name=rule.name,
            reasons=reasons,
            team_id=rule.team_id,
            required_skills=list(rule.required_skills),
        )
    )
    return rule


def _add_labels(conversation: Conversation, names: list[str]) -> None:
    existing = {
        label.name: label for label in Label.objects.filter(workspace_id=conversation.workspace_id, name__in=names)
    }
    wanted = [existing.get(name) or label_create(workspace=conversation.workspace, name=name) for name in names]
    current = list(conversation.labels.all())
    conversation_set_labels(
        conversation=conversation, labels=[*current, *(w for w in wanted if w not in current)], actor=None
    )
