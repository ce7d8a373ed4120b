"""Governance filters, shared by the HTML lists, the CSV export and the API."""

import django_filters

from core.filtersets import (
    ANY_YES_NO,
    NullsLastOrderingFilter,
    SearchFilter,
    visible_business_units,
)
from governance.risk.choices import (
    AssessmentStatus,
    ControlKind,
    Gate,
    NISTFunction,
    ResultStatus,
    Tier,
)
from governance.risk.models import Control, ControlResult, RiskAssessment
from portfolio.initiatives.choices import Stage
from portfolio.initiatives.models import Initiative

UNASSESSED = "unassessed"


class RiskRegisterFilterSet(django_filters.FilterSet):
    """Filters over ``selectors.risk_register`` (initiatives annotated with their tiers and
    control counts)."""

    q = SearchFilter(search_fields=("reference", "title"))
    business_unit = django_filters.ModelChoiceFilter(
        queryset=visible_business_units, label="Business unit"
    )
    stage = django_filters.MultipleChoiceFilter(choices=Stage.choices)
    tier = django_filters.ChoiceFilter(
        label="Effective tier",
        choices=[
            (UNASSESSED, "Unassessed"),
            *((str(value), label) for value, label in Tier.choices),
        ],
        empty_label="Any",
        method="filter_tier",
    )
    min_tier = django_filters.ChoiceFilter(
        label="Tier at least",
        choices=[(str(value), label) for value, label in Tier.choices],
        empty_label="Any",
        method="filter_min_tier",
    )
    has_override = django_filters.BooleanFilter(
        label="Overridden", widget=ANY_YES_NO, method="filter_has_override"
    )
    has_failing = django_filters.BooleanFilter(
        label="Failing controls", widget=ANY_YES_NO, method="filter_has_failing"
    )
    # Unassessed initiatives last in either direction.
    ordering = NullsLastOrderingFilter(
        tiebreak="reference",
        fields=(
            ("reference", "reference"),
            ("effective_tier", "tier"),
            ("business_unit__name", "business_unit"),
            ("assessed_at", "assessed"),
            ("inherent_score", "inherent"),
            ("residual_score", "residual"),
        ),
        label="Sort by",
    )

    class Meta:
        model = Initiative
        fields = ["q", "business_unit", "stage"]

    def filter_tier(self, queryset, name, value):
        if value == UNASSESSED:
            return queryset.filter(effective_tier__isnull=True)
        return queryset.filter(effective_tier=int(value))

    def filter_min_tier(self, queryset, name, value):
        return queryset.filter(effective_tier__gte=int(value))

    def filter_has_override(self, queryset, name, value):
        return queryset.filter(override_tier__isnull=not value)

    def filter_has_failing(self, queryset, name, value):
        return (
            queryset.filter(controls_failing__gt=0)
            if value
            else queryset.filter(controls_failing=0)
        )


class RiskAssessmentFilterSet(django_filters.FilterSet):
    # A number, not a model choice: a choice field would answer "not a valid choice" for
    # initiatives outside the caller's scope and so reveal that they exist.
    initiative = django_filters.NumberFilter(field_name="initiative_id")
    status = django_filters.ChoiceFilter(choices=AssessmentStatus.choices)
    is_current = django_filters.BooleanFilter()

    class Meta:
        model = RiskAssessment
        fields = ["initiative", "status", "is_current"]


class ControlResultFilterSet(django_filters.FilterSet):
    initiative = django_filters.NumberFilter(field_name="initiative_id")
    status = django_filters.ChoiceFilter(choices=ResultStatus.choices)
    control = django_filters.CharFilter(field_name="control__code", label="Control code")

    class Meta:
        model = ControlResult
        fields = ["initiative", "status", "control"]


class ControlLibraryFilterSet(django_filters.FilterSet):
    """Filters over the control library (``governance.risk.library.control_library_list``),
    shared by the page and its CSV/XLSX export."""

    q = SearchFilter(
        search_fields=("code", "title", "description", "eu_ai_act_article", "iso_42001_clause")
    )
    kind = django_filters.MultipleChoiceFilter(choices=ControlKind.choices)
    gate = django_filters.MultipleChoiceFilter(
        field_name="requirements__gate",
        choices=Gate.choices,
        label="Required at gate",
        distinct=True,
    )
    nist_function = django_filters.MultipleChoiceFilter(
        choices=NISTFunction.choices, label="NIST AI RMF function"
    )
    is_active = django_filters.BooleanFilter(label="Active", widget=ANY_YES_NO)

    class Meta:
        model = Control
        fields = ["q", "kind", "gate", "nist_function", "is_active"]
