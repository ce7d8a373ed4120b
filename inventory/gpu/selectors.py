"""Reads of GPU pools and allocations, scoped to what the user may see (organisation-wide
roles see everything; others their business units' allocations)."""

from django.db.models import (
    Count,
    Q,
    QuerySet,
    Sum,
)
from django.shortcuts import get_object_or_404
from django.utils import timezone

from core.permissions import business_unit_ids, reads_whole_organisation
from inventory.gpu.models import GPUAllocation, GPUPool, GPUType
from inventory.registry.models import (
    AIModel,
)
from portfolio.initiatives.choices import ENDED_STAGES
from portfolio.initiatives.selectors import scope_initiatives


def gpu_type_list(*, user) -> QuerySet[GPUType]:
    """The catalogue (shared reference data every signed-in user reads)."""
    if not user.is_authenticated:
        return GPUType.objects.none()
    return GPUType.objects.order_by("vendor", "name", "pk")


def gpu_type_get(*, user, pk) -> GPUType:
    return get_object_or_404(gpu_type_list(user=user), pk=pk)


def pool_list(*, user) -> QuerySet[GPUPool]:
    if not user.is_authenticated:
        return GPUPool.objects.none()
    today = timezone.localdate()
    active = Q(allocations__starts_on__lte=today) & (
        Q(allocations__ends_on__isnull=True) | Q(allocations__ends_on__gte=today)
    )
    return (
        GPUPool.objects.select_related("gpu_type")
        .annotate(allocated_gpus=Sum("allocations__gpu_count", filter=active, default=0))
        .order_by("name", "pk")
    )


def pool_get(*, user, pk) -> GPUPool:
    return get_object_or_404(pool_list(user=user), pk=pk)


def scope_allocations(queryset: QuerySet[GPUAllocation], user) -> QuerySet[GPUAllocation]:
    if reads_whole_organisation(user):
        return queryset
    units = business_unit_ids(user)
    return queryset.filter(business_unit_id__in=units) if units else queryset.none()


def allocation_list(*, user) -> QuerySet[GPUAllocation]:
    return scope_allocations(
        GPUAllocation.objects.select_related(
            "pool__gpu_type", "initiative", "business_unit", "requested_by"
        ),
        user,
    )


def allocation_get(*, user, pk) -> GPUAllocation:
    return get_object_or_404(allocation_list(user=user), pk=pk)


def allocation_summary(*, user) -> dict:
    """Counts for dashboards: all, active today, orphaned, and GPUs active today."""
    allocations = scope_allocations(GPUAllocation.objects.all(), user)
    today = timezone.localdate()
    active = Q(starts_on__lte=today) & (Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    orphaned = Q(initiative__isnull=True) | Q(initiative__stage__in=ENDED_STAGES)
    return allocations.aggregate(
        total=Count("pk"),
        active=Count("pk", filter=active),
        orphaned=Count("pk", filter=orphaned & active),
        active_gpus=Sum("gpu_count", filter=active, default=0),
    )


def model_allocations(*, user, model: AIModel) -> QuerySet[GPUAllocation]:
    """GPU allocations of the initiatives the model serves, restricted to what the user sees."""
    served = scope_initiatives(model.initiatives.all(), user).values("pk")
    return scope_allocations(
        GPUAllocation.objects.filter(initiative__in=served)
        .select_related("pool__gpu_type", "initiative", "business_unit")
        .order_by("-starts_on", "-id"),
        user,
    )


def pool_current_allocations(*, user, pool: GPUPool) -> QuerySet[GPUAllocation]:
    """The pool's allocations active today, restricted to those the user may see."""
    return scope_allocations(
        pool.allocations.active_on(timezone.localdate())
        .select_related("initiative", "business_unit")
        .order_by("-starts_on", "-id"),
        user,
    )
