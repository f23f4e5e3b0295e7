"""The demo's customer simulator: provider-shaped, signed webhook requests for a customer's message.

Each builder makes the exact request the provider would send (body bytes, headers, signature) for one
customer message, so the simulator exercises the same verify → store → process path as production. The
replies agents send come back through the demo provider stand-in (``demo/provider.py``), which records
them in the demo outbox shown on the simulator page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache

from threadline.connectors.api import signed_headers
from threadline.core.models import Inbox

OUTBOX_SIZE = 50


@dataclass(frozen=True)
class SimulatedRequest:
    url: str
    body: bytes
    headers: dict[str, str]


def _meta_signature(inbox: Inbox, body: bytes) -> dict[str, str]:
    digest = hmac.new(inbox.secrets.get("app_secret", "").encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}


def _meta_json(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode()  # Meta escapes non-ASCII


def _messaging(inbox: Inbox, customer: str, text: str, *, object_name: str, account: str) -> SimulatedRequest:
    now_ms = int(time.time() * 1000)
    event = {"sender": {"id": customer}, "recipient": {"id": account}, "timestamp": now_ms,
             "message": {"mid": f"m_demo_{uuid.uuid4().hex}", "text": text}}
    body = _meta_json({"object": object_name, "entry": [{"id": account, "time": now_ms, "messaging": [event]}]})
    return SimulatedRequest(inbox.webhook_url, body, _meta_signature(inbox, body))


def build_messenger(inbox: Inbox, customer: str, name: str, text: str) -> SimulatedRequest:
    return _messaging(inbox, customer, text, object_name="page", account=str(inbox.config.get("page_id", "")))


def build_instagram(inbox: Inbox, customer: str, name: str, text: str) -> SimulatedRequest:
    account = str(inbox.config.get("instagram_account_id", ""))
    return _messaging(inbox, customer, text, object_name="instagram", account=account)


def build_whatsapp(inbox: Inbox, customer: str, name: str, text: str) -> SimulatedRequest:
    number_id = str(inbox.config.get("phone_number_id", ""))
    wa_id = "".join(ch for ch in customer if ch.isdigit())
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": number_id},
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
        "messages": [{"from": wa_id, "id": f"wamid.DEMO{uuid.uuid4().hex}", "timestamp": str(int(time.time())),
                      "type": "text", "text": {"body": text}}],
    }
    entry = {"id": "demo-waba", "changes": [{"field": "messages", "value": value}]}
    body = _meta_json({"object": "whatsapp_business_account", "entry": [entry]})
    return SimulatedRequest(inbox.webhook_url, body, _meta_signature(inbox, body))


def build_telegram(inbox: Inbox, customer: str, name: str, text: str) -> SimulatedRequest:
    user_id = int("".join(ch for ch in customer if ch.isdigit()) or "1")
    update = {
        "update_id": int(time.time() * 1000) % 2_000_000_000,
        "message": {"message_id": int(time.time()) % 1_000_000, "date": int(time.time()), "text": text,
                    "chat": {"id": user_id, "type": "private", "first_name": name},
                    "from": {"id": user_id, "is_bot": False, "first_name": name}},
    }
    body = json.dumps(update, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json",
               "X-Telegram-Bot-Api-Secret-Token": inbox.secrets.get("secret_token", "")}
    return SimulatedRequest(inbox.webhook_url, body, headers)


def build_sms(inbox: Inbox, customer: str, name: str, text: str) -> SimulatedRequest:
    params = {
        "AccountSid": str(inbox.config.get("account_sid", "")),
        "Body": text,
        "From": customer,
        "MessageSid": f"SM{uuid.uuid4().hex}",
        "NumMedia": "0",
        "To": str(inbox.config.get("from_number", "")),
    }
    signed = inbox.webhook_url + "".join(f"{key}{params[key]}" for key in sorted(params))
    digest = hmac.new(inbox.secrets.get("auth_token", "").encode(), signed.encode(), hashlib.sha1).digest()
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Twilio-Signature": base64.b64encode(digest).decode()}
    return SimulatedRequest(inbox.webhook_url, urlencode(params).encode(), headers)


def build_api(inbox: Inbox, customer: str, name: str, text: str) -> SimulatedRequest:
    payload = {"type": "message", "id": f"demo-{uuid.uuid4().hex}",
               "sent_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "contact": {"id": customer, "name": name}, "text": text}
    body = json.dumps(payload, ensure_ascii=False).encode()
    return SimulatedRequest(inbox.webhook_url, body, signed_headers(inbox.secrets.get("signing_secret", ""), body))


BUILDERS = {
    "messenger": build_messenger,
    "instagram": build_instagram,
    "whatsapp": build_whatsapp,
    "telegram": build_telegram,
    "sms": build_sms,
    "api": build_api,
}


# --- The demo outbox: what the stand-in provider "delivered" to customers --------------------------------


# Messenger and Instagram replies both arrive at the stand-in as "me/messages": one mailbox family.
OUTBOX_FAMILY = {"messenger": "meta", "instagram": "meta"}


def _outbox_key(kind: str, customer: str) -> str:
    family = OUTBOX_FAMILY.get(kind, kind)
    plain = "".join(ch for ch in customer if ch.isalnum())
    digest = hashlib.sha256(f"{family}:{plain}".encode()).hexdigest()[:32]
    return f"threadline:demo:outbox:{digest}"


def outbox_record(kind: str, customer: str, *, direction: str, text: str) -> None:
    key = _outbox_key(kind, customer)
    entries = cache.get(key) or []
    entries.append({"direction": direction, "text": text, "at": time.strftime("%H:%M:%S")})
    cache.set(key, entries[-OUTBOX_SIZE:], 24 * 3600)


def outbox_for(kind: str, customer: str) -> list[dict]:
    return cache.get(_outbox_key(kind, customer)) or []


def demo_enabled() -> bool:
    return bool(getattr(settings, "THREADLINE_DEMO", False))
