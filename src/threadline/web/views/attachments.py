"""Stored attachments for agents: the one permission-checked URL the timeline and the screen pop use.

Files live in private storage (``MEDIA_ROOT`` is not served): an agent gets a file only through a
conversation they may see; anyone else gets 404, so existence does not leak. Only plain raster images are
shown inline; everything else (SVG and HTML included) is a download, and the response forbids scripts.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from threadline.conversations.attachments import attachment_from_public_token
from threadline.conversations.models import Attachment
from threadline.conversations.selectors import attachment_get_for
from threadline.web.access import agent_required

INLINE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
PUBLIC_CSP = "default-src 'none'; img-src 'self'; sandbox"


@agent_required
@require_GET
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    try:
        stored = attachment_get_for(request.membership, pk)
    except Attachment.DoesNotExist:
        raise Http404 from None
    inline = stored.content_type in INLINE_TYPES
    try:
        handle = stored.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=stored.filename or f"attachment-{stored.pk}",
        content_type=stored.content_type if inline else "application/octet-stream",
    )
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_GET
def public_attachment(request: HttpRequest, token: str, filename: str) -> FileResponse:
    """The signed, expiring link providers fetch outbound media through (conversations.attachments).

    Anything wrong with the token (forged, altered, expired, unknown file) is the same 404.
    """
    stored = attachment_from_public_token(token)
    if stored is None:
        raise Http404
    inline = stored.content_type in INLINE_TYPES
    try:
        handle = stored.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=stored.filename or f"attachment-{stored.pk}",
        content_type=stored.content_type if inline else "application/octet-stream",
    )
    response["Content-Security-Policy"] = PUBLIC_CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    response["Referrer-Policy"] = "no-referrer"
    return response
