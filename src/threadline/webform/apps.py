"""Django app config of the web form channel."""

from django.apps import AppConfig


class WebformConfig(AppConfig):
    name = "threadline.webform"
    label = "webform"
    verbose_name = "Web forms"
