"""The widget's HTTP API (``/api/widget/v1/<inbox public id>/…``): thin JSON views over the widget services.

Called cross-origin from customers' sites: every answer carries CORS headers for an allowed ``Origin``
only (the inbox's allowed domains), authentication is the signed session token in ``X-TL-Session``
(never a cookie of ours), so CSRF does not apply. Errors are ``{"error": "…"}`` with a status.
"""

from __future__ import annotations

import html
import json
from functools import wraps

from django.conf import settings
from django.http import FileResponse, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import strip_tags
from django.views.decorators.csrf import csrf_exempt

from threadline.knowledge.models import LOCALES
from threadline.knowledge.selectors import HelpCenterNotFound, site_get
from threadline.knowledge.suggestions import article_suggestions
from threadline.widget import selectors, services
from threadline.widget.config import choose_language, origin_allowed, widget_settings
from threadline.widget.i18n import widget_strings
from threadline.widget.services import WidgetError

MAX_JSON_BYTES = 64 * 1024
PUBLIC_SETTINGS = ("launcher_text", "greeting", "color", "position", "prechat_enabled", "prechat_fields",
                   "offline_message", "max_attachment_bytes", "attachment_types")


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Headers"] = "content-type, x-tl-session"
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin"
    response["Cache-Control"] = "no-store"
    return response


