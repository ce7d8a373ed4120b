from django.contrib import admin

from core.admin import ReadOnlyAdmin
from portfolio.initiatives.models import Deployment, Initiative, StageChange


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
    """Read-only: a deployment is planned through adoption and reaches production only through
    its approved ``scale`` gate request (``deployment_set_status``), never by an edit here."""

    list_display = ["initiative", "business_unit", "status", "started_on"]
    list_filter = ["status"]
    list_select_related = ["initiative", "business_unit"]
    readonly_fields = [field.name for field in Deployment._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(StageChange)
class StageChangeAdmin(ReadOnlyAdmin):
    """Stage history is a record: viewable, never added, edited or deleted by hand."""

    list_display = ["initiative", "from_stage", "to_stage", "changed_at", "changed_by"]
    list_select_related = ["initiative", "changed_by"]
    readonly_fields = [field.name for field in StageChange._meta.fields]
