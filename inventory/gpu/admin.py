"""Admin of the GPU catalogue, pools and allocations; the catalogue and allocations are
read-only here (their services check permissions and audit)."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from inventory.gpu.models import GPUAllocation, GPUPool, GPUType


@admin.register(GPUType)
class GPUTypeAdmin(ReadOnlyAdmin):
    """Reference data edited on the catalogue pages and the API (``gpu_type_create`` and
    ``gpu_type_update``: permission-checked and audited); shown here only."""

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
