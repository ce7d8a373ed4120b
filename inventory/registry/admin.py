"""Read-mostly admin. Changes that matter (a version's status, monitoring, review dates,
metrics, the vendor register's audit trail) go through ``inventory.registry.services`` and the
web UI or API; here those fields are shown, never edited."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from inventory.registry.models import (
    AIModel,
    EvaluationMetric,
    ModelVersion,
    MonitoringReport,
    ReviewReminder,
    Vendor,
    VendorProduct,
)

# Kept by the lifecycle services (transition table, the model_release gate, the review
# schedule and the monitoring reports): never editable in the admin.
VERSION_SERVICE_FIELDS = (
    "status",
    "monitoring_status",
    "monitoring_updated_at",
    "next_review_due",
    "last_metrics",
)


class VendorProductInline(admin.TabularInline):
    model = VendorProduct
    extra = 0


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "due_diligence_status",
        "dpa_signed",
        "contract_reference",
        "contract_ends_on",
    ]
    list_filter = ["due_diligence_status", "dpa_signed"]
    search_fields = ["name", "contract_reference"]
    inlines = [VendorProductInline]


@admin.register(VendorProduct)
class VendorProductAdmin(admin.ModelAdmin):
    list_display = ["name", "vendor", "kind"]
    list_filter = ["kind"]
    search_fields = ["name", "vendor__name"]
    list_select_related = ["vendor"]


class ModelVersionInline(admin.TabularInline):
    model = ModelVersion
    extra = 0
    fields = ["version", *VERSION_SERVICE_FIELDS, "released_on", "last_validated_on"]
    readonly_fields = VERSION_SERVICE_FIELDS
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        # New versions go through model_version_create (audited) on the model's page.
        return False


@admin.register(AIModel)
class AIModelAdmin(admin.ModelAdmin):
    list_display = ["name", "model_type", "vendor", "business_unit", "owner", "effective_tier"]
    list_filter = ["model_type", "hosting"]
    search_fields = ["name"]
    list_select_related = ["vendor", "business_unit", "owner"]
    readonly_fields = ["effective_tier"]
    inlines = [ModelVersionInline]


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["model", "version", "status", "monitoring_status", "next_review_due"]
    list_filter = ["status", "monitoring_status"]
    search_fields = ["model__name", "version"]
    list_select_related = ["model"]
    readonly_fields = ["model", *VERSION_SERVICE_FIELDS, "created_at"]

    def has_add_permission(self, request):
        return False


@admin.register(EvaluationMetric)
class EvaluationMetricAdmin(admin.ModelAdmin):
    """Read-mostly: metrics are added through evaluation_metric_add; a wrong one may be
    deleted here."""

    list_display = ["version", "name", "value", "dataset", "measured_on"]
    search_fields = ["name", "version__model__name"]
    list_select_related = ["version__model"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MonitoringReport)
class MonitoringReportAdmin(ReadOnlyAdmin):
    list_display = ["version", "status", "source", "reported_by", "reported_at"]
    list_filter = ["status", "source"]
    list_select_related = ["version__model", "reported_by"]


@admin.register(ReviewReminder)
class ReviewReminderAdmin(ReadOnlyAdmin):
    list_display = ["version", "kind", "due_on", "sent_at"]
    list_filter = ["kind"]
    list_select_related = ["version__model"]
