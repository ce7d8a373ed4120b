import django_filters

from core.filtersets import (
    ANY_YES_NO,
    CustomFieldFilterSetMixin,
    SearchFilter,
    visible_business_units,
)
from portfolio.initiatives.choices import AIType, DataSensitivity, Stage, UseCaseCategory
from portfolio.initiatives.models import Initiative


class InitiativeFilterSet(CustomFieldFilterSetMixin, django_filters.FilterSet):
    custom_fields_entity = "initiative"

    q = SearchFilter(search_fields=("reference", "title", "purpose", "tags"))
    stage = django_filters.MultipleChoiceFilter(choices=Stage.choices)
    business_unit = django_filters.ModelChoiceFilter(
        queryset=visible_business_units, label="Business unit"
    )
    category = django_filters.ChoiceFilter(choices=UseCaseCategory.choices)
    ai_type = django_filters.ChoiceFilter(choices=AIType.choices, label="AI type")
    data_sensitivity = django_filters.ChoiceFilter(choices=DataSensitivity.choices)
    uses_pii = django_filters.BooleanFilter(label="Uses PII", widget=ANY_YES_NO)
    owner_to_confirm = django_filters.BooleanFilter(
        label="Owner to confirm", widget=ANY_YES_NO, help_text="Imported with an unknown owner."
    )
    # "No" leaves out initiatives merged into another (retired, the survivor stands for
    # them), as the dashboard's portfolio counts do.
    merged = django_filters.BooleanFilter(
        field_name="merged_into",
        lookup_expr="isnull",
        exclude=True,
        label="Merged into another",
        widget=ANY_YES_NO,
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("reference", "reference"),
            ("title", "title"),
            ("stage", "stage"),
            ("business_unit__name", "business_unit"),
            ("created_at", "created"),
            ("updated_at", "updated"),
        ),
        label="Sort by",
    )

    class Meta:
        model = Initiative
        fields = ["q", "stage", "business_unit", "category", "ai_type", "data_sensitivity"]
