from django.contrib import admin

from .models import AIModel, GPUAllocation, GPUPool, GPUType, ModelVersion, Vendor


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ["name", "website"]
    search_fields = ["name"]


@admin.register(GPUType)
class GPUTypeAdmin(admin.ModelAdmin):
    """Reference data: editable here."""

    list_display = ["vendor", "name", "memory_gb", "reference_hourly_price", "currency"]
    search_fields = ["name"]


class ModelVersionInline(admin.TabularInline):
    model = ModelVersion
    extra = 0


@admin.register(AIModel)
class AIModelAdmin(admin.ModelAdmin):
    list_display = ["name", "model_type", "vendor", "business_unit", "owner"]
    list_filter = ["model_type", "hosting"]
    search_fields = ["name"]
    list_select_related = ["vendor", "business_unit", "owner"]
    inlines = [ModelVersionInline]


@admin.register(GPUPool)
class GPUPoolAdmin(admin.ModelAdmin):
    list_display = ["name", "provider", "region", "gpu_type", "gpu_count", "pricing_model"]
    list_filter = ["provider", "kind", "pricing_model"]
    list_select_related = ["gpu_type"]


@admin.register(GPUAllocation)
class GPUAllocationAdmin(admin.ModelAdmin):
    list_display = ["pool", "gpu_count", "initiative", "business_unit", "purpose", "starts_on"]
    list_select_related = ["pool", "initiative", "business_unit"]
    raw_id_fields = ["initiative"]
