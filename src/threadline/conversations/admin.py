from django.contrib import admin

from threadline.conversations.models import Conversation, Event, Message


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ("provider_sent_at", "direction", "author_kind", "inbox", "text", "delivery_status")
    readonly_fields = fields
    can_delete = False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("__str__", "contact", "inbox", "status", "assignee", "last_activity_at")
    list_filter = ("status", "inbox")
    inlines = [MessageInline]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "conversation", "actor")
    list_filter = ("kind",)

    def has_change_permission(self, request, obj=None):
        return False  # the event log is append-only

    def has_delete_permission(self, request, obj=None):
        return False
