"""Background jobs of inbound ingestion: thin shells over services."""

from __future__ import annotations

from django_tasks import task


@task()
def process_delivery(delivery_id: int) -> str:
    from threadline.ingest.services import delivery_process

    return delivery_process(delivery_id=delivery_id)
