"""Django app configuration of the call log."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallsConfig(AppConfig):
    name = "threadline.calls"
    label = "calls"
    verbose_name = _("Phone calls")
    default_auto_field = "django.db.models.BigAutoField"
