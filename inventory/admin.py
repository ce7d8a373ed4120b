"""Read-mostly admin. Changes that matter (a version's status, monitoring, review dates,
metrics, the vendor register's audit trail) go through ``inventory.model_services`` and the
web UI or API; here those fields are shown, never edited."""

from django.contrib import admin

from .models import (
    AIModel,
    ChargebackLine,
    ChargebackMonth,
    CostRecord,
    EvaluationMetric,
    ExternalKey,
    Finding,
    GPUAllocation,
    GPUDevice,
    GPUPool,
    GPUQuota,
    GPURequest,
    GPUType,
    IngestBatch,
    ModelVersion,
    MonitoringReport,
    ReviewReminder,
    SlurmJobRecord,
    UsageDaily,
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


class ReadOnlyAdmin(admin.ModelAdmin):
    """History rows written by services: viewable, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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


@admin.register(GPUType)
class GPUTypeAdmin(admin.ModelAdmin):
    """Reference data: editable here."""

    list_display = [
        "vendor",
        "name",
        "memory_gb",
        "reference_hourly_price",
        "currency",
        "price_as_of",
        "price_source",
    ]
    search_fields = ["name", "monitoring_names"]


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


@admin.register(GPUPool)
class GPUPoolAdmin(admin.ModelAdmin):
    list_display = ["name", "provider", "region", "gpu_type", "gpu_count", "pricing_model"]
    list_filter = ["provider", "kind", "pricing_model"]
    list_select_related = ["gpu_type"]


@admin.register(GPUAllocation)
class GPUAllocationAdmin(ReadOnlyAdmin):
    """Allocations are made through the capacity check (a pool lock) and the gpu_request
    gate; the admin shows them only."""

    list_display = ["pool", "gpu_count", "initiative", "business_unit", "purpose", "starts_on"]
    list_select_related = ["pool", "initiative", "business_unit"]


# GPU FinOps: written by the services (ingest, requests, findings, chargeback), shown here.


@admin.register(ExternalKey)
class ExternalKeyAdmin(ReadOnlyAdmin):
    list_display = ["kind", "value", "initiative", "business_unit", "allocation"]
    list_filter = ["kind"]
    search_fields = ["value"]
    list_select_related = ["initiative", "business_unit", "allocation"]


@admin.register(GPUQuota)
class GPUQuotaAdmin(ReadOnlyAdmin):
    list_display = ["business_unit", "initiative", "pool", "deserved_gpus", "limit_gpus"]
    list_select_related = ["business_unit", "initiative", "pool"]


@admin.register(GPURequest)
class GPURequestAdmin(ReadOnlyAdmin):
    list_display = ["pk", "initiative", "pool", "gpu_count", "status", "fast_tracked"]
    list_filter = ["status", "purpose"]
    list_select_related = ["initiative", "pool"]


@admin.register(IngestBatch)
class IngestBatchAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "filename", "status", "rows_read", "uploaded_by"]
    list_filter = ["kind", "status"]
    list_select_related = ["uploaded_by"]


@admin.register(GPUDevice)
class GPUDeviceAdmin(ReadOnlyAdmin):
    list_display = ["hostname", "gpu", "mig_instance", "model_name", "allocation", "last_seen_at"]
    search_fields = ["hostname", "gpu"]
    list_select_related = ["allocation"]


@admin.register(SlurmJobRecord)
class SlurmJobRecordAdmin(ReadOnlyAdmin):
    list_display = ["job_id", "cluster", "account", "wckey", "gpus", "gpu_hours", "allocation"]
    search_fields = ["job_id", "account", "wckey"]
    list_select_related = ["allocation"]


@admin.register(UsageDaily)
class UsageDailyAdmin(ReadOnlyAdmin):
    list_display = ["day", "allocation", "device", "samples", "avg_activity", "gpu_hours"]
    list_select_related = ["allocation", "device"]


@admin.register(CostRecord)
class CostRecordAdmin(ReadOnlyAdmin):
    list_display = ["month", "provider", "category", "matched_by", "effective_cost", "allocation"]
    list_filter = ["category", "matched_by", "provider"]
    search_fields = ["resource_id"]
    list_select_related = ["allocation"]


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
