"""Schemas shared by every router: error bodies, bounded input types and the declared responses.

Every operation declares the same error responses (see ``responses``) so the OpenAPI schema says what a
client can really receive; every error body carries a human-readable, translated ``detail``.
"""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Field, Path, Schema
from pydantic import AfterValidator

# Ids are 64-bit database keys: a larger number can name nothing, and some databases fail on it.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Path[int, {"ge": 1, "le": MAX_ID}]


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL characters in text; refuse them at the door instead of failing later.
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    return value


def bounded_text(max_length: int, min_length: int = 0) -> Any:
    """A string type with length bounds and without NUL characters."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length), AfterValidator(_no_nul)]


Cursor = bounded_text(500)
Limit = Annotated[int, Field(ge=1, le=100)]
DEFAULT_LIMIT = 25


class ErrorOut(Schema):
    detail: str = Field(description="What went wrong, in the caller's language.")


class FieldErrorOut(Schema):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(Schema):
    detail: str = Field(description="What went wrong, in the caller's language.")
    errors: list[FieldErrorOut] = Field(description="One entry per invalid input field.")


def responses(ok_status: int, ok_schema: Any, *, lookup: bool = False) -> dict[int, Any]:
    """The declared responses of one operation: its success plus every error it can answer.

    400 a broken rule or cursor, 401 no or a bad credential, 403 a failed CSRF check or no membership in
    the requested workspace, 404 (operations that look up an id) not found or not visible, 422 invalid input.
    """
    declared: dict[int, Any] = {ok_status: ok_schema, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ValidationErrorOut}
    if lookup:
        declared[404] = ErrorOut
    return declared


class InboxRef(Schema):
    id: int
    name: str
    kind: str


class ContactRef(Schema):
    id: int
    name: str


class IdentitySummaryOut(Schema):
    kind: str
    value: str
    verified: bool


class PageIn(Schema):
    cursor: Cursor | None = Field(None, description="The next_cursor of the previous page; omit for the first.")
    limit: Limit = DEFAULT_LIMIT
