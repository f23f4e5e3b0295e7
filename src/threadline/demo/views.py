"""The demo's stand-in for a custom integration: it receives the API inbox's signed outbound messages.

It checks the signature exactly as a real integration must and answers with an id, so replies in the
demo reach "sent". It answers only for inboxes the demo created (``config["demo"]``).
"""

from __future__ import annotations

import uuid

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from threadline.connectors.base import RawRequest, VerificationError
from threadline.connectors.registry import connector_for
from threadline.conversations.delivery import channel_config
from threadline.ingest.selectors import inbox_for_webhook


@csrf_exempt
@require_POST
def demo_integration(request: HttpRequest, public_id: str) -> JsonResponse:
    inbox = inbox_for_webhook(kind="api", public_id=public_id)
    if inbox is None or inbox.config.get("demo") is not True:
        return JsonResponse({"error": "Unknown demo inbox."}, status=404)
    raw = RawRequest(
        method="POST",
        path=request.path,
        query={},
        headers={k.lower(): v for k, v in request.headers.items()},
        body=request.body,
    )
    try:
        connector_for("api").verify(raw, channel_config(inbox))
    except VerificationError as error:
        return JsonResponse({"error": str(error)}, status=401)
    return JsonResponse({"id": f"demo-{uuid.uuid4().hex[:12]}"})
