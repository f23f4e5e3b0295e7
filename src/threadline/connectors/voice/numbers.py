"""Caller numbers as phone systems send them, turned into the customer a call belongs to.

Twilio sends E.164 (``+4930123456``) or ``client:<name>`` for app users; PBXs send what their trunk gives
them (``493023125741``, ``02214710334``, ``00493…`` or ``anonymous``). Zammad's caller-id rules
(CHANNELS.md §6.3) are followed: strip separators, a leading ``00`` is the international prefix, a single
leading ``0`` is a national number in the default region, anything else already starts with a country code.

A caller id is asserted by the telephone network and can be spoofed, so the identity it yields is stored
as unverified: it finds the contact who owns that number, but never merges two contacts by itself.
"""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings

from threadline.connectors.base import SenderRef

_SEPARATORS = re.compile(r"[\s\-().|/]")


def e164(value: str) -> str:
    """The E.164 form of a caller number, or "" when it is withheld or not a phone number."""
    text = _SEPARATORS.sub("", value or "")
    if not text or ":" in text or text.lower() in ("anonymous", "unknown", "restricted", "private"):
        return ""
    if text.startswith("00"):
        text = "+" + text[2:]
    elif not text.startswith(("+", "0")):
        text = "+" + text
    try:
        number = phonenumbers.parse(text, settings.THREADLINE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def caller_ref(number: str, name: str = "") -> SenderRef | None:
    """The customer behind a number: a shared (not inbox-scoped) phone identity, unverified (spoofable)."""
    normalised = e164(number)
    if not normalised:
        return None
    return SenderRef(kind="phone", value=normalised, name=name[:200], verified=False)
