"""Public URLs of the web form channel (mounted under /forms/)."""

from django.urls import path

from threadline.webform import views

app_name = "webform"

urlpatterns = [
    path("<str:public_id>", views.form_page, name="form"),
    path("<str:public_id>/embed.js", views.embed_script, name="embed"),
]
