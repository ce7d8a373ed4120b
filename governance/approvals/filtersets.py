"""Approval request filters, shared by the HTML queue and the API."""

import datetime

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone

from core.filtersets import ANY_YES_NO, NullsLastOrderingFilter, visible_business_units
from governance.approvals.choices import OPEN_REQUEST_STATUSES, RequestStatus
from governance.approvals.models import ApprovalRequest
from governance.risk.choices import Gate, Tier

# The value of ``?scope=`` that lists requests of every status (the others are pending only).
ALL_SCOPE = "all"


class ApprovalRequestFilterSet(django_filters.FilterSet):
    """Filters over ``approval_selectors.request_list`` / ``request_queue``."""

    # A number, not a model choice: a choice field would answer "not a valid choice" for
    # initiatives outside the caller's scope and so reveal that they exist. Hidden in the
    # HTML filter bar; links such as "this initiative's requests" set it.
    initiative = django_filters.NumberFilter(field_name="initiative_id", widget=forms.HiddenInput)
    gate = django_filters.ChoiceFilter(choices=Gate.choices, empty_label="Any")
    tier = django_filters.ChoiceFilter(choices=Tier.choices, empty_label="Any", label="Tier")
    business_unit = django_filters.ModelChoiceFilter(
        field_name="initiative__business_unit",
        queryset=visible_business_units,
        label="Business unit",
        empty_label="Any",
    )
    status = django_filters.ChoiceFilter(choices=RequestStatus.choices, empty_label="Any")
    # The dashboard's approval figures drill down through these two.
    in_flight = django_filters.BooleanFilter(
        label="In flight", widget=ANY_YES_NO, method="filter_in_flight"
    )
    overdue = django_filters.BooleanFilter(
        label="Overdue", widget=ANY_YES_NO, method="filter_overdue"
    )
    # The dashboard's median cycle times drill down through this one: approved or rejected
    # from the first day of the period until now.
    decided_since = django_filters.DateFilter(
        label="Decided since",
        method="filter_decided_since",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    # Decided requests (no due time) last in either direction.
    ordering = NullsLastOrderingFilter(
        tiebreak="pk",
        fields=(("step_due_at", "due"), ("submitted_at", "submitted")),
        label="Sort by",
    )

    class Meta:
        model = ApprovalRequest
        fields = ["initiative", "gate", "tier", "business_unit", "status"]

    def filter_in_flight(self, queryset, name, value):
        """Yes: pending or changes requested (still moving); no: every other status."""
        open_statuses = sorted(OPEN_REQUEST_STATUSES)
        if value:
            return queryset.filter(status__in=open_statuses)
        return queryset.exclude(status__in=open_statuses)

    def filter_decided_since(self, queryset, name, value):
        """Approved or rejected on or after the day ``value`` (local midnight), until now."""
        start = timezone.make_aware(datetime.datetime.combine(value, datetime.time()))
        return queryset.filter(
            status__in=[RequestStatus.APPROVED, RequestStatus.REJECTED],
            decided_at__gte=start,
            decided_at__lt=timezone.now(),
        )

    def filter_overdue(self, queryset, name, value):
        """Yes: pending with the current step past its due time (``is_overdue``)."""
        overdue = Q(status=RequestStatus.PENDING, step_due_at__lt=timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class ApprovalQueueFilterSet(ApprovalRequestFilterSet):
    """The queue's filter bar: always sorted by due time, and the status and in-flight
    filters only on the "all" tab (the other tabs list pending requests only)."""

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        del self.filters["ordering"]
        scope = request.GET.get("scope") if request is not None else None
        if scope != ALL_SCOPE:
            del self.filters["status"]
            del self.filters["in_flight"]
