"""Reads of the inventory, scoped to what the user may see.

Organisation-wide roles see everything. Other users see the models of their business units
or serving initiatives they can see, and their units' GPU allocations. GPU pools and types are
a shared catalogue every signed-in user may read.
"""

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone

from core.permissions import business_unit_ids, reads_whole_organisation
from portfolio.choices import ENDED_STAGES
from portfolio.models import Initiative
from portfolio.selectors import scope_initiatives

from .choices import ModelStatus, MonitoringStatus
from .models import AIModel, GPUAllocation, GPUPool, ModelVersion


def scope_models(queryset: QuerySet[AIModel], user) -> QuerySet[AIModel]:
    if reads_whole_organisation(user):
        return queryset
    units = business_unit_ids(user)
    if not units:
        return queryset.none()
    visible = scope_initiatives(Initiative.objects.all(), user)
    serves_visible = AIModel.initiatives.through.objects.filter(
        aimodel_id=OuterRef("pk"), initiative__in=visible
    )
    return queryset.filter(Q(business_unit_id__in=units) | Q(Exists(serves_visible)))


def model_list(*, user) -> QuerySet[AIModel]:
    return scope_models(
        AIModel.objects.select_related("business_unit", "owner", "vendor")
        .annotate(
            version_count=Count("versions", distinct=True),
            initiative_count=Count("initiatives", distinct=True),
        )
        # Meta.ordering is dropped from GROUP BY queries: order explicitly for stable pages.
        .order_by("name", "pk"),
        user,
    )


def model_get(*, user, pk) -> AIModel:
    return get_object_or_404(
        scope_models(AIModel.objects.select_related("business_unit", "owner", "vendor"), user),
        pk=pk,
    )


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


def model_versions(*, model: AIModel) -> QuerySet:
    """Versions of a model the caller has already resolved through ``model_get``, newest first."""
    return model.versions.order_by("-created_at", "-id")


def model_initiatives(*, user, model: AIModel) -> QuerySet[Initiative]:
    """The initiatives a model serves, restricted to those the user may see."""
    return scope_initiatives(
        model.initiatives.select_related("business_unit").order_by("reference"), user
    )


def pool_current_allocations(*, user, pool: GPUPool) -> QuerySet[GPUAllocation]:
    """The pool's allocations active today, restricted to those the user may see."""
    return scope_allocations(
        pool.allocations.active_on(timezone.localdate())
        .select_related("initiative", "business_unit")
        .order_by("-starts_on", "-id"),
        user,
    )


def drifting_versions(*, initiative) -> list[str]:
    """Names of the production versions of models serving ``initiative`` that report drift."""
    rows = ModelVersion.objects.filter(
        model__initiatives=initiative,
        status=ModelStatus.PRODUCTION,
        monitoring_status=MonitoringStatus.DRIFTING,
    ).select_related("model")
    return [str(version) for version in rows.order_by("model__name", "version")]
