"""URL map: webhooks, REST API, admin."""

from django.contrib import admin
from django.urls import path

from threadline.api.api import api
from threadline.demo.views import demo_integration
from threadline.ingest.views import webhook

urlpatterns = [
    path("webhooks/<slug:kind>/<str:public_id>", webhook, name="webhook"),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("demo/integration/<str:public_id>", demo_integration, name="demo-integration"),
]
