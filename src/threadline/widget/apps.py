"""Django app configuration for the live-chat widget."""

from django.apps import AppConfig


class WidgetConfig(AppConfig):
    name = "threadline.widget"
    label = "widget"
    default_auto_field = "django.db.models.BigAutoField"
