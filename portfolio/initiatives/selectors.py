"""Reads of the portfolio, always scoped to what the user may see."""

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from core.choices import BU_WRITE_ROLES
from core.models import BusinessUnit
from core.permissions import business_unit_ids, reads_whole_organisation
from portfolio.initiatives.choices import LIVE_STAGES
from portfolio.initiatives.models import Deployment, Initiative


def live_initiative_filter(prefix: str = "") -> Q:
    """Live initiatives (a ``LIVE_STAGES`` stage, not merged) as a ``Q``, over a relation
    with ``prefix``, e.g. ``live_initiative_filter("initiative__")`` on a link table."""
    return Q(**{f"{prefix}stage__in": list(LIVE_STAGES), f"{prefix}merged_into__isnull": True})


def live_initiatives(queryset: QuerySet[Initiative]) -> QuerySet[Initiative]:
    """The live ones of ``queryset`` (``Initiative.is_live``)."""
    return queryset.filter(live_initiative_filter())


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


def initiative_pk_by_reference(*, user, reference: str) -> int:
    """The id of the initiative with this human reference (``AI-0094``, any case) that the
    user may see, or 404 — the same 404 whether it does not exist or is out of scope."""
    found = (
        scope_initiatives(Initiative.objects.all(), user)
        .filter(reference=reference.strip().upper())
        .values_list("pk", flat=True)
        .first()
    )
    if found is None:
        raise Http404("No initiative with that reference.")
    return found


def initiative_stage_history(*, initiative: Initiative):
    return initiative.stage_changes.select_related("changed_by")


def initiative_deployments(*, initiative: Initiative):
    return initiative.deployments.select_related("business_unit")


def adoption_business_units(*, user, initiative: Initiative) -> list[BusinessUnit]:
    """Units the user may adopt ``initiative`` into: those where they register initiatives
    (BU member or lead), other than its own unit and without a deployment of it yet."""
    if not initiative.can_be_adopted():
        return []
    units = business_unit_ids(user, BU_WRITE_ROLES) - {initiative.business_unit_id}
    if not units:
        return []
    deployed = Deployment.objects.filter(initiative=initiative).values("business_unit_id")
    return list(BusinessUnit.objects.filter(pk__in=units).exclude(pk__in=deployed))
