"""The widget's interface strings, translated on the server (gettext catalogs) and sent with its config."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext_lazy as _

STRINGS = {
    "launcher": _("Chat with us"),
    "title": _("Chat"),
    "greeting": _("Hi! How can we help you today?"),
    "placeholder": _("Write a message…"),
    "send": _("Send"),
    "close": _("Close"),
    "attach": _("Attach a file"),
    "typing": _("%(name)s is typing…"),
    "agent": _("Support"),
    "you": _("You"),
    "read": _("Seen"),
    "sending": _("Sending…"),
    "failed": _("Not sent. Tap to retry."),
    "offline_title": _("We are away right now"),
    "offline_text": _("Leave your email and we will reply there."),
    "back_at": _("We are back at %(time)s."),
    "email_label": _("Your email"),
    "email_save": _("Save"),
    "email_saved": _("Thanks! We will reply to %(email)s."),
    "prechat_title": _("Before we start"),
    "prechat_start": _("Start chat"),
    "name": _("Name"),
    "email": _("Email"),
    "by_email": _("sent by email"),
    "reconnecting": _("Reconnecting…"),
    "suggestions": _("Suggested articles"),
    "file_too_large": _("This file is too large."),
    "powered": _("Chat by Threadline"),
}


def widget_strings(language: str) -> dict[str, str]:
    """Every widget string in ``language`` (one of the widget languages)."""
    with translation.override(language):
        return {key: str(value) for key, value in STRINGS.items()}
