"""Opaque keyset (cursor) pagination over an ordered queryset.

The cursor carries the sort-key values of the last item of a page, so the next page starts right after
that item however many rows arrive meanwhile: no duplicates, no gaps and no OFFSET scans. The queryset's
own ``order_by`` is the key, so the selector that orders a list is the only place its order is written;
the key must end in a unique, non-null field (the id).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet

_MAX_INT = 2**63 - 1


class InvalidCursorError(ValueError):
    """The cursor was not made by this list (tampered, truncated or from another endpoint)."""


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def keyset_page(queryset: QuerySet, *, cursor: str | None, limit: int) -> Page:
    """One page of ``queryset`` after ``cursor``, and the cursor of the page after it (None at the end)."""
    keys = _keys(queryset)
    if cursor:
        queryset = queryset.filter(_after(keys, _decode(cursor, keys, queryset)))
    rows = list(queryset[: limit + 1])
    if len(rows) <= limit:
        return Page(items=rows, next_cursor=None)
    rows = rows[:limit]
    return Page(items=rows, next_cursor=_encode([getattr(rows[-1], name) for name, _ in keys]))


def _keys(queryset: QuerySet) -> list[tuple[str, bool]]:
    """(field name, descending) for each ordering term of the queryset."""
    order = queryset.query.order_by
    if not order or not all(isinstance(term, str) for term in order):
        raise TypeError("keyset pagination needs a queryset ordered by plain field names")
    keys = []
    for term in order:
        name = term.lstrip("-")
        keys.append((queryset.model._meta.pk.name if name == "pk" else name, term.startswith("-")))
    return keys


def _after(keys: Sequence[tuple[str, bool]], values: Sequence[Any]) -> Q:
    """Rows strictly after ``values`` in the key order: (a > x) or (a = x and b > y) or …"""
    condition = Q()
    for position, (name, descending) in enumerate(keys):
        step = Q(**{f"{name}__{'lt' if descending else 'gt'}": values[position]})
        for earlier, (earlier_name, _) in enumerate(keys[:position]):
            step &= Q(**{earlier_name: values[earlier]})
        condition |= step
    return condition


def _encode(values: Sequence[Any]) -> str:
    plain = [value.isoformat() if isinstance(value, dt.datetime) else value for value in values]
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, keys: Sequence[tuple[str, bool]], queryset: QuerySet) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError):
        raise InvalidCursorError from None
    if not isinstance(values, list) or len(values) != len(keys):
        raise InvalidCursorError
    return [_field_value(queryset, name, value) for (name, _), value in zip(keys, values, strict=True)]


def _field(queryset: QuerySet, name: str):
    """The model field, or the output field of an annotation the list is ordered by (e.g. an SLA due time)."""
    if name in queryset.query.annotations:
        return queryset.query.annotations[name].output_field
    return queryset.model._meta.get_field(name)


def _field_value(queryset: QuerySet, name: str, value: Any) -> Any:
    if value is None or isinstance(value, (dict, list, bool)):
        raise InvalidCursorError
    try:
        parsed = _field(queryset, name).to_python(value)
    except (FieldDoesNotExist, DjangoValidationError, OverflowError, TypeError, ValueError):
        raise InvalidCursorError from None
    if isinstance(parsed, int) and not -_MAX_INT <= parsed <= _MAX_INT:
        raise InvalidCursorError
    if isinstance(parsed, dt.datetime) and parsed.tzinfo is None:
        raise InvalidCursorError
    return parsed
