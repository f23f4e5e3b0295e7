"""URL map: webhooks, REST API, sign-in (allauth), the agent workspace, and the Django admin."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path

from threadline.api.api import api
from threadline.demo import provider
from threadline.demo.views import demo_integration, simulator
from threadline.ingest.views import webhook
from threadline.web.views.attachments import public_attachment
from threadline.widget.views import demo_host_page

# The Django admin signs in through the same page as agents (rate limits and two-factor included).
admin.site.login = login_required(admin.site.login)

urlpatterns = [
    path("webhooks/<slug:kind>/<str:public_id>", webhook, name="webhook"),
    path("api/widget/v1/", include("threadline.widget.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("help/", include("threadline.knowledge.urls")),
    path("demo/integration/<str:public_id>", demo_integration, name="demo-integration"),
    path("forms/", include("threadline.webform.urls")),
    path("media/a/<str:token>/<str:filename>", public_attachment, name="attachment-public"),
]

if settings.THREADLINE_DEMO:
    urlpatterns += [
        path("demo/simulator/", simulator, name="demo-simulator"),
        path("demo/widget-test/", demo_host_page, name="demo-widget-test"),
        path("demo/provider/meta/<path:rest>", provider.meta),
        path("demo/provider/telegram/<str:token>/<str:method>", provider.telegram),
        path("demo/provider/twilio/2010-04-01/Accounts/<str:account>.json", provider.twilio),
        path("demo/provider/twilio/2010-04-01/Accounts/<str:account>/<str:resource>", provider.twilio),
    ]

urlpatterns += [path("", include("threadline.web.urls"))]
