"""Reads of the portfolio, always scoped to what the user may see."""

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404

from core.permissions import business_unit_ids, reads_whole_organisation

from .models import Deployment, Initiative


def scope_initiatives(queryset: QuerySet[Initiative], user) -> QuerySet[Initiative]:
    """Restrict initiatives to the user's view.

    Organisation-wide roles (CoE, risk, executive, platform, admin) see everything; everyone
    else sees their business units' initiatives and those deployed to their units.
    """
    if reads_whole_organisation(user):
        return queryset
    units = business_unit_ids(user)
    if not units:
        return queryset.none()
    deployed_here = Deployment.objects.filter(initiative=OuterRef("pk"), business_unit_id__in=units)
    return queryset.filter(Q(business_unit_id__in=units) | Q(Exists(deployed_here)))


def initiative_list(*, user) -> QuerySet[Initiative]:
    return scope_initiatives(
        Initiative.objects.select_related("business_unit", "accountable_owner"), user
    )


def initiative_get(*, user, pk) -> Initiative:
    """One initiative the user may see, or 404 (never a 403 that reveals it exists)."""
    queryset = scope_initiatives(
        Initiative.objects.select_related(
            "business_unit", "accountable_owner", "technical_lead", "executive_sponsor"
        ),
        user,
    )
    return get_object_or_404(queryset, pk=pk)


def initiative_stage_history(*, initiative: Initiative):
    return initiative.stage_changes.select_related("changed_by")


def initiative_deployments(*, initiative: Initiative):
    return initiative.deployments.select_related("business_unit")
