"""How exceptions become HTTP answers: one ``{"detail": ...}`` body for every error, translated.

Lookups of things outside the caller's workspace or inboxes raise ``DoesNotExist`` (or
``AccessDeniedError``) and answer 404, so a caller cannot tell "not yours" from "not there".
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from threadline.api.pagination import InvalidCursorError
from threadline.conversations.services import ConversationError
from threadline.core.permissions import AccessDeniedError


class ApiError(HttpError):
    """An error the API answers with its status and a translated message."""


def install_error_handlers(api: NinjaAPI) -> None:
    def detail(request: HttpRequest, status: int, message: str) -> HttpResponse:
        return api.create_response(request, {"detail": message}, status=status)

    def unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
        response = detail(request, 401, _("Authentication required: log in, or send an API token."))
        response["WWW-Authenticate"] = 'Bearer realm="threadline"'
        return response

    def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return detail(request, 404, _("Not found."))

    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if not isinstance(exc, ApiError) and exc.status_code == 400:
            # django-ninja's own, untranslated 400: the body could not be parsed.
            return detail(request, 400, _("The request body is not valid JSON."))
        return detail(request, exc.status_code, str(exc))

    def rule_broken(request: HttpRequest, exc: Exception) -> HttpResponse:
        return detail(request, 400, str(exc))

    def bad_cursor(request: HttpRequest, exc: Exception) -> HttpResponse:
        return detail(request, 400, _("The cursor is not valid: start again without one."))

    def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = [
            {"loc": list(error.get("loc", ())), "msg": str(error.get("msg", "")), "type": str(error.get("type", ""))}
            for error in exc.errors
        ]
        body = {"detail": _("The request is not valid."), "errors": errors}
        return api.create_response(request, body, status=422)

    api.add_exception_handler(AuthenticationError, unauthenticated)
    api.add_exception_handler(HttpError, http_error)
    api.add_exception_handler(ValidationError, invalid)
    api.add_exception_handler(ConversationError, rule_broken)
    api.add_exception_handler(InvalidCursorError, bad_cursor)
    api.add_exception_handler(ObjectDoesNotExist, not_found)
    api.add_exception_handler(AccessDeniedError, not_found)
    api.add_exception_handler(Http404, not_found)
