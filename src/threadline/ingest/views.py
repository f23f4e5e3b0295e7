"""The webhook transport: ``/webhooks/<kind>/<inbox public id>`` for every channel.

Verify on the raw bytes, check the body parses, store it durably, then acknowledge. Nothing is stored
for a request that fails any check, and every failure answers with a clear status and reason.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from threadline.connectors.base import ConnectorError, RawRequest
from threadline.connectors.registry import UnknownChannelKindError, connector_for
from threadline.conversations.delivery import channel_config
from threadline.ingest.selectors import inbox_for_webhook
from threadline.ingest.services import delivery_store

logger = logging.getLogger(__name__)


def _error(status: int, reason: str) -> JsonResponse:
    return JsonResponse({"error": reason}, status=status)


def _as_response(answer) -> HttpResponse:
    return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)


@csrf_exempt
def webhook(request: HttpRequest, kind: str, public_id: str) -> HttpResponse:
    try:
        connector = connector_for(kind)
    except UnknownChannelKindError:
        return _error(404, "Unknown channel kind.")
    inbox = inbox_for_webhook(kind=kind, public_id=public_id)
    if inbox is None:
        return _error(404, "Unknown inbox.")

    limit = settings.THREADLINE_MAX_WEBHOOK_BYTES
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > limit:
        return _error(413, f"The body is larger than the limit of {limit} bytes.")
    body = request.body
    if len(body) > limit:
        return _error(413, f"The body is larger than the limit of {limit} bytes.")

    raw = RawRequest(
        method=request.method or "POST",
        path=request.path,
        query={key: request.GET.get(key, "") for key in request.GET},
        headers={key.lower(): value for key, value in request.headers.items()},
        body=body,
        # The URL the provider called, as configured publicly (behind a proxy the Host header may differ);
        # Twilio signs it.
        url=f"{settings.PUBLIC_URL}{request.get_full_path()}",
    )
    config = channel_config(inbox)
    try:
        if request.method == "GET":
            answer = connector.handshake(raw, config)
            return _as_response(answer) if answer else _error(405, "This channel takes POST requests.")
        if request.method != "POST":
            return _error(405, "This channel takes POST requests.")
        connector.verify(raw, config)
        events = connector.parse(raw, config)
    except ConnectorError as error:
        logger.info("webhook rejected inbox=%s status=%s", inbox.pk, error.http_status)
        return _error(error.http_status, str(error))
    delivery_store(inbox=inbox, raw=raw)
    return _as_response(connector.acknowledge(events))
