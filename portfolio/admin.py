from django.contrib import admin

from .models import Deployment, Initiative, StageChange


@admin.register(Initiative)
class InitiativeAdmin(admin.ModelAdmin):
    """Read-mostly: changes that matter go through the portfolio services and the web UI."""

    list_display = ["reference", "title", "business_unit", "stage", "accountable_owner"]
    list_filter = ["stage", "business_unit", "ai_type"]
    search_fields = ["reference", "title"]
    list_select_related = ["business_unit", "accountable_owner"]
    readonly_fields = [field.name for field in Initiative._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    list_display = ["initiative", "business_unit", "status", "started_on"]
    list_select_related = ["initiative", "business_unit"]


@admin.register(StageChange)
class StageChangeAdmin(admin.ModelAdmin):
    list_display = ["initiative", "from_stage", "to_stage", "changed_at", "changed_by"]
    list_select_related = ["initiative", "changed_by"]
