"""FilterSets of GPU requests, quotas and external keys (HTML lists and the API alike).
Business-unit choices are only the units the user may see."""

import django_filters

from core.filtersets import SearchFilter, visible_business_units
from inventory.capacity.choices import GPURequestStatus
from inventory.capacity.models import GPUQuota, GPURequest
from inventory.gpu.choices import AllocationPurpose
from inventory.gpu.models import GPUPool
from inventory.usage.choices import ExternalKeyKind
from inventory.usage.models import ExternalKey


def pool_choices(request):
    return GPUPool.objects.only("pk", "name").order_by("name")


class GPURequestFilterSet(django_filters.FilterSet):
    q = SearchFilter(
        search_fields=("initiative__reference", "initiative__title", "pool__name", "justification")
    )
    status = django_filters.ChoiceFilter(choices=GPURequestStatus.choices)
    business_unit = django_filters.ModelChoiceFilter(
        queryset=visible_business_units, label="Business unit"
    )
    pool = django_filters.ModelChoiceFilter(queryset=pool_choices)
    purpose = django_filters.ChoiceFilter(choices=AllocationPurpose.choices)
    initiative = django_filters.NumberFilter(field_name="initiative_id", label="Initiative id")
    fast_tracked = django_filters.BooleanFilter()
    ordering = django_filters.OrderingFilter(
        fields=(("created_at", "created"), ("gpu_count", "gpus"), ("starts_on", "starts")),
        label="Sort by",
    )

    class Meta:
        model = GPURequest
        fields = ["q", "status", "business_unit", "pool", "purpose", "initiative", "fast_tracked"]


class GPUQuotaFilterSet(django_filters.FilterSet):
    q = SearchFilter(
        search_fields=("business_unit__code", "initiative__reference", "pool__name"),
    )
    business_unit = django_filters.ModelChoiceFilter(
        queryset=visible_business_units, label="Business unit"
    )
    pool = django_filters.ModelChoiceFilter(queryset=pool_choices)

    class Meta:
        model = GPUQuota
        fields = ["q", "business_unit", "pool"]


class ExternalKeyFilterSet(django_filters.FilterSet):
    q = SearchFilter(
        search_fields=("value", "initiative__reference", "business_unit__code"), label="Search"
    )
    kind = django_filters.ChoiceFilter(choices=ExternalKeyKind.choices)

    class Meta:
        model = ExternalKey
        fields = ["q", "kind"]
