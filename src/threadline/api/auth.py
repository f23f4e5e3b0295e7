"""Who is calling: API-token and session authentication, each resolving the caller's Membership.

Every operation runs with ``request.auth`` set to the caller's active membership (the agent), found by
one of two doors, tried in this order:

- ``Authorization: Bearer tl_…``: a personal API token. A presented but unknown or revoked token is
  refused outright, never "rescued" by a session cookie on the same request.
- The Django session (the agent UI), with Django's CSRF check on unsafe methods (``X-CSRFToken``).

``X-Threadline-Workspace: <id>`` picks the workspace for a user who belongs to several; a token belongs
to one membership, so for a token the header may only confirm that workspace. Also here: ``GET /me``.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import AuthenticationError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from threadline.api.errors import ApiError
from threadline.api.schemas import responses
from threadline.core.models import Membership
from threadline.core.permissions import inbox_ids_visible_to, is_admin
from threadline.core.selectors import membership_for_user
from threadline.core.tokens import api_token_authenticate

WORKSPACE_HEADER = "X-Threadline-Workspace"


def _requested_workspace(request: HttpRequest) -> int | None:
    value = request.headers.get(WORKSPACE_HEADER, "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise ApiError(400, _("The X-Threadline-Workspace header must be a workspace id."))
    return int(value)


def _not_a_member() -> ApiError:
    return ApiError(403, _("You are not an agent of this workspace."))


class TokenAuth(HttpBearer):
    """``Authorization: Bearer tl_…``: a personal API token of one agent."""

    def authenticate(self, request: HttpRequest, token: str) -> Membership:
        membership = api_token_authenticate(token.strip())
        if membership is None:
            raise AuthenticationError
        workspace_id = _requested_workspace(request)
        if workspace_id is not None and workspace_id != membership.workspace_id:
            raise _not_a_member()
        return membership


class SessionAuth(APIKeyCookie):
    """The Django session of a logged-in user; unsafe methods must pass Django's CSRF check."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None  # no session: 401, not a CSRF complaint about a request that proves nothing
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise ApiError(403, _("CSRF check failed: send the X-CSRFToken header with the csrftoken cookie."))
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Membership | None:
        if key is None:
            return None
        membership = membership_for_user(request.user, _requested_workspace(request))
        if membership is None:
            raise _not_a_member()
        return membership


# Tokens first: a client that sends a token means it, whatever cookies its HTTP library keeps.
api_auth = [TokenAuth(), SessionAuth()]


# --- GET /me ---------------------------------------------------------------------------------------------

router = Router(tags=["me"])


class WorkspaceOut(Schema):
    id: int
    name: str
    slug: str
    time_zone: str
    default_language: str


class MeOut(Schema):
    id: int
    user_id: int
    username: str
    display_name: str
    role: str
    languages: list[str]
    is_admin: bool
    workspace: WorkspaceOut
    inbox_ids: list[int]


@router.get("", response=responses(200, MeOut), summary="The calling agent")
def me(request: HttpRequest):
    """The calling agent, their workspace and the inboxes they may see.

    Session callers also receive the ``csrftoken`` cookie their unsafe requests must echo in ``X-CSRFToken``.
    """
    membership: Membership = request.auth
    if "Authorization" not in request.headers:
        get_token(request)
    return {
        "id": membership.pk,
        "user_id": membership.user_id,
        "username": membership.user.get_username(),
        "display_name": str(membership),
        "role": membership.role,
        "languages": membership.languages,
        "is_admin": is_admin(membership),
        "workspace": membership.workspace,
        "inbox_ids": sorted(inbox_ids_visible_to(membership)),
    }
