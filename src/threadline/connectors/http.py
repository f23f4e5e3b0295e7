"""The one place Threadline makes outbound HTTP calls, so timeouts, errors and retry hints are uniform."""

from __future__ import annotations

import base64
import email.utils
import time
import urllib.parse

import httpx
from django.conf import settings

from threadline.connectors.base import FetchedMedia, SendError


def post(url: str, *, content: bytes, headers: dict[str, str]) -> httpx.Response:
    """POST and translate network failures into SendError (transient: timeouts and connection errors)."""
    try:
        with httpx.Client(timeout=settings.THREADLINE_HTTP_TIMEOUT, follow_redirects=False) as client:
            return client.post(url, content=content, headers=headers)
    except httpx.TimeoutException:
        raise SendError("The receiving server did not answer in time.", transient=True) from None
    except httpx.HTTPError as exc:
        raise SendError(f"Could not reach the receiving server ({type(exc).__name__}).", transient=True) from None


def download(url: str, *, headers: dict[str, str] | None = None, filename: str = "") -> FetchedMedia:
    """GET a media file, refusing anything larger than THREADLINE_MAX_ATTACHMENT_BYTES while streaming."""
    limit = settings.THREADLINE_MAX_ATTACHMENT_BYTES
    try:
        with httpx.Client(timeout=settings.THREADLINE_HTTP_TIMEOUT, follow_redirects=True) as client:
            with client.stream("GET", url, headers=headers or {}) as response:
                raise_for_send_status(response, who="The media server")
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise SendError(f"The file is larger than the limit of {limit} bytes.", transient=False)
                    chunks.append(chunk)
                content_type = response.headers.get("content-type", "application/octet-stream").split(";")[0]
    except httpx.TimeoutException:
        raise SendError("The media server did not answer in time.", transient=True) from None
    except httpx.HTTPError as exc:
        raise SendError(f"Could not reach the media server ({type(exc).__name__}).", transient=True) from None
    return FetchedMedia(content=b"".join(chunks), content_type=content_type, filename=filename or url.rsplit("/", 1)[-1][:100])


async def post_async(url: str, *, content: bytes, headers: dict[str, str]) -> httpx.Response | None:
    """POST from async code (the demo simulator calling our own webhook); None when unreachable."""
    try:
        async with httpx.AsyncClient(timeout=settings.THREADLINE_HTTP_TIMEOUT) as client:
            return await client.post(url, content=content, headers=headers)
    except httpx.HTTPError:
        return None


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Read a Retry-After header given in seconds or as an HTTP date (RFC 9110 §10.2.3)."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def raise_for_send_status(response: httpx.Response, *, who: str) -> None:
    """Turn a non-2xx answer into SendError: 408/425/429/5xx are transient, other 4xx are permanent."""
    status = response.status_code
    if 200 <= status < 300:
        return
    if status in (408, 425, 429) or status >= 500:
        raise SendError(
            f"{who} is temporarily unavailable (HTTP {status}).",
            transient=True,
            retry_after=retry_after_seconds(response),
        )
    if status in (401, 403):
        raise SendError(f"{who} rejected our credentials (HTTP {status}).", transient=False, auth_failed=True)
    raise SendError(f"{who} refused the message (HTTP {status}).", transient=False)


def basic_auth_header(username: str, password: str) -> dict[str, str]:
    """An ``Authorization: Basic …`` header (RFC 7617) for providers that take HTTP Basic auth (Twilio)."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def post_form(
    url: str,
    *,
    fields: list[tuple[str, str]],
    headers: dict[str, str] | None = None,
    timeout_is_transient: bool = True,
) -> httpx.Response:
    """POST ``application/x-www-form-urlencoded`` fields (repeated names allowed), like ``post``.

    ``timeout_is_transient=False`` is for providers without idempotency keys: a timed-out request may have
    been accepted, so it fails for a person to check instead of being retried into a duplicate.
    """
    content = urllib.parse.urlencode(fields).encode("ascii")
    all_headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    try:
        return post(url, content=content, headers=all_headers)
    except SendError as error:
        cause = error.__context__
        # A connect timeout never reached the provider, so retrying it cannot duplicate anything.
        maybe_sent = isinstance(cause, httpx.TimeoutException) and not isinstance(cause, httpx.ConnectTimeout)
        if timeout_is_transient or not maybe_sent:
            raise
        raise SendError(
            "The provider did not answer in time; the message may or may not have been sent. "
            "Check with the customer before sending it again.",
            transient=False,
        ) from None


def get(url: str, *, headers: dict[str, str] | None = None) -> httpx.Response:
    """GET a small API resource (credential checks); network failures become transient SendError."""
    try:
        with httpx.Client(timeout=settings.THREADLINE_HTTP_TIMEOUT, follow_redirects=False) as client:
            return client.get(url, headers=headers or {})
    except httpx.TimeoutException:
        raise SendError("The provider did not answer in time.", transient=True) from None
    except httpx.HTTPError as exc:
        raise SendError(f"Could not reach the provider ({type(exc).__name__}).", transient=True) from None
