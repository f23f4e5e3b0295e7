"""Per-request agent context: ``request.membership`` and the agent's chosen interface language."""

from __future__ import annotations

from django.utils import translation

from threadline.core.selectors import membership_for_user


class AgentMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            workspace = request.session.get("workspace_id")
            request.membership = membership_for_user(user, workspace)
            language = request.membership.ui_language if request.membership else ""
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)
