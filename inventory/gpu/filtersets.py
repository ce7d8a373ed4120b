import django_filters

from core.filtersets import (
    ANY_YES_NO,
    CustomFieldFilterSetMixin,
    SearchFilter,
    visible_business_units,
)
from inventory.gpu.choices import AllocationPurpose, PoolKind, PricingModel, Provider
from inventory.gpu.models import GPUAllocation, GPUPool, GPUType


class GPUTypeFilterSet(django_filters.FilterSet):
    q = SearchFilter(search_fields=("name", "vendor", "example_instance"))
    vendor = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = GPUType
        fields = ["q", "vendor"]


class GPUPoolFilterSet(django_filters.FilterSet):
    q = SearchFilter(search_fields=("name", "region", "account", "cluster", "owning_team"))
    provider = django_filters.ChoiceFilter(choices=Provider.choices)
    kind = django_filters.ChoiceFilter(choices=PoolKind.choices)
    pricing_model = django_filters.ChoiceFilter(choices=PricingModel.choices)
    ordering = django_filters.OrderingFilter(
        fields=(("name", "name"), ("provider", "provider"), ("gpu_count", "capacity")),
        label="Sort by",
    )

    class Meta:
        model = GPUPool
        fields = ["q", "provider", "kind", "pricing_model", "gpu_type"]


class GPUAllocationFilterSet(CustomFieldFilterSetMixin, django_filters.FilterSet):
    custom_fields_entity = "gpu_allocation"

    q = SearchFilter(
        search_fields=("pool__name", "initiative__reference", "initiative__title", "notes")
    )
    business_unit = django_filters.ModelChoiceFilter(
        queryset=visible_business_units, label="Business unit"
    )
    purpose = django_filters.ChoiceFilter(choices=AllocationPurpose.choices)
    pool = django_filters.ModelChoiceFilter(queryset=GPUPool.objects.order_by("name"))
    orphaned = django_filters.BooleanFilter(
        method="filter_orphaned", label="Orphaned", widget=ANY_YES_NO
    )
    ordering = django_filters.OrderingFilter(
        fields=(("starts_on", "starts"), ("gpu_count", "gpus"), ("pool__name", "pool")),
        label="Sort by",
    )

    class Meta:
        model = GPUAllocation
        fields = ["q", "business_unit", "purpose", "pool", "orphaned"]

    def filter_orphaned(self, queryset, name, value):
        if value is None:
            return queryset
        orphaned_ids = GPUAllocation.objects.orphaned().values("pk")
        return (
            queryset.filter(pk__in=orphaned_ids) if value else queryset.exclude(pk__in=orphaned_ids)
        )
