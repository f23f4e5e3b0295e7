"""The demo's own pages: the customer simulator, and a stand-in for a custom integration.

The stand-in integration receives the API inbox's signed outbound messages.

It checks the signature exactly as a real integration must and answers with an id, so replies in the
demo reach "sent". It answers only for inboxes the demo created (``config["demo"]``).
"""

from __future__ import annotations

import uuid

from urllib.parse import urlencode

from asgiref.sync import sync_to_async
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from threadline.connectors import http
from threadline.connectors.base import RawRequest, VerificationError
from threadline.connectors.registry import connector_for
from threadline.conversations.delivery import channel_config
from threadline.demo.selectors import demo_inboxes
from threadline.demo.simulator import BUILDERS, demo_enabled, outbox_for, outbox_record
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


DEFAULT_CUSTOMERS = {
    "messenger": "demo-psid-1001",
    "instagram": "demo-igsid-2002",
    "whatsapp": "+393471234567",
    "telegram": "7001",
    "sms": "+4915112345678",
    "api": "cust-demo",
}


async def simulator(request: HttpRequest) -> HttpResponse:
    """Write as a customer on any demo channel; the message goes through the provider's signed webhook path."""
    if not demo_enabled():
        raise Http404
    inboxes = [inbox for inbox in await sync_to_async(demo_inboxes)() if inbox.kind in BUILDERS]
    if not inboxes:
        raise Http404
    source = request.POST if request.method == "POST" else request.GET
    chosen = next((i for i in inboxes if str(i.pk) == source.get("inbox")), inboxes[0])
    customer = (source.get("customer") or DEFAULT_CUSTOMERS.get(chosen.kind, "demo")).strip()[:64]
    name = (source.get("name") or "Anna Müller").strip()[:100]
    error = ""
    if request.method == "POST" and source.get("text", "").strip():
        text = source["text"].strip()[:2000]
        simulated = BUILDERS[chosen.kind](chosen, customer, name, text)
        response = await http.post_async(simulated.url, content=simulated.body, headers=simulated.headers)
        if response is not None and response.status_code < 300:
            outbox_record(chosen.kind, customer, direction="in", text=text)
            query = urlencode({"inbox": chosen.pk, "customer": customer, "name": name})
            return redirect(f"{request.path}?{query}")
        error = _("The webhook refused the message (HTTP %(status)s).") % {
            "status": response.status_code if response is not None else "—"
        }
    context = {
        "inboxes": inboxes, "chosen": chosen, "customer": customer, "name": name, "error": error,
        "thread": outbox_for(chosen.kind, customer),
    }
    return await sync_to_async(render)(request, "demo/simulator.html", context)
