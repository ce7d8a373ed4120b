"""Read-only admin of ingest batches, devices, Slurm jobs, Kubernetes pods, daily roll-ups and
cost records."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from inventory.usage.models import (
    CostRecord,
    GPUDevice,
    IngestBatch,
    PodRecord,
    SlurmJobRecord,
    UsageDaily,
)


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


@admin.register(PodRecord)
class PodRecordAdmin(ReadOnlyAdmin):
    list_display = ["pod", "namespace", "cluster", "source", "gpu_count", "gpu_hours", "allocation"]
    list_filter = ["source"]
    search_fields = ["pod", "namespace"]
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
