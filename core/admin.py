from django.contrib import admin

from .models import AuditEvent, BusinessUnit, Membership, Notification


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(BusinessUnit)
class BusinessUnitAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "parent", "head", "cost_centre"]
    search_fields = ["name", "code"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "business_unit", "role"]
    list_filter = ["role", "business_unit"]
    search_fields = ["user__username", "business_unit__code"]
    list_select_related = ["user", "business_unit"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: audit rows are append-only and written by services only."""

    list_display = ["sequence", "created_at", "actor", "action", "object_type", "object_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "object_repr", "action"]
    list_select_related = ["actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["recipient", "subject", "created_at", "read_at", "emailed_at"]
    list_select_related = ["recipient"]
    readonly_fields = ["recipient", "subject", "body", "url", "created_at", "emailed_at"]
