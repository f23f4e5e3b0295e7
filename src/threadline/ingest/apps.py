from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IngestConfig(AppConfig):
    name = "threadline.ingest"
    label = "ingest"
    verbose_name = _("Inbound deliveries")

    def ready(self) -> None:
        from threadline.ingest.services import deliveries_drain
        from threadline.jobs import register_drain

        # Pending deliveries are the queue: every worker pass claims a batch of them.
        register_drain(deliveries_drain)
