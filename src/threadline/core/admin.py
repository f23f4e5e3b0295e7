"""Django admin for superusers (agents never need it). Secrets are never shown."""

from django.contrib import admin

from threadline.core.models import ApiToken, Inbox, Membership, Team, Workspace


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "time_zone", "created_at")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("__str__", "workspace", "role", "presence", "capacity")
    list_filter = ("workspace", "role", "presence")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "workspace")


@admin.register(Inbox)
class InboxAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "workspace", "state", "health", "public_id")
    list_filter = ("kind", "state", "health")
    exclude = ("secrets",)
    readonly_fields = ("public_id",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "membership", "created_at", "last_used_at", "revoked_at")
    exclude = ("token_hash",)
