"""The ASGI application: Django for HTTP, Channels for websockets."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "threadline.settings")

from channels.auth import AuthMiddlewareStack  # noqa: E402  (Django must be set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

django_application = get_asgi_application()

from threadline.realtime.routing import websocket_urlpatterns  # noqa: E402
from threadline.widget.routing import with_widget  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        # /ws/widget/ is for visitors on customers' sites: it checks their Origin against the inbox itself.
        "websocket": with_widget(AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))),
    }
)
