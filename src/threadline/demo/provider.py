"""The demo's stand-in for the providers' send APIs (Graph API, Telegram Bot API, Twilio REST).

Only mounted when the demo runs (``THREADLINE_DEMO``): ``threadline demo`` points the provider base URLs
here, so replies agents send go through the real connectors and come back as provider-shaped answers,
and the simulator page can show the customer's side. Nothing leaves the machine.
"""

from __future__ import annotations

import json
import time
import uuid

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from threadline.demo.selectors import demo_inbox_of_kind
from threadline.demo.simulator import outbox_record


def _json(request: HttpRequest) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@csrf_exempt
def meta(request: HttpRequest, rest: str) -> JsonResponse:
    parts = rest.strip("/").split("/")
    if request.method == "GET":
        return JsonResponse({"id": parts[0], "name": "ShoeShop (demo)", "display_phone_number": "+1 555 000 0000"})
    body = _json(request)
    if parts[-1] != "messages":
        return JsonResponse({"error": {"message": "Unknown demo endpoint", "code": 100}}, status=400)
    if body.get("messaging_product") == "whatsapp":
        text = (body.get("text") or {}).get("body") or f"[template {(body.get('template') or {}).get('name', '')}]"
        outbox_record("whatsapp", str(body.get("to", "")), direction="out", text=text)
        return JsonResponse({"messaging_product": "whatsapp", "contacts": [{"wa_id": body.get("to")}],
                             "messages": [{"id": f"wamid.DEMO{uuid.uuid4().hex}"}]})
    recipient = str((body.get("recipient") or {}).get("id", ""))
    message = body.get("message") or {}
    outbox_record("messenger", recipient, direction="out", text=str(message.get("text") or "[attachment]"))
    return JsonResponse({"recipient_id": recipient, "message_id": f"m_demo_{uuid.uuid4().hex}"})


@csrf_exempt
def telegram(request: HttpRequest, token: str, method: str) -> JsonResponse:
    body = _json(request) or {key: request.POST.get(key) for key in request.POST}
    if method == "getMe":
        return JsonResponse({"ok": True, "result": {"id": 1, "is_bot": True, "username": "shoeshop_demo_bot"}})
    if method == "getWebhookInfo":
        inbox = demo_inbox_of_kind("telegram")
        return JsonResponse({"ok": True, "result": {"url": inbox.webhook_url if inbox else "", "pending_update_count": 0}})
    chat_id = str(body.get("chat_id", ""))
    outbox_record("telegram", chat_id, direction="out", text=str(body.get("text") or body.get("caption") or "[file]"))
    return JsonResponse({"ok": True, "result": {"message_id": int(time.time() * 1000) % 1_000_000_000,
                                                "date": int(time.time()), "chat": {"id": chat_id}}})


@csrf_exempt
def twilio(request: HttpRequest, account: str, resource: str = "") -> JsonResponse:
    if request.method == "GET":
        return JsonResponse({"sid": account, "status": "active", "friendly_name": "ShoeShop (demo)"})
    to = request.POST.get("To", "")
    outbox_record("sms", to.removeprefix("whatsapp:"), direction="out", text=request.POST.get("Body", ""))
    return JsonResponse({"sid": f"SM{uuid.uuid4().hex}", "status": "queued", "to": to}, status=201)
