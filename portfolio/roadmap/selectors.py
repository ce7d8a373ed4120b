"""Reads of the roadmap: phases with progress, activities with their flags, indicators with
their history."""

from datetime import date, timedelta

from django.db.models import BooleanField, Count, ExpressionWrapper, Prefetch, Q, QuerySet
from django.utils import timezone

from portfolio.initiatives.models import Initiative
from portfolio.initiatives.selectors import scope_initiatives
from portfolio.roadmap.choices import ActivityStatus
from portfolio.roadmap.models import IndicatorValue, RoadmapActivity, RoadmapPhase, SuccessIndicator
from portfolio.roadmap.services import HISTORY_DAYS, roadmap_install_defaults


def activities_with_flags(today: date) -> QuerySet[RoadmapActivity]:
    """Activities with ``is_overdue``: past their due date and not done."""
    return RoadmapActivity.objects.annotate(
        is_overdue=ExpressionWrapper(
            Q(due_on__lt=today) & ~Q(status=ActivityStatus.DONE), output_field=BooleanField()
        )
    )


def indicator_history(today: date) -> Prefetch:
    """Prefetch of each indicator's recent values, oldest first (for sparklines)."""
    return Prefetch(
        "values",
        queryset=IndicatorValue.objects.filter(
            on_date__gte=today - timedelta(days=HISTORY_DAYS)
        ).order_by("on_date"),
        to_attr="history",
    )


def roadmap_phases(*, user, today: date | None = None) -> list[RoadmapPhase]:
    """The four phases with activity progress, activities (owner, the linked initiatives the
    user may see, ``is_overdue``) and indicators with their history: a fixed number of
    queries however many rows. Installs the default roadmap on first use."""
    today = today or timezone.localdate()
    if not RoadmapPhase.objects.exists():
        roadmap_install_defaults()
    visible = scope_initiatives(Initiative.objects.only("pk", "reference", "title"), user)
    activities = (
        activities_with_flags(today)
        .select_related("owner")
        .prefetch_related(Prefetch("initiatives", queryset=visible.order_by("reference")))
        .order_by("due_on", "pk")
    )
    indicators = SuccessIndicator.objects.prefetch_related(indicator_history(today)).order_by("key")
    return list(
        phases_with_progress().prefetch_related(
            Prefetch("activities", queryset=activities),
            Prefetch("indicators", queryset=indicators),
        )
    )


def phases_with_progress() -> QuerySet[RoadmapPhase]:
    """Phases annotated with ``activity_total`` and ``activity_done``."""
    return RoadmapPhase.objects.annotate(
        activity_total=Count("activities", distinct=True),
        activity_done=Count(
            "activities", filter=Q(activities__status=ActivityStatus.DONE), distinct=True
        ),
    ).order_by("number")


def roadmap_activity_list(*, user) -> QuerySet[RoadmapActivity]:
    """Every activity (the roadmap is organisation-wide), with the linked initiatives the
    user may see."""
    visible = scope_initiatives(Initiative.objects.only("pk", "reference", "title"), user)
    return (
        activities_with_flags(timezone.localdate())
        .select_related("phase", "owner")
        .prefetch_related(Prefetch("initiatives", queryset=visible.order_by("reference")))
        .order_by("phase__number", "due_on", "pk")
    )


def indicator_list(*, today: date | None = None) -> QuerySet[SuccessIndicator]:
    today = today or timezone.localdate()
    return (
        SuccessIndicator.objects.select_related("phase")
        .prefetch_related(indicator_history(today))
        .order_by("phase__number", "key")
    )


def indicators_for_metrics(keys, *, today: date | None = None) -> dict[str, SuccessIndicator]:
    """The indicators computed by ``keys`` with their recent history, by computation key."""
    today = today or timezone.localdate()
    found = SuccessIndicator.objects.filter(computed_by__in=list(keys)).prefetch_related(
        indicator_history(today)
    )
    return {indicator.computed_by: indicator for indicator in found}
