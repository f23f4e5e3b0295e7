"""The ASGI application: Django for HTTP, Channels for websockets.

Provider webhooks (``/webhooks/…``) go to a Django handler without the browser middleware (sessions,
authentication, CSRF, locale, messages, security headers): they are machine-to-machine calls, authenticated
by their signatures, and under ASGI every synchronous middleware in the chain costs a hand-off between the
event loop and a thread. The handler also runs each request in one hand-off to a small, long-lived thread
pool, where Django's ASGI handler starts a thread per request and crosses between the loop and threads
several times (signals, view, close). Measured: ``docs/performance.md``, scenario 1.
"""

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "threadline.settings")

from channels.auth import AuthMiddlewareStack  # noqa: E402  (Django must be set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core import signals  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.core.exceptions import RequestAborted  # noqa: E402
from django.core.handlers.asgi import ASGIHandler, get_script_prefix  # noqa: E402
from django.core.handlers.base import BaseHandler  # noqa: E402
from django.core.handlers.exception import convert_exception_to_response  # noqa: E402
from django.urls import set_script_prefix  # noqa: E402

django_application = get_asgi_application()


class WebhookHandler(ASGIHandler):
    """Django for provider webhooks: URL resolution and the view, no middleware, one thread hand-off.

    The view runs synchronously in a pool thread from start (``request_started``) to finish (the response
    closed: ``request_finished`` hands the thread's database connection back to the pool); the event loop
    only reads the body and sends the answer. Webhook answers are small and never streamed.
    """

    def __init__(self) -> None:
        BaseHandler.__init__(self)
        self._view_middleware, self._template_response_middleware, self._exception_middleware = [], [], []
        self._middleware_chain = convert_exception_to_response(self._get_response)
        self._threads = ThreadPoolExecutor(settings.THREADLINE_WEBHOOK_THREADS, thread_name_prefix="threadline-webhook")

    async def __call__(self, scope, receive, send):
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        response = await asyncio.get_running_loop().run_in_executor(self._threads, self._respond, scope, body_file)
        await self.send_response(response, send)

    def _respond(self, scope, body_file):
        try:
            set_script_prefix(get_script_prefix(scope))
            signals.request_started.send(sender=self.__class__, scope=scope)
            request, response = self.create_request(scope, body_file)
            if request is not None:
                response = self.get_response(request)
            response._handler_class = self.__class__
            response.close()  # sends request_finished here, in the thread that used the connection
            return response
        finally:
            body_file.close()


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
