"""The ASGI application: Django for HTTP, Channels for websockets.

Provider webhooks (``/webhooks/…``) go to a Django handler without the browser middleware (sessions,
authentication, CSRF, locale, messages, security headers): they are machine-to-machine calls, authenticated
by their signatures, and under ASGI every synchronous middleware in the chain costs a hand-off between the
event loop and a thread. Measured: ``docs/performance.md``, scenario 1.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "threadline.settings")

from channels.auth import AuthMiddlewareStack  # noqa: E402  (Django must be set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.core.handlers.exception import convert_exception_to_response  # noqa: E402

django_application = get_asgi_application()


class WebhookHandler(ASGIHandler):
    """Django's ASGI handler with an empty middleware chain: URL resolution, the view, nothing else."""

    def load_middleware(self, is_async=False):
        self._view_middleware, self._template_response_middleware, self._exception_middleware = [], [], []
        self._middleware_chain = convert_exception_to_response(
            self._get_response_async if is_async else self._get_response
        )


webhook_application = WebhookHandler()


async def http_application(scope, receive, send):
    handler = webhook_application if scope["path"].startswith("/webhooks/") else django_application
    await handler(scope, receive, send)


from threadline.realtime.routing import websocket_urlpatterns  # noqa: E402
from threadline.widget.routing import with_widget  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": http_application,
        # /ws/widget/ is for visitors on customers' sites: it checks their Origin against the inbox itself.
        "websocket": with_widget(AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))),
    }
)
