from django.contrib import admin

from threadline.contacts.models import Contact, Identity


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0
    fields = ("kind", "value", "inbox", "verified", "source", "last_seen_at")
    readonly_fields = ("last_seen_at",)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("__str__", "workspace", "language", "created_at")
    search_fields = ("name", "identities__value")
    inlines = [IdentityInline]
