"""Forms of the chargeback and findings pages."""

import datetime

import django_filters
from django import forms

from core.filtersets import visible_business_units
from inventory.finops.choices import FindingKind, FindingStatus, IdleSharePolicy
from inventory.finops.models import Finding

ACTIVE = "active"


def parse_month(value) -> datetime.date | None:
    """``"2025-03"`` → 1 March 2025; None when it is not a YYYY-MM month."""
    try:
        return datetime.datetime.strptime(str(value or ""), "%Y-%m").date()
    except ValueError:
        return None


class ChargebackMonthForm(forms.Form):
    """The month picker (GET)."""

    month = forms.CharField(
        widget=forms.DateInput(attrs={"type": "month"}), help_text="YYYY-MM", required=False
    )
    policy = forms.ChoiceField(
        choices=[("", "Month's policy"), *IdleSharePolicy.choices],
        required=False,
        label="Idle and shared cost",
    )

    def clean_month(self):
        value = self.cleaned_data.get("month")
        if not value:
            return None
        month = parse_month(value)
        if month is None:
            raise forms.ValidationError("Enter a month as YYYY-MM.")
        return month


class ChargebackComputeForm(forms.Form):
    policy = forms.ChoiceField(choices=IdleSharePolicy.choices, label="Idle and shared cost")


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text="Required; recorded in the audit log.",
    )


class FindingFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=FindingKind.choices)
    status = django_filters.ChoiceFilter(
        choices=[(ACTIVE, "Open or acknowledged"), *FindingStatus.choices],
        method="filter_status",
        empty_label="Any status",
    )
    business_unit = django_filters.ModelChoiceFilter(
        queryset=visible_business_units, label="Business unit"
    )
    ordering = django_filters.OrderingFilter(
        fields=(("monthly_waste", "waste"), ("last_seen_at", "seen"), ("kind", "kind")),
        label="Sort by",
    )

    class Meta:
        model = Finding
        fields = ["kind", "status", "business_unit"]

    def filter_status(self, queryset, name, value):
        if value == ACTIVE:
            return queryset.filter(status__in=[FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED])
        return queryset.filter(status=value)
