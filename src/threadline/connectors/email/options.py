"""The email inbox's settings as the setup page stores them (strings), read with their defaults."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _

from threadline.connectors.base import ConfigField

CONFIG_FIELDS = (
    ConfigField("address", _("Mailbox address"), help=_("Replies are sent from it; mail to it lands in this inbox.")),
    ConfigField("from_name", _("Sender name"), help=_("Used when no agent name is known."), required=False),
    ConfigField("smtp_host", _("SMTP server"), required=False),
    ConfigField("smtp_port", _("SMTP port"), help=_("587 with STARTTLS, 465 with SSL."), required=False),
    ConfigField("smtp_security", _("SMTP security"), help=_("starttls (default), ssl or none."), required=False),
    ConfigField("smtp_username", _("SMTP user name"), required=False),
    ConfigField("imap_host", _("IMAP server"), help=_("Set it to poll an existing mailbox."), required=False),
    ConfigField("imap_port", _("IMAP port"), required=False),
    ConfigField("imap_ssl", _("IMAP over SSL"), help=_("yes (default) or no."), required=False),
    ConfigField("imap_username", _("IMAP user name"), required=False),
    ConfigField("imap_folder", _("IMAP folder"), help=_("INBOX by default."), required=False),
    ConfigField("webhook_provider", _("Inbound webhook provider"), help=_("mailgun, sendgrid or postmark."),
                required=False),
    ConfigField("dkim_selector", _("DKIM selector"), help=_("Set it (and the DKIM key) to sign outbound mail."),
                required=False),
    ConfigField("dkim_domain", _("DKIM domain"), required=False),
)


def flag(settings: Mapping[str, object], name: str, *, default: bool) -> bool:
    """A yes/no setting stored as a bool or as text ("no", "false", "0", "off" are no)."""
    value = settings.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in ("0", "false", "no", "off")


def port(settings: Mapping[str, object], name: str, *, default: int) -> int:
    try:
        return int(str(settings.get(name) or default))
    except ValueError:
        return default