def widget_endpoint(view):
    """Find the inbox, refuse a disallowed Origin, answer preflights, map WidgetError, add CORS headers."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request, public_id: str, *args, **kwargs):
        inbox = selectors.widget_inbox_get(public_id)
        if inbox is None:
            return _cors(JsonResponse({"error": "not found"}, status=404), "")
        origin = request.headers.get("Origin", "")
        allowed = list(widget_settings(inbox.config)["allowed_domains"])
        if allowed and not origin_allowed(origin, allowed):
            return JsonResponse({"error": "origin not allowed"}, status=403, headers={"Vary": "Origin"})
        if request.method == "OPTIONS":
            return _cors(HttpResponse(status=204), origin)
        try:
            response = view(request, inbox, *args, **kwargs)
        except WidgetError as error:
            response = JsonResponse({"error": str(error)}, status=error.status)
        return _cors(response, origin)

    return wrapper


def _ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _json(request) -> dict:
    if len(request.body) > MAX_JSON_BYTES:
        raise WidgetError("Request too large.", status=413)
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise WidgetError("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise WidgetError("The body must be a JSON object.")
    return data


def _session(request, inbox):
    visitor, _payload = services.session_read(inbox=inbox, token=request.headers.get("X-TL-Session", ""))
    services.rate_limit_hit("request_visitor", visitor.key)
    return visitor


def _str(data: dict, key: str, limit: int = 500) -> str:
    value = data.get(key, "")
    return value[:limit] if isinstance(value, str) else ""


@widget_endpoint
def widget_config(request, inbox):
    """GET: what the widget shows (settings, strings in the visitor's language, whether we are online)."""
    config = widget_settings(inbox.config)
    language = choose_language(request.GET.get("lang", "") or request.headers.get("Accept-Language", ""),
                               str(config.get("language") or ""))
    return JsonResponse({
        "inbox": inbox.public_id,
        "name": inbox.name,
        "language": language,
        "settings": {key: config[key] for key in PUBLIC_SETTINGS},
        "strings": widget_strings(language),
        "availability": selectors.inbox_availability(inbox, timezone.now()),
        "has_proactive": bool(config["proactive"]),
    })


@widget_endpoint
def widget_session(request, inbox):
    """POST {session?, language?, page_url?}: resume or start a visitor; answers a fresh token + history."""
    if request.method != "POST":
        return JsonResponse({"error": "method not allowed"}, status=405)
    data = _json(request)
    session = services.visitor_session_start(inbox=inbox, token=_str(data, "session", 2000), language=_str(data, "language", 8),
                                             page_url=_str(data, "page_url"), ip=_ip(request))
    visitor = session.visitor
    return JsonResponse({
        "session": session.token,
        "identified": bool(visitor.identifier),
        "email": visitor.email,
        "prechat_done": bool(visitor.prechat) or bool(visitor.identifier),
        "messages": selectors.visitor_messages(visitor),
    })


@widget_endpoint
def widget_identify(request, inbox):
    """POST {identifier, identifier_hash, email?, name?}: verify a logged-in user (403 when forged)."""
    if request.method != "POST":
        return JsonResponse({"error": "method not allowed"}, status=405)
    visitor = _session(request, inbox)
    data = _json(request)
    session = services.visitor_identify(visitor=visitor, identifier=_str(data, "identifier", 255),
                                        identifier_hash=_str(data, "identifier_hash", 128),
                                        email=_str(data, "email", 320), name=_str(data, "name", 200))
    return JsonResponse({"session": session.token, "identified": True,
                         "messages": selectors.visitor_messages(session.visitor)})


@widget_endpoint
def widget_reset(request, inbox):
    """POST: the host site logged its user out; a new anonymous session."""
    if request.method != "POST":
        return JsonResponse({"error": "method not allowed"}, status=405)
    session = services.visitor_session_start(inbox=inbox, ip=_ip(request))
    return JsonResponse({"session": session.token, "identified": False, "messages": []})


@widget_endpoint
def widget_prechat(request, inbox):
    """POST {answers: {field: value}}: the pre-chat form."""
    if request.method != "POST":
        return JsonResponse({"error": "method not allowed"}, status=405)
    visitor = _session(request, inbox)
    answers = _json(request).get("answers")
    services.visitor_prechat(visitor=visitor, answers=answers if isinstance(answers, dict) else {})
    return JsonResponse({"ok": True})


@widget_endpoint
def widget_email(request, inbox):
    """POST {email}: the address to reply to while nobody is online."""
    if request.method != "POST":
        return JsonResponse({"error": "method not allowed"}, status=405)
    visitor = _session(request, inbox)
    services.visitor_collect_email(visitor=visitor, email=_str(_json(request), "email", 320))
    return JsonResponse({"ok": True})


@widget_endpoint
def widget_messages(request, inbox):
    """GET ?after=<id>: the visitor's messages. POST (JSON or multipart with ``file``): send one."""
    visitor = _session(request, inbox)
    if request.method == "GET":
        after = request.GET.get("after", "0")
        return JsonResponse({"messages": selectors.visitor_messages(visitor, after=int(after) if after.isdigit() else 0)})
    if request.method != "POST":
        return JsonResponse({"error": "method not allowed"}, status=405)
    if request.content_type == "multipart/form-data":
        data, upload = request.POST, request.FILES.get("file")
        if upload is not None and upload.size > settings.THREADLINE_MAX_ATTACHMENT_BYTES:
            raise WidgetError("This file is too large.", status=413)
        file = (upload.name, upload.content_type or "", upload.read()) if upload is not None else None
    else:
        data, file = _json(request), None
    message, created = services.widget_message_send(
        visitor=visitor, token=request.headers.get("X-TL-Session", ""), client_id=str(data.get("client_id", ""))[:80],
        text=str(data.get("text", ""))[:6000], page_url=str(data.get("page_url", ""))[:500], upload=file, ip=_ip(request),
    )
    return JsonResponse({"message": selectors.widget_message_payload(message), "created": created},
                        status=201 if created else 200)


@widget_endpoint
def widget_read(request, inbox):
    """POST {message_id}: everything up to this message was seen."""
    if request.method != "POST":
        return JsonResponse({"error": "method not allowed"}, status=405)
    visitor = _session(request, inbox)
    message_id = _json(request).get("message_id")
    if not isinstance(message_id, int):
        raise WidgetError("'message_id' must be an integer.")
    return JsonResponse({"moved": services.visitor_mark_read(visitor=visitor, message_id=message_id)})


@widget_endpoint
def widget_proactive(request, inbox):
    """POST {page_url, seconds_on_page}: a proactive invitation to show now, within its frequency caps."""
    if request.method != "POST":
        return JsonResponse({"error": "method not allowed"}, status=405)
    visitor = _session(request, inbox)
    data = _json(request)
    seconds = data.get("seconds_on_page", 0)
    campaign = services.visitor_proactive_check(visitor=visitor, page_url=_str(data, "page_url"),
                                                seconds_on_page=float(seconds) if isinstance(seconds, (int, float)) else 0)
    return JsonResponse({"campaign": campaign})


SUGGESTION_LIMIT = 4
SUGGESTION_QUERY_CHARS = 200


@widget_endpoint
def widget_suggestions(request, inbox):
    """GET ?lang=&q=: public help-center articles to offer before the chat starts — what readers open most
    in the visitor's language, or what matches the question being typed. Empty when the help center is off."""
    visitor = _session(request, inbox)
    try:
        site = site_get(inbox.workspace.slug)
    except HelpCenterNotFound:
        return JsonResponse({"items": []})
    query = " ".join(request.GET.get("q", "").split())[:SUGGESTION_QUERY_CHARS]
    language = next((code for code in (request.GET.get("lang", ""), visitor.language) if code in LOCALES), "")
    found = article_suggestions(workspace_id=inbox.workspace_id, locale=language, query=query, limit=SUGGESTION_LIMIT)
    if not found and not query and site.center.default_locale != language:
        found = article_suggestions(workspace_id=inbox.workspace_id, locale=site.center.default_locale, limit=SUGGESTION_LIMIT)
    items = [{"article_id": s.article_id, "locale": s.locale, "title": s.title, "url": s.url,
              "snippet": html.unescape(strip_tags(s.snippet_html))} for s in found if s.url]
    return JsonResponse({"items": items, "query": query})


@widget_endpoint
def widget_file(request, inbox, attachment_id: int):
    """GET (``X-TL-Session``): an attachment of one of the visitor's own conversations. The widget fetches
    it and shows a blob, so the session never appears in a URL."""
    visitor = _session(request, inbox)
    attachment = selectors.visitor_attachment_get(visitor, attachment_id)
    if attachment is None or not attachment.file:
        return JsonResponse({"error": "not found"}, status=404)
    inline = attachment.content_type.startswith("image/") and attachment.content_type != "image/svg+xml"
    response = FileResponse(attachment.file.open("rb"), as_attachment=not inline, filename=attachment.filename or "file",
                            content_type=attachment.content_type if inline else "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


def demo_host_page(request):
    """The demo's host page: a plain page that embeds the widget with the one-line snippet."""
    from threadline.widget.demo import demo_inbox_public_id

    return render(request, "widget/host_page.html", {"public_id": demo_inbox_public_id(), "base": ""})
