from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "threadline.core"
    label = "core"
    verbose_name = _("Workspaces and agents")

    def ready(self) -> None:
        from django_tasks.signals import task_enqueued

        from threadline.worker import ring_when_committed

        # Wake a waiting worker as soon as a job's transaction commits (threadline.worker.Doorbell).
        task_enqueued.connect(ring_when_committed, dispatch_uid="threadline-job-doorbell")
