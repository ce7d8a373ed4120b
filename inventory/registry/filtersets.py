import django_filters
from django import forms
from django.db.models import Exists, OuterRef

from core.filtersets import (
    ANY_YES_NO,
    CustomFieldFilterSetMixin,
    SearchFilter,
    visible_business_units,
)
from inventory.registry.choices import DiligenceStatus, Hosting, ModelStatus, ModelType
from inventory.registry.models import AIModel, ModelVersion, Vendor
from inventory.registry.selectors import drifting_condition, review_overdue_condition

UNASSESSED = "none"

TIER_CHOICES = [*((str(tier), f"Tier {tier}") for tier in range(1, 5)), (UNASSESSED, "Unassessed")]


def vendor_choices(request):
    return Vendor.objects.only("pk", "name").order_by("name")


class AIModelFilterSet(CustomFieldFilterSetMixin, django_filters.FilterSet):
    custom_fields_entity = "ai_model"

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


class VendorFilterSet(CustomFieldFilterSetMixin, django_filters.FilterSet):
    custom_fields_entity = "vendor"

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
