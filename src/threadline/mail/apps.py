"""Django app for email intake state (IMAP checkpoints)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "threadline.mail"
    label = "mail"
    verbose_name = _("Email intake")
