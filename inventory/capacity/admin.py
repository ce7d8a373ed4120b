"""Read-only admin of GPU quotas, requests and external keys (services change them)."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from inventory.capacity.models import GPUQuota, GPURequest
from inventory.usage.models import ExternalKey


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
