"""The REST API (django-ninja): routers per resource, OpenAPI schema at /api/openapi.json, docs at /api/docs.

Every operation needs an agent: an API token (``Authorization: Bearer tl_…``) or the Django session with
CSRF (see ``threadline.api.auth``). Routers are thin: input schema → one selector or service → output
schema; the queries live in the apps' ``selectors`` modules and the changes in their ``services``.
"""

import datetime as dt
from typing import Any

from ninja import NinjaAPI
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder

from threadline.api import auth, contacts, conversations, inboxes
from threadline.api.errors import install_error_handlers


class _ExactTimeEncoder(NinjaJSONEncoder):
    """Datetimes to the microsecond, like the realtime payloads: Django's encoder cuts them to milliseconds,
    and a time read from the API must equal the same time pushed over the socket."""

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime) and o.tzinfo is not None:
            return o.isoformat().replace("+00:00", "Z")
        return super().default(o)


class _Renderer(JSONRenderer):
    encoder_class = _ExactTimeEncoder


api = NinjaAPI(
    title="Threadline API",
    version="1",
    description=(
        "The conversation core of Threadline. Authenticate with a personal API token "
        "(`Authorization: Bearer tl_…`) or a browser session (unsafe methods need `X-CSRFToken`). "
        "An agent in several workspaces picks one with `X-Threadline-Workspace: <id>`. "
        "Lists are cursor-paginated: pass `next_cursor` back as `cursor`. Errors carry a `detail` message."
    ),
    urls_namespace="api",
    auth=auth.api_auth,
    renderer=_Renderer(),
)
install_error_handlers(api)

api.add_router("/me", auth.router)
api.add_router("/conversations", conversations.router)
api.add_router("/contacts", contacts.router)
api.add_router("/inboxes", inboxes.router)
