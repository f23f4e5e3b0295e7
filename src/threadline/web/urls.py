"""URLs of the agent workspace."""

from django.urls import path

from threadline.web.views import account, contacts, conversation, inbox, routing, settings

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
    path("settings/labels/", settings.labels, name="settings_labels"),
    path("settings/canned-responses/", settings.canned_responses, name="settings_canned"),
    path("settings/canned-responses/<int:pk>/", settings.canned_response_edit, name="settings_canned_edit"),
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
