"""The public web form transport: ``/forms/<inbox public id>`` (standalone or ``?embed=1`` in an iframe) and
``/forms/<inbox public id>/embed.js`` (the snippet a site pastes, which inserts and sizes that iframe).

No sign-in and no session: the signed timing token is the form's anti-forgery token, so the POST is exempt
from Django's cookie-based CSRF check, which cannot work inside a third-party iframe (browsers do not send
SameSite cookies there). The page may be framed by the origins listed in the form's settings (any origin
when none are listed): the ``frame-ancestors`` directive says so, replacing X-Frame-Options.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from threadline.ingest.selectors import inbox_for_webhook
from threadline.webform.services import webform_blank, webform_spec, webform_submit

KIND = "webform"


def _language(request: HttpRequest) -> str:
    supported = {code for code, _ in settings.LANGUAGES}
    asked = (request.GET.get("lang") or request.POST.get("lang") or "").lower()
    if asked in supported:
        return asked
    return translation.get_language_from_request(request) or settings.LANGUAGE_CODE


def _client_ip(request: HttpRequest) -> str:
    # Behind a proxy, REMOTE_ADDR is the proxy; operators set THREADLINE_TRUST_X_FORWARDED_FOR then.
    if getattr(settings, "THREADLINE_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")


def _frame_policy(response: HttpResponse, origins: tuple[str, ...]) -> HttpResponse:
    ancestors = " ".join(("'self'", *origins)) if origins else "*"
    response["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
    return response


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def form_page(request: HttpRequest, public_id: str) -> HttpResponse:
    inbox = inbox_for_webhook(kind=KIND, public_id=public_id)
    if inbox is None:
        raise Http404
    language = _language(request)
    spec = webform_spec(inbox)
    embedded = request.GET.get("embed") == "1"
    with translation.override(language):
        context = {"inbox": inbox, "spec": spec, "embedded": embedded, "language": language,
                   "bidi": translation.get_language_bidi()}
        if request.method == "GET":
            context["form"] = webform_blank(inbox=inbox)
            return _frame_policy(render(request, "webform/form.html", context), spec.allowed_origins)
        result = webform_submit(
            inbox=inbox, data=request.POST, files=request.FILES, client_ip=_client_ip(request), language=language
        )
        context.update(result=result, form=result.form, thanks=result.accepted)
        response = render(request, "webform/form.html", context, status=result.status)
    return _frame_policy(response, spec.allowed_origins)


@require_GET
def embed_script(request: HttpRequest, public_id: str) -> HttpResponse:
    """The script a site pastes: it puts the form's iframe where the script tag is and keeps it sized."""
    inbox = inbox_for_webhook(kind=KIND, public_id=public_id)
    if inbox is None:
        raise Http404
    src = f"{settings.PUBLIC_URL}/forms/{inbox.public_id}?embed=1"
    script = _EMBED_JS.replace("__SRC__", json.dumps(src)).replace("__ORIGIN__", json.dumps(settings.PUBLIC_URL))
    response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response


# Plain ES5-safe script, no dependencies. The iframe keeps the form on our origin (its own cookies-free
# POST, no CORS), and only height messages from our origin are honoured.
_EMBED_JS = """(function () {
  var script = document.currentScript;
  var lang = (script && script.getAttribute("data-lang")) || document.documentElement.lang || "";
  var frame = document.createElement("iframe");
  frame.src = __SRC__ + (lang ? "&lang=" + encodeURIComponent(lang.slice(0, 2)) : "");
  frame.title = (script && script.getAttribute("data-title")) || "Contact form";
  frame.style.cssText = "width:100%;max-width:640px;border:0;height:720px;display:block";
  frame.setAttribute("loading", "lazy");
  window.addEventListener("message", function (event) {
    if (event.origin !== __ORIGIN__ || event.source !== frame.contentWindow) return;
    var data = event.data || {};
    if (data.type === "threadline-form-height" && data.height > 0) frame.style.height = Math.ceil(data.height) + "px";
  });
  script.parentNode.insertBefore(frame, script);
})();
"""
