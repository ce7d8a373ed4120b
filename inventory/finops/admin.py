"""Read-only admin of findings and chargeback months (services write them)."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from inventory.finops.models import ChargebackLine, ChargebackMonth, Finding


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = ["kind", "status", "summary", "monthly_waste", "last_seen_at"]
    list_filter = ["kind", "status"]


class ChargebackLineInline(admin.TabularInline):
    model = ChargebackLine
    extra = 0
    can_delete = False
    readonly_fields = [
        "kind",
        "source",
        "business_unit",
        "initiative",
        "allocation",
        "pool",
        "gpu_hours",
        "amount",
    ]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ChargebackMonth)
class ChargebackMonthAdmin(ReadOnlyAdmin):
    list_display = ["month", "status", "policy", "computed_at", "closed_at"]
    inlines = [ChargebackLineInline]
