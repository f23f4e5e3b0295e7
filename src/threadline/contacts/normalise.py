"""Normalised identity values: lower-cased email addresses and E.164 phone numbers. Pure functions."""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings

from threadline.contacts.models import IdentityKind

_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


class InvalidIdentityError(ValueError):
    pass


def normalise_email(value: str) -> str:
    value = value.strip().lower()
    if not _EMAIL.match(value) or len(value) > 320:
        raise InvalidIdentityError("not an email address")
    return value


def normalise_phone(value: str, *, region: str | None = None) -> str:
    """E.164 (``+66812345678``). Numbers without a country code use THREADLINE_DEFAULT_REGION."""
    cleaned = value.strip()
    if cleaned.startswith("whatsapp:"):
        cleaned = cleaned.removeprefix("whatsapp:")
    if cleaned.isdigit() and len(cleaned) > 10:
        cleaned = "+" + cleaned  # WhatsApp's wa_id: full international number without '+'
    try:
        number = phonenumbers.parse(cleaned, region or settings.THREADLINE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise InvalidIdentityError("not a phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidIdentityError("not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise(kind: str, value: str) -> str:
    if kind == IdentityKind.EMAIL:
        return normalise_email(value)
    if kind in (IdentityKind.PHONE, IdentityKind.WHATSAPP):
        return normalise_phone(value)
    value = value.strip()
    if not value or len(value) > 320:
        raise InvalidIdentityError("empty or too long")
    return value
