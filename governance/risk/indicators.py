"""Roadmap indicators computed from governance data, registered with the portfolio's
indicator registry at start-up (``GovernanceConfig.ready``): the portfolio's domain never
imports governance."""

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from governance.risk.models import RiskAssessment
from portfolio.initiatives.choices import ENDED_STAGES, Stage
from portfolio.initiatives.models import Initiative
from portfolio.roadmap.services import OWNER_CURRENT_TIER, register_indicator
from portfolio.scaling.metrics import MetricResult

OWNER_CURRENT_TIER_DEFINITION = (
    "Of the active initiatives past draft (not retired, rejected or merged), the share whose "
    "accountable owner is an active user and that have a current, completed risk assessment "
    "with a tier (computed or overridden)."
)


def owner_and_current_tier_share(initiatives: QuerySet[Initiative]) -> MetricResult:
    """The share defined by ``OWNER_CURRENT_TIER_DEFINITION``, in one aggregate query."""
    current_tier = RiskAssessment.objects.filter(initiative=OuterRef("pk"), is_current=True).filter(
        Q(computed_tier__isnull=False) | Q(override_tier__isnull=False)
    )
    active = initiatives.filter(merged_into__isnull=True).exclude(
        stage__in=[*ENDED_STAGES, Stage.DRAFT]
    )
    counts = active.aggregate(
        total=Count("pk"),
        covered=Count("pk", filter=Q(accountable_owner__is_active=True) & Q(Exists(current_tier))),
    )
    total, covered = counts["total"], counts["covered"]
    if not total:
        return MetricResult(None, covered, total)
    value = (Decimal(100) * covered / total).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return MetricResult(value, covered, total)


def register_governance_indicators() -> None:
    register_indicator(OWNER_CURRENT_TIER, owner_and_current_tier_share)
