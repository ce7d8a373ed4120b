import django_filters
from django import forms
from django.db.models import Exists, OuterRef

from core.filtersets import ANY_YES_NO, SearchFilter, visible_business_units

from .choices import (
    AllocationPurpose,
    DiligenceStatus,
    Hosting,
    ModelStatus,
    ModelType,
    PoolKind,
    PricingModel,
    Provider,
)
from .models import AIModel, GPUAllocation, GPUPool, ModelVersion, Vendor
from .selectors import drifting_condition, review_overdue_condition

UNASSESSED = "none"
TIER_CHOICES = [*((str(tier), f"Tier {tier}") for tier in range(1, 5)), (UNASSESSED, "Unassessed")]


def vendor_choices(request):
    return Vendor.objects.only("pk", "name").order_by("name")


class AIModelFilterSet(django_filters.FilterSet):
    q = SearchFilter(search_fields=("name", "description", "vendor__name"))
    model_type = django_filters.ChoiceFilter(choices=ModelType.choices, label="Type")
    version_status = django_filters.ChoiceFilter(
        choices=ModelStatus.choices, method="filter_version_status", label="Has a version"
    )
    effective_tier = django_filters.ChoiceFilter(
        choices=TIER_CHOICES, method="filter_effective_tier", label="Effective tier"
    )
    vendor = django_filters.ModelChoiceFilter(queryset=vendor_choices, label="Vendor")
    hosting = django_filters.ChoiceFilter(choices=Hosting.choices)
    business_unit = django_filters.ModelChoiceFilter(
        queryset=visible_business_units, label="Business unit"
    )
    review_overdue = django_filters.BooleanFilter(
        method="filter_review_overdue", label="Review overdue", widget=ANY_YES_NO
    )
    drifting = django_filters.BooleanFilter(
        method="filter_drifting", label="Drifting", widget=ANY_YES_NO
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("name", "name"),
            ("model_type", "type"),
            ("effective_tier", "tier"),
            ("created_at", "created"),
        ),
        label="Sort by",
    )

    class Meta:
        model = AIModel
        fields = [
            "q",
            "model_type",
            "version_status",
            "effective_tier",
            "vendor",
            "hosting",
            "business_unit",
            "review_overdue",
            "drifting",
        ]

    # The yes/no filters test the same conditions as the selector's annotations, as
    # subqueries, so they also work on querysets without those annotations.

    def filter_version_status(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(_has_version(status=value))

    def filter_effective_tier(self, queryset, name, value):
        if not value:
            return queryset
        if value == UNASSESSED:
            return queryset.filter(effective_tier__isnull=True)
        return queryset.filter(effective_tier=int(value))

    def filter_review_overdue(self, queryset, name, value):
        return _yes_no(queryset, value, _has_version_matching(review_overdue_condition()))

    def filter_drifting(self, queryset, name, value):
        return _yes_no(queryset, value, _has_version_matching(drifting_condition()))


def _has_version(**conditions) -> Exists:
    return Exists(ModelVersion.objects.filter(model=OuterRef("pk"), **conditions))


def _has_version_matching(condition) -> Exists:
    return Exists(ModelVersion.objects.filter(condition, model=OuterRef("pk")))


def _yes_no(queryset, value, condition):
    if value is None:
        return queryset
    return queryset.filter(condition) if value else queryset.exclude(condition)


class OverdueReviewFilterSet(django_filters.FilterSet):
    q = SearchFilter(search_fields=("model__name", "version"))
    business_unit = django_filters.ModelChoiceFilter(
        field_name="model__business_unit", queryset=visible_business_units, label="Business unit"
    )
    status = django_filters.ChoiceFilter(
        choices=[(ModelStatus.APPROVED, "Approved"), (ModelStatus.PRODUCTION, "Production")]
    )

    class Meta:
        model = ModelVersion
        fields = ["q", "business_unit", "status"]


class VendorFilterSet(django_filters.FilterSet):
    q = SearchFilter(search_fields=("name", "description", "contract_reference"))
    due_diligence_status = django_filters.ChoiceFilter(
        choices=DiligenceStatus.choices, label="Due diligence"
    )
    dpa_signed = django_filters.BooleanFilter(label="DPA signed", widget=ANY_YES_NO)
    contract_ends_before = django_filters.DateFilter(
        field_name="contract_ends_on",
        lookup_expr="lte",
        label="Contract ends by",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    ordering = django_filters.OrderingFilter(
        fields=(("name", "name"), ("contract_ends_on", "contract_end")),
        label="Sort by",
    )

    class Meta:
        model = Vendor
        fields = ["q", "due_diligence_status", "dpa_signed", "contract_ends_before"]


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


class GPUAllocationFilterSet(django_filters.FilterSet):
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
