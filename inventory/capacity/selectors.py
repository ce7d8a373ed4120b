"""Reads of GPU quotas (with their usage), GPU requests and external keys, scoped to what the
user may see: organisation-wide roles (platform, CoE, risk, executives) see everything,
other users their business units' rows (and requests for their units' initiatives).

Usage against a quota (``quota_usage``), in one query whatever the number of quotas:

- ``allocated_gpus``: GPUs of the quota's scope (the unit's, or the initiative's when the
  quota is an initiative's) in the pool, in allocations active today;
- ``pending_gpus``: GPUs asked by its pending GPU requests in the pool;
- ``gpu_hours_month``: observed GPU-hours of its allocations in the pool this month (sum of
  ``UsageDaily.gpu_hours`` from the first of the month), against the monthly budget.
"""

from decimal import Decimal

from django.db.models import (
    Case,
    DecimalField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from core.permissions import business_unit_ids, can_manage_inventory, reads_whole_organisation
from inventory.capacity.choices import GPURequestStatus
from inventory.capacity.models import GPUQuota, GPURequest
from inventory.capacity.services import month_start
from inventory.gpu.models import GPUAllocation
from inventory.usage.models import ExternalKey, UsageDaily

ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=14, decimal_places=4))


def _summed(queryset, field: str):
    """A correlated subquery summing ``field`` over ``queryset`` (0 when empty)."""
    # Grouping by a constant leaves no GROUP BY: one row, the sum over every matching row.
    totals = queryset.order_by().annotate(_one=Value(1)).values("_one")
    return Coalesce(
        Subquery(totals.annotate(total=Sum(field)).values("total")[:1]),
        ZERO,
        output_field=DecimalField(max_digits=14, decimal_places=4),
    )


def _by_scope(unit_rows, initiative_rows, field: str):
    """The unit quota's sum or the initiative quota's sum, per quota row."""
    return Case(
        When(initiative__isnull=True, then=_summed(unit_rows, field)),
        default=_summed(initiative_rows, field),
        output_field=DecimalField(max_digits=14, decimal_places=4),
    )


def quota_usage(quotas: QuerySet[GPUQuota], *, today=None) -> QuerySet[GPUQuota]:
    """``quotas`` annotated with allocated_gpus, pending_gpus and gpu_hours_month."""
    today = today or timezone.localdate()
    active = GPUAllocation.objects.active_on(today).filter(pool=OuterRef("pool"))
    pending = GPURequest.objects.filter(pool=OuterRef("pool"), status=GPURequestStatus.PENDING)
    used = UsageDaily.objects.filter(
        allocation__pool=OuterRef("pool"), day__gte=month_start(today), day__lte=today
    )
    return quotas.annotate(
        allocated_gpus=_by_scope(
            active.filter(business_unit=OuterRef("business_unit")),
            active.filter(initiative=OuterRef("initiative")),
            "gpu_count",
        ),
        pending_gpus=_by_scope(
            pending.filter(business_unit=OuterRef("business_unit")),
            pending.filter(initiative=OuterRef("initiative")),
            "gpu_count",
        ),
        gpu_hours_month=_by_scope(
            used.filter(allocation__business_unit=OuterRef("business_unit")),
            used.filter(allocation__initiative=OuterRef("initiative")),
            "gpu_hours",
        ),
    )


def _percent(part, whole) -> int:
    if not whole:
        return 0
    return int(min(Decimal("100"), Decimal(part) * 100 / Decimal(whole)))


def with_bars(quotas) -> list[GPUQuota]:
    """Add bar widths (0–100) to annotated quotas already fetched: allocated and pending as
    shares of the limit, GPU-hours as a share of the budget; no queries."""
    rows = list(quotas)
    for quota in rows:
        quota.allocated_percent = _percent(quota.allocated_gpus, quota.limit_gpus)
        quota.pending_percent = min(
            100 - quota.allocated_percent, _percent(quota.pending_gpus, quota.limit_gpus)
        )
        quota.deserved_percent = _percent(quota.deserved_gpus, quota.limit_gpus)
        quota.over_limit = quota.allocated_gpus > quota.limit_gpus
        budget = quota.monthly_gpu_hour_budget
        quota.budget_percent = _percent(quota.gpu_hours_month, budget) if budget else None
        quota.over_budget = bool(budget) and quota.gpu_hours_month >= budget
    return rows


def _scope_by_unit(queryset, user, unit_field="business_unit_id"):
    if reads_whole_organisation(user):
        return queryset
    units = business_unit_ids(user)
    return queryset.filter(**{f"{unit_field}__in": units}) if units else queryset.none()


def quota_list(*, user) -> QuerySet[GPUQuota]:
    """Visible quotas with their usage, by unit, pool and initiative."""
    if not user.is_authenticated:
        return GPUQuota.objects.none()
    quotas = GPUQuota.objects.select_related("business_unit", "initiative", "pool__gpu_type")
    return quota_usage(_scope_by_unit(quotas, user)).order_by(
        "business_unit__code", "pool__name", "initiative__reference", "pk"
    )


def quota_get(*, user, pk) -> GPUQuota:
    return get_object_or_404(quota_list(user=user), pk=pk)


def pool_quotas(*, user, pool) -> list[GPUQuota]:
    """The pool's visible quotas with usage and bars (the pool page)."""
    return with_bars(quota_list(user=user).filter(pool=pool))


def requests_list(*, user, filters=None) -> QuerySet[GPURequest]:
    """Visible GPU requests, newest first: a unit's users see the requests of their units
    and those for their units' initiatives; organisation-wide roles see all. ``filters``
    (a dict or QueryDict) are applied with the requests' FilterSet."""
    if not user.is_authenticated:
        return GPURequest.objects.none()
    requests = GPURequest.objects.select_related(
        "initiative", "business_unit", "pool__gpu_type", "requested_by", "allocation"
    )
    if not reads_whole_organisation(user):
        units = business_unit_ids(user)
        requests = (
            requests.filter(
                Q(business_unit_id__in=units) | Q(initiative__business_unit_id__in=units)
            )
            if units
            else requests.none()
        )
    requests = requests.order_by("-created_at", "-pk")
    if filters:
        from core.filtersets import apply_filters
        from inventory.capacity.filtersets import GPURequestFilterSet

        _, requests = apply_filters(filters, queryset=requests, filterset_class=GPURequestFilterSet)
    return requests


def request_get(*, user, pk) -> GPURequest:
    return get_object_or_404(requests_list(user=user), pk=pk)


def external_key_list(*, user) -> QuerySet[ExternalKey]:
    """Visible matching keys: platform engineers and organisation-wide readers see all; other
    users the keys of their units, their units' initiatives and allocations."""
    if not user.is_authenticated:
        return ExternalKey.objects.none()
    keys = ExternalKey.objects.select_related(
        "initiative__business_unit", "business_unit", "allocation__business_unit"
    ).order_by("kind", "value", "pk")
    if reads_whole_organisation(user) or can_manage_inventory(user):
        return keys
    units = business_unit_ids(user)
    if not units:
        return keys.none()
    return keys.filter(
        Q(business_unit_id__in=units)
        | Q(initiative__business_unit_id__in=units)
        | Q(allocation__business_unit_id__in=units)
    )


def external_key_get(*, user, pk) -> ExternalKey:
    return get_object_or_404(external_key_list(user=user), pk=pk)
