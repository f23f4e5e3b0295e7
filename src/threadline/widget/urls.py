"""URL routes of the widget API, mounted at ``/api/widget/v1/``."""

from django.urls import path

from threadline.widget import views

urlpatterns = [
    path("<str:public_id>/config", views.widget_config, name="widget-config"),
    path("<str:public_id>/session", views.widget_session, name="widget-session"),
    path("<str:public_id>/identify", views.widget_identify, name="widget-identify"),
    path("<str:public_id>/reset", views.widget_reset, name="widget-reset"),
    path("<str:public_id>/prechat", views.widget_prechat, name="widget-prechat"),
    path("<str:public_id>/email", views.widget_email, name="widget-email"),
    path("<str:public_id>/messages", views.widget_messages, name="widget-messages"),
    path("<str:public_id>/read", views.widget_read, name="widget-read"),
    path("<str:public_id>/proactive", views.widget_proactive, name="widget-proactive"),
    path("<str:public_id>/suggestions", views.widget_suggestions, name="widget-suggestions"),
    path("<str:public_id>/files/<int:attachment_id>", views.widget_file, name="widget-file"),
]
