"""What a web form asks for: the per-inbox field configuration kept in ``Inbox.config["webform"]``. Pure.

Stored shape (JSON)::

    {"fields": {"name": "required"|"optional"|"hidden", "subject": …, "message": …},
     "custom": [{"key": "order", "label": "Order number", "type": "text", "required": true,
                 "options": ["…"]}],
     "attachments": true, "email_inbox_id": 7, "email_address": "support@shop.example",
     "from_name": "ShoeShop", "title": "…", "intro": "…", "thanks": "…",
     "allowed_origins": ["https://shop.example"]}

The email address is always asked for and always required: it is the only way back to the visitor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

BUILT_IN = ("name", "subject", "message")
PRESENCE = ("required", "optional", "hidden")
DEFAULT_PRESENCE = {"name": "required", "subject": "optional", "message": "required"}
CUSTOM_TYPES = ("text", "textarea", "number", "email", "date", "select", "checkbox")
MAX_CUSTOM_FIELDS = 20
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?$")
RESERVED_KEYS = {"name", "email", "subject", "message", "website", "form_token", "lang", "embed", "attachments"}


class SpecError(ValueError):
    """A form configuration that cannot be used; the message is shown to the admin."""


@dataclass(frozen=True)
class CustomField:
    key: str
    label: str
    type: str = "text"
    required: bool = False
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class FormSpec:
    presence: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PRESENCE))
    custom: tuple[CustomField, ...] = ()
    attachments: bool = True
    email_inbox_id: int | None = None
    email_address: str = ""
    from_name: str = ""
    title: str = ""
    intro: str = ""
    thanks: str = ""
    allowed_origins: tuple[str, ...] = ()

    @property
    def can_reply(self) -> bool:
        return self.email_inbox_id is not None and "@" in self.email_address

    def to_config(self) -> dict[str, Any]:
        return {
            "fields": dict(self.presence),
            "custom": [
                {"key": f.key, "label": f.label, "type": f.type, "required": f.required, "options": list(f.options)}
                for f in self.custom
            ],
            "attachments": self.attachments,
            "email_inbox_id": self.email_inbox_id,
            "email_address": self.email_address,
            "from_name": self.from_name,
            "title": self.title,
            "intro": self.intro,
            "thanks": self.thanks,
            "allowed_origins": list(self.allowed_origins),
        }


def _custom_field(item: object, index: int) -> CustomField:
    if not isinstance(item, dict):
        raise SpecError(_("Custom field %(n)d is not an object.") % {"n": index + 1})
    key = str(item.get("key", "")).strip().lower()
    label = str(item.get("label", "")).strip()[:200]
    kind = str(item.get("type", "text"))
    if not _KEY.match(key) or key in RESERVED_KEYS:
        raise SpecError(
            _("Custom field %(n)d: the key must be lower-case letters, digits or _ and not a built-in name.") % {"n": index + 1}
        )
    if not label:
        raise SpecError(_("Custom field %(n)d needs a label.") % {"n": index + 1})
    if kind not in CUSTOM_TYPES:
        raise SpecError(_("Custom field %(n)d: unknown type.") % {"n": index + 1})
    options = tuple(str(o).strip()[:200] for o in item.get("options", []) or [] if str(o).strip())
    if kind == "select" and not options:
        raise SpecError(_("Custom field %(n)d: a choice list needs options.") % {"n": index + 1})
    return CustomField(key=key, label=label, type=kind, required=bool(item.get("required")), options=options[:50])


def spec_from_config(config: object) -> FormSpec:
    """The form an inbox's config describes (defaults for anything missing). Raises SpecError when invalid."""
    data = config.get("webform", {}) if isinstance(config, dict) else {}
    data = data if isinstance(data, dict) else {}
    presence = dict(DEFAULT_PRESENCE)
    for name, value in (data.get("fields") or {}).items():
        if name in BUILT_IN and value in PRESENCE:
            presence[name] = value
    custom = tuple(_custom_field(item, index) for index, item in enumerate(data.get("custom") or []))
    if len(custom) > MAX_CUSTOM_FIELDS:
        raise SpecError(_("A form has at most %(n)d custom fields.") % {"n": MAX_CUSTOM_FIELDS})
    if len({f.key for f in custom}) != len(custom):
        raise SpecError(_("Two custom fields have the same key."))
    origins = tuple(str(o).strip().rstrip("/") for o in data.get("allowed_origins") or [] if str(o).strip())
    for origin in origins:
        if not _ORIGIN.match(origin):
            raise SpecError(_("Not a web origin: %(origin)s") % {"origin": origin[:80]})
    inbox_id = data.get("email_inbox_id")
    return FormSpec(
        presence=presence,
        custom=custom,
        attachments=bool(data.get("attachments", True)),
        email_inbox_id=inbox_id if isinstance(inbox_id, int) else None,
        email_address=str(data.get("email_address") or ""),
        from_name=str(data.get("from_name") or "")[:200],
        title=str(data.get("title") or "")[:200],
        intro=str(data.get("intro") or "")[:2000],
        thanks=str(data.get("thanks") or "")[:2000],
        allowed_origins=origins,
    )
