"""One FilterSet for the incident register, shared by the HTML list, its exports and the API."""

import django_filters
from django.db.models import Exists, OuterRef
from django.utils import timezone

from core.filtersets import (
    ANY_YES_NO,
    CustomFieldFilterSetMixin,
    SearchFilter,
    visible_business_units,
)
from governance.incidents.choices import OPEN_STATUSES, IncidentCategory, IncidentStatus, Severity
from governance.incidents.models import Incident, IncidentReport


class IncidentFilterSet(CustomFieldFilterSetMixin, django_filters.FilterSet):
    custom_fields_entity = "incident"

    q = SearchFilter(search_fields=("reference", "title", "initiatives__reference"))
    status = django_filters.MultipleChoiceFilter(choices=IncidentStatus.choices)
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices)
    category = django_filters.ChoiceFilter(choices=IncidentCategory.choices, empty_label="Any")
    business_unit = django_filters.ModelChoiceFilter(
        queryset=visible_business_units,
        label="Initiative's business unit",
        field_name="initiatives__business_unit",
        distinct=True,
    )
    is_open = django_filters.BooleanFilter(label="Open", widget=ANY_YES_NO, method="filter_open")
    missed = django_filters.BooleanFilter(
        label="Missed deadline", widget=ANY_YES_NO, method="filter_missed"
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("reference", "reference"),
            ("severity", "severity"),
            ("became_aware_at", "aware"),
            ("status", "status"),
        ),
        label="Sort by",
    )

    class Meta:
        model = Incident
        fields = ["q", "status", "severity", "category", "business_unit", "is_open", "missed"]

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return (
            queryset.filter(status__in=OPEN_STATUSES)
            if value
            else queryset.exclude(status__in=OPEN_STATUSES)
        )

    def filter_missed(self, queryset, name, value):
        if value is None:
            return queryset
        missed = IncidentReport.objects.filter(
            incident=OuterRef("pk"), submitted_at__isnull=True, due_at__lt=timezone.now()
        )
        return queryset.filter(Exists(missed)) if value else queryset.exclude(Exists(missed))
