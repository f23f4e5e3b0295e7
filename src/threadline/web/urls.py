"""URLs of the agent workspace."""

from django.urls import path

from threadline.web.views import account, contacts, conversation, identity, inbox, routing, settings
from threadline.web.views import bot_settings
from threadline.web.views import widget_settings
from threadline.web.views import call_link, webform_settings
from threadline.web.views import attachments
from threadline.web.views import knowledge, search

app_name = "web"

urlpatterns = [
    path("", account.home, name="home"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("conversations/<int:pk>/", conversation.conversation, name="conversation"),
    path("conversations/<int:pk>/timeline/", conversation.timeline, name="conversation_timeline"),
    path("conversations/<int:pk>/send/", conversation.send, name="conversation_send"),
    path("conversations/<int:pk>/assign/", conversation.assign, name="conversation_assign"),
    path("conversations/<int:pk>/status/", conversation.status, name="conversation_status"),
    path("conversations/<int:pk>/priority/", conversation.priority, name="conversation_priority"),
    path("conversations/<int:pk>/labels/", conversation.labels, name="conversation_labels"),
    path("conversations/<int:pk>/verify/", identity.verify, name="conversation_verify"),
    path("conversations/<int:pk>/merge/", identity.merge, name="conversation_merge"),
    path("conversations/<int:pk>/split/", identity.split, name="conversation_split"),
    path("conversations/<int:pk>/merges/<int:merge_id>/undo/", identity.unmerge, name="conversation_unmerge"),
    path("contacts/", contacts.contact_list, name="contacts"),
    path("contacts/<int:pk>/", contacts.contact_detail, name="contact"),
    path("contacts/<int:pk>/merge/", contacts.contact_merge_view, name="contact_merge"),
    path("contacts/<int:pk>/conversations/new/", contacts.contact_open_conversation, name="contact_open_conversation"),
    path("contacts/<int:pk>/export/", contacts.contact_export_view, name="contact_export"),
    path("contacts/<int:pk>/erase/", contacts.contact_erase_view, name="contact_erase"),
    path("contacts/<int:pk>/merges/<int:merge_id>/undo/", contacts.contact_unmerge_view, name="contact_unmerge"),
    path(
        "contacts/<int:pk>/suggestions/<int:suggestion_id>/dismiss/",
        contacts.merge_suggestion_dismiss_view,
        name="merge_suggestion_dismiss",
    ),
    path("search/", search.search, name="search"),
    path("knowledge/", knowledge.article_list, name="knowledge"),
    path("knowledge/new/", knowledge.article_new, name="knowledge_new"),
    path("knowledge/<int:pk>/", knowledge.article_edit, name="knowledge_article"),
    path("knowledge/<int:pk>/delete/", knowledge.article_delete, name="knowledge_delete"),
    path("knowledge/<int:pk>/images/", knowledge.image_upload, name="knowledge_image"),
    path("knowledge/categories/", knowledge.categories, name="knowledge_categories"),
    path("knowledge/categories/<int:pk>/", knowledge.category_edit, name="knowledge_category"),
    path("knowledge/help-center/", knowledge.help_center_settings, name="knowledge_help_center"),
    path("conversations/<int:conversation_id>/suggestions/", knowledge.suggestions, name="knowledge_suggestions"),
    path("me/", account.preferences, name="preferences"),
    path("me/presence/", account.presence, name="presence"),
    path("me/notifications/", account.notifications, name="notifications"),
    path("settings/", settings.workspace, name="settings_workspace"),
    path("settings/agents/", settings.agents, name="settings_agents"),
    path("settings/agents/<int:pk>/", settings.agent_edit, name="settings_agent"),
    path("settings/teams/", settings.teams, name="settings_teams"),
    path("settings/teams/<int:pk>/", settings.team_edit, name="settings_team"),
    path("settings/inboxes/", settings.inboxes, name="settings_inboxes"),
    path("settings/inboxes/new/", settings.inbox_new, name="settings_inbox_new"),
    path("settings/inboxes/<int:pk>/", settings.inbox_edit, name="settings_inbox"),
    path("settings/inboxes/<int:pk>/webform/", webform_settings.webform_settings, name="settings_webform"),
    path("calls/<int:pk>/link/", call_link.call_link, name="call_link"),
    path("attachments/<int:pk>/", attachments.attachment, name="attachment"),
    path("settings/inboxes/<int:pk>/bot/", bot_settings.bot_settings, name="settings_inbox_bot"),
    path("conversations/<int:pk>/bot/reset/", bot_settings.bot_reset, name="conversation_bot_reset"),
    path("settings/inboxes/<int:pk>/widget/", widget_settings.widget_settings_page, name="settings_widget"),
    path("settings/labels/", settings.labels, name="settings_labels"),
    path("settings/canned-responses/", settings.canned_responses, name="settings_canned"),
    path("settings/canned-responses/<int:pk>/", settings.canned_response_edit, name="settings_canned_edit"),
    path("settings/conversations/", identity.threading_settings, name="settings_threading"),
    path("settings/routing/", routing.assignment, name="settings_routing"),
    path("settings/routing/hours/", routing.hours, name="settings_routing_hours"),
    path("settings/routing/hours/<str:owner_kind>/<int:pk>/", routing.hours_edit, name="settings_routing_hours_edit"),
    path("settings/routing/rules/", routing.rules, name="settings_routing_rules"),
    path("settings/routing/rules/<int:pk>/", routing.rule_edit, name="settings_routing_rule"),
    path("settings/routing/rules/<int:pk>/delete/", routing.rule_delete, name="settings_routing_rule_delete"),
    path("settings/routing/sla/", routing.sla_policies, name="settings_routing_sla"),
    path("settings/routing/sla/<int:pk>/", routing.sla_policy_edit, name="settings_routing_sla_edit"),
    path("settings/routing/sla/<int:pk>/delete/", routing.sla_policy_delete, name="settings_routing_sla_delete"),
    path("csat/<str:token>/", routing.csat, name="csat"),
]
