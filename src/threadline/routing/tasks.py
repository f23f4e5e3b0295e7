"""Background jobs of routing: thin shells over the routing services, enqueued on commit by reactions."""

from __future__ import annotations

from django_tasks import task


@task()
def route_conversation(conversation_id: int) -> bool:
    from threadline.routing.services.assignment import conversation_route

    return conversation_route(conversation_id=conversation_id) is not None


@task()
def drain_queue(workspace_id: int) -> int:
    from threadline.routing.services.assignment import routing_queue_drain

    return routing_queue_drain(workspace_id=workspace_id)


@task()
def sla_check(conversation_id: int) -> list[str]:
    from threadline.routing.services.sla import sla_refresh

    return sla_refresh(conversation_id=conversation_id)


@task()
def send_csat(conversation_id: int) -> bool:
    from threadline.routing.services.csat import csat_send

    return csat_send(conversation_id=conversation_id) is not None


@task()
def rebalance(workspace_id: int) -> int:
    from threadline.routing.services.assignment import routing_rebalance

    return routing_rebalance(workspace_id=workspace_id)
