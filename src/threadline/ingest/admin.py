from django.contrib import admin

from threadline.ingest.models import RawDelivery


@admin.register(RawDelivery)
class RawDeliveryAdmin(admin.ModelAdmin):
    list_display = ("pk", "inbox", "state", "attempts", "received_at", "processed_at", "last_error")
    list_filter = ("state",)
    exclude = ("body",)
