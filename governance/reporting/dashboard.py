"""The executive dashboard's figures: one read, defined once, used by the page, the CSV/XLSX
exports, the board-pack PDF and the benchmark.

``dashboard(user=..., filters=...)`` returns a :class:`Dashboard` of panels. Every panel

* is computed by SQL aggregation over the rows the reader may see (``scope_initiatives`` and
  the FinOps unit scoping), narrowed to ``filters.business_unit`` when one is chosen; no
  Python loop walks initiatives, requests or usage rows (only the handful of grouped rows a
  ``GROUP BY`` returns);
* carries its written ``definition`` (shown on the definitions page, anchored by ``key``),
  the ``drilldown_url`` of the filtered list of rows behind it, and a :class:`Table` with the
  same numbers, which the page shows behind a toggle and the exports write;
* says "no data" (``has_data`` False, values ``None``) when its data is not there yet,
  never a made-up zero.

The whole read is a fixed number of queries whatever the number of rows (target ≤ 13 with
the session and user; ``tests/governance/reporting/test_dashboard_figures.py`` pins it for 20 and
2,000 initiatives). The result is cached (``KEEL_DASHBOARD_CACHE_SECONDS``, default 300 s)
per reader scope and filters. The key includes the audit chain head's sequence
(``core.models.AuditChainHead.last_sequence``, one indexed read): every audited write
advances it, so a cached figure is never older than the last audited write, and never older
than the cache time for writes that are not audited (usage roll-ups, nightly refreshes).

The queries of one read (nine for an organisation-wide reader, seven for a BU lead):

1. the portfolio: funnel, scaling figures and their monthly trend, and the risk-tier mix, as
   conditional counts over one annotated initiative queryset
   (``portfolio.scaling.metrics.metric_counts``);
2. the top risks with their total (a window count over ``governance.risk.selectors.risk_register``);
3. approvals: in flight, overdue and the median cycle times (window functions);
4. GPU spend per unit and month (chargeback months left-joined to their lines), and the
   open idle findings' monthly waste ("Idle allocations");
5. utilisation per unit; 6–7. roadmap phases and indicators; 8. the barrier heatmap;
9. value against cost per unit, phase and currency (``governance.reporting.value_panel``).
"""

from __future__ import annotations

import datetime
import hashlib
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import (
    Case,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models import Count as SQLCount  # ``Count`` is the contract's dataclass
from django.db.models.functions import (
    Coalesce,
    Greatest,
    Least,
    NullIf,
    RowNumber,
    TruncDate,
)
from django.urls import reverse
from django.utils import timezone

from core.models import AuditChainHead, BusinessUnit
from core.periods import month_bounds, month_start
from core.permissions import can_view_dashboard as _can_view_dashboard
from core.permissions import reads_whole_organisation, visible_business_unit_ids
from governance.approvals.choices import OPEN_REQUEST_STATUSES, RequestStatus
from governance.approvals.models import ApprovalRequest
from governance.approvals.selectors import request_list
from governance.reporting.panels import (
    DEFAULT_MONTHS,
    DEFINITIONS,
    PANEL_KEYS,
    PERIOD_CHOICES,
    TITLES,
    TOP_RISKS_LIMIT,
    ApprovalsPanel,
    BarrierPanel,
    Count,
    CycleRow,
    Dashboard,
    DashboardFilters,
    FunnelPanel,
    IndicatorRow,
    PhaseRow,
    RiskMixPanel,
    RiskRow,
    RoadmapPanel,
    ScalingPanel,
    TopRisksPanel,
    TrendPoint,
    _panel,
    _unit_id,
    _url,
)
from governance.reporting.spend import _spend_panel, _utilisation_panel
from governance.reporting.value_panel import value_panel
from governance.risk.choices import Gate, Tier
from governance.risk.filtersets import UNASSESSED
from governance.risk.residual import RESIDUAL_DEFINITION
from governance.risk.selectors import current_assessment_value, risk_register
from inventory.usage import selectors as utilisation_columns
from portfolio.initiatives.choices import LIVE_STAGES, DeploymentStatus, Stage
from portfolio.initiatives.models import Deployment, Initiative, StageChange
from portfolio.initiatives.selectors import scope_initiatives
from portfolio.roadmap.choices import IndicatorDirection, PhaseStatus
from portfolio.roadmap.selectors import indicator_list, phases_with_progress
from portfolio.scaling import metrics
from portfolio.scaling.selectors import barrier_heatmap

# Counted as active by the risk mix and the top risks: the live stages (merged ones are
# retired, and left out as well).
ACTIVE_STAGES = LIVE_STAGES

# Stands for "never" in the reconstructed dates: later than any day asked about.
NEVER = datetime.date(9999, 12, 31)

DECIDED_STATUSES = (RequestStatus.APPROVED, RequestStatus.REJECTED)

DAY = datetime.timedelta(days=1)

TENTH = Decimal("0.1")


def can_view_dashboard(user) -> bool:
    """Executives, CoE staff and every other organisation-wide reader, and BU leads (who see
    their own units only)."""
    return bool(user is not None and user.is_authenticated and _can_view_dashboard(user))


NOT_YOURS = "You cannot see that business unit's figures."


def require_dashboard_reader(user) -> None:
    """``PermissionDenied`` for anyone who may not open the dashboard (the one gate of the
    page, its exports, the API and board packs; ``dashboard_filters`` calls it first)."""
    if not can_view_dashboard(user):
        raise PermissionDenied("You cannot see the executive dashboard.")


def dashboard_filters(*, user, params) -> DashboardFilters:
    """Parse ``?business_unit=<id>&months=<3|6|12>`` (a QueryDict or dict).

    A business unit the user may not read raises ``PermissionDenied`` ("You cannot see that
    business unit's figures.") and so does an unknown id (no way to probe which ids exist);
    a bad ``months`` raises ``ValidationError({"months": ...})``. A reader confined to one
    business unit (a BU lead or member of one unit) gets it as the filter by default.
    """
    require_dashboard_reader(user)
    raw_months = str(params.get("months") or DEFAULT_MONTHS).strip()
    allowed = dict(PERIOD_CHOICES)
    if not raw_months.isdigit() or int(raw_months) not in allowed:
        choices = ", ".join(str(value) for value in allowed)
        raise ValidationError({"months": f"Choose a period of {choices} months."})
    months = int(raw_months)

    visible = visible_business_unit_ids(user)
    raw_unit = str(params.get("business_unit") or "").strip()
    if not raw_unit:
        if visible is not None and len(visible) == 1:
            (only,) = visible
            return DashboardFilters(business_unit=BusinessUnit.objects.get(pk=only), months=months)
        return DashboardFilters(months=months)
    if not raw_unit.isdigit():
        raise PermissionDenied(NOT_YOURS)
    unit_id = int(raw_unit)
    if visible is not None and unit_id not in visible:
        raise PermissionDenied(NOT_YOURS)
    unit = BusinessUnit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise PermissionDenied(NOT_YOURS)
    return DashboardFilters(business_unit=unit, months=months)


def _months(today: datetime.date, count: int) -> list[datetime.date]:
    """First days of the ``count`` months ending with ``today``'s, oldest first."""
    return [month_start(today, back) for back in range(count - 1, -1, -1)]


def _as_of(month: datetime.date, today: datetime.date) -> datetime.date:
    """The day a month's trend point is taken: its last day, or today for this month."""
    return min(month_bounds(month)[1], today)


def _check_scope(user, filters: DashboardFilters) -> None:
    """The service-layer gate: only dashboard readers, and only units they may see."""
    require_dashboard_reader(user)
    visible = visible_business_unit_ids(user)
    unit_id = _unit_id(filters)
    if unit_id is not None and visible is not None and unit_id not in visible:
        raise PermissionDenied(NOT_YOURS)


def _date_or_never(expression):
    return Coalesce(expression, Value(NEVER), output_field=DateField())


def _first_moved_to(stages):
    """The day the initiative first moved to one of ``stages`` (stage history)."""
    return Subquery(
        StageChange.objects.filter(initiative=OuterRef("pk"), to_stage__in=list(stages))
        .order_by("changed_at", "pk")
        .annotate(day=TruncDate("changed_at"))
        .values("day")[:1],
        output_field=DateField(),
    )


def _reached_on(stages, *date_fields):
    """The first day the initiative was in one of ``stages``: the earliest of its first move
    there and its dates; with neither but in such a stage now, its registration day;
    ``NEVER`` when it has not reached them (the ``_reached`` rule of ``portfolio.scaling.metrics``,
    dated)."""
    recorded = Least(
        _date_or_never(_first_moved_to(stages)),
        *(_date_or_never(F(name)) for name in date_fields),
        output_field=DateField(),
    )
    registered = Case(
        When(stage__in=list(stages), then=TruncDate("created_at")),
        default=Value(NEVER),
        output_field=DateField(),
    )
    return Coalesce(NullIf(recorded, Value(NEVER)), registered, output_field=DateField())


def _production_deployment_days(own_unit: bool):
    """The initiative's production deployments' days (start date, else the day recorded) in
    its own unit or in the other units, earliest first."""
    deployments = Deployment.objects.filter(
        initiative=OuterRef("pk"), status=DeploymentStatus.PRODUCTION
    )
    if own_unit:
        deployments = deployments.filter(business_unit=OuterRef("business_unit"))
    else:
        deployments = deployments.exclude(business_unit=OuterRef("business_unit"))
    return (
        deployments.annotate(
            day=Coalesce("started_on", TruncDate("created_at"), output_field=DateField())
        )
        .order_by("day", "pk")
        .values("day")
    )


def with_history_dates(initiatives):
    """Annotate the days the trend reconstruction compares with each month's day (see the
    scaling definition): ``pilot_reached_on``, ``production_reached_on`` and
    ``two_units_on`` (the day a second business unit ran it in production), ``NEVER`` when
    not (yet) reached."""
    owner_on = Least(
        _reached_on(metrics.PRODUCTION_OR_BEYOND, "production_on"),
        _date_or_never(
            Subquery(_production_deployment_days(own_unit=True)[:1], output_field=DateField())
        ),
        output_field=DateField(),
    )
    others = _production_deployment_days(own_unit=False)
    first_other = _date_or_never(Subquery(others[:1], output_field=DateField()))
    second_other = _date_or_never(Subquery(others[1:2], output_field=DateField()))
    return initiatives.annotate(
        pilot_reached_on=_reached_on(metrics.PILOT_OR_BEYOND, "pilot_started_on", "production_on"),
        production_reached_on=_reached_on(metrics.PRODUCTION_OR_BEYOND, "production_on"),
        # The second earliest of {owner, first other, second other}, the others in order.
        two_units_on=Least(
            Greatest(owner_on, first_other, output_field=DateField()),
            second_other,
            output_field=DateField(),
        ),
    )


def _portfolio_counts(initiatives, as_of_days: list[datetime.date]) -> dict:
    active = Q(stage__in=ACTIVE_STAGES)
    extra = {f"stage_{stage}": SQLCount("pk", filter=Q(stage=stage)) for stage in Stage.values}
    extra.update(
        {f"tier_{tier}": SQLCount("pk", filter=active & Q(effective_tier=tier)) for tier in Tier}
    )
    extra["unassessed"] = SQLCount("pk", filter=active & Q(effective_tier__isnull=True))
    extra["active"] = SQLCount("pk", filter=active)
    for index, day in enumerate(as_of_days):
        pilot = Q(pilot_reached_on__lte=day)
        extra[f"pilot_{index}"] = SQLCount("pk", filter=pilot)
        extra[f"not_scaled_{index}"] = SQLCount("pk", filter=pilot & Q(two_units_on__gt=day))
        extra[f"converted_{index}"] = SQLCount(
            "pk", filter=pilot & Q(production_reached_on__lte=day)
        )
    annotated = with_history_dates(initiatives).annotate(
        effective_tier=Coalesce(
            current_assessment_value("override_tier"), current_assessment_value("computed_tier")
        )
    )
    # DISTINCT (a no-op: rows are initiatives) makes Django count over a subquery and keeps
    # PostgreSQL from pulling it up into the counts, which would evaluate every correlated
    # subquery again for each count that reads it.
    return metrics.metric_counts(annotated.distinct(), **extra)


def _portfolio_panels(*, user, filters, today, months):
    unit_id = _unit_id(filters)
    initiatives = scope_initiatives(Initiative.objects.all(), user)
    if unit_id is not None:
        initiatives = initiatives.filter(business_unit_id=unit_id)
    as_of_days = [_as_of(month, today) for month in months]
    counts = _portfolio_counts(initiatives, as_of_days)

    stages = [
        Count(
            stage.value,
            stage.label,
            counts[f"stage_{stage.value}"],
            _url(
                "portfolio:initiative_list",
                stage=stage.value,
                business_unit=unit_id,
                merged="false",
            ),
        )
        for stage in Stage
    ]
    total = counts["total"]
    funnel = FunnelPanel(
        **_panel(
            "funnel",
            _url("portfolio:initiative_list", business_unit=unit_id, merged="false"),
            bool(total),
        ),
        stages=stages,
        total=total,
    )

    gap = metrics.scaling_gap(initiatives, counts=counts)
    conversion = metrics.pilot_to_production_conversion(initiatives, counts=counts)
    trend = [
        TrendPoint(
            month,
            metrics.share(counts[f"not_scaled_{index}"], counts[f"pilot_{index}"]),
            metrics.share(counts[f"converted_{index}"], counts[f"pilot_{index}"]),
        )
        for index, month in enumerate(months)
    ]
    scaling = ScalingPanel(
        **_panel(
            "scaling",
            _url(
                "portfolio:scaling_members",
                metrics.SCALING_GAP,
                "denominator",
                business_unit=unit_id,
            ),
            gap.has_data,
        ),
        scaling_gap=gap,
        conversion=conversion,
        trend=trend,
        gap_url=_url(
            "portfolio:scaling_members", metrics.SCALING_GAP, "numerator", business_unit=unit_id
        ),
        conversion_url=_url(
            "portfolio:scaling_members", metrics.CONVERSION, "numerator", business_unit=unit_id
        ),
    )

    def register_url(tier):
        return _url(
            "governance:risk_register",
            tier=tier,
            stage=list(ACTIVE_STAGES),
            business_unit=unit_id,
        )

    tiers = [
        Count(str(tier.value), tier.label, counts[f"tier_{tier.value}"], register_url(tier.value))
        for tier in Tier
    ]
    risk_mix = RiskMixPanel(
        **_panel("risk-mix", register_url(None), bool(counts["active"])),
        tiers=tiers,
        unassessed=counts["unassessed"],
        unassessed_url=register_url(UNASSESSED),
    )
    return funnel, scaling, risk_mix


def _top_risks_panel(*, user, filters) -> TopRisksPanel:
    unit_id = _unit_id(filters)
    risks = risk_register(user=user).filter(
        merged_into__isnull=True, stage__in=ACTIVE_STAGES, effective_tier__gte=Tier.HIGH
    )
    if unit_id is not None:
        risks = risks.filter(business_unit_id=unit_id)
    # The window counts every matching row before the LIMIT: the total comes with the rows.
    found = list(
        risks.filter(controls_failing__gt=0)
        .annotate(matching=Window(SQLCount("pk")))
        .order_by("-effective_tier", "-controls_failing", "reference")[:TOP_RISKS_LIMIT]
    )
    rows = [
        RiskRow(
            initiative_id=initiative.pk,
            reference=initiative.reference,
            title=initiative.title,
            business_unit=initiative.business_unit.name,
            tier=initiative.effective_tier,
            tier_label=Tier(initiative.effective_tier).label,
            failing=initiative.controls_failing,
            url=reverse("portfolio:initiative_detail", args=[initiative.pk]),
        )
        for initiative in found
    ]
    total = found[0].matching if found else 0
    url = _url(
        "governance:risk_register",
        has_failing="true",
        min_tier=Tier.HIGH,
        stage=list(ACTIVE_STAGES),
        business_unit=unit_id,
        ordering="-tier",
    )
    return TopRisksPanel(**_panel("top-risks", url, bool(total)), rows=rows, total=total)


def _median(durations: list[datetime.timedelta]) -> Decimal:
    """Days, to 0.1, of the mean of the one or two middle durations."""
    microseconds = sum(duration // datetime.timedelta(microseconds=1) for duration in durations)
    days = Decimal(microseconds) / (Decimal(len(durations)) * Decimal(86_400_000_000))
    return days.quantize(TENTH, rounding=ROUND_HALF_UP)


def _one_if(condition: Q):
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def _approval_rows(requests, *, start: datetime.datetime, end: datetime.datetime, now):
    """The approvals panel's figures in one query on every database.

    Each visible request is numbered within its (decided in the period?, tier, gate) group by
    its duration; what comes back is the one or two middle requests of each decided group
    (``2 × position`` between the group size and the size + 2) with the group size, plus the
    first request of all, which carries the totals (requests, in flight, overdue) as
    windows over every visible request."""
    decided = Q(status__in=DECIDED_STATUSES, decided_at__gte=start, decided_at__lt=end)
    group = [F("is_decided"), F("tier"), F("gate")]
    # By id, not on ``request_list`` itself: its decision count is an aggregate, and window
    # functions may not sit beside one.
    return list(
        ApprovalRequest.objects.filter(pk__in=requests.values("pk"))
        .annotate(
            is_decided=_one_if(decided),
            duration=ExpressionWrapper(
                F("decided_at") - F("submitted_at"), output_field=DurationField()
            ),
        )
        .annotate(
            position=Window(RowNumber(), partition_by=group, order_by=[F("duration"), F("pk")]),
            size=Window(SQLCount("pk"), partition_by=group),
            first=Window(RowNumber(), order_by=[F("pk")]),
            total=Window(SQLCount("pk")),
            open_total=Window(Sum(_one_if(Q(status__in=sorted(OPEN_REQUEST_STATUSES))))),
            overdue_total=Window(
                Sum(_one_if(Q(status=RequestStatus.PENDING, step_due_at__lt=now)))
            ),
        )
        .annotate(doubled=F("position") * 2)
        .filter(Q(is_decided=1, doubled__gte=F("size"), doubled__lte=F("size") + 2) | Q(first=1))
        .order_by()
        .values(
            "is_decided",
            "tier",
            "gate",
            "size",
            "duration",
            "doubled",
            "total",
            "open_total",
            "overdue_total",
        )
    )


def _cycle_rows(rows, *, unit_id, since: datetime.date):
    """Median days to decision per (tier, gate) from ``_approval_rows``."""
    middle = [
        (row["tier"], row["gate"], row["size"], row["duration"])
        for row in rows
        if row["is_decided"] and row["size"] <= row["doubled"] <= row["size"] + 2
    ]
    groups: dict[tuple[int, str], list] = defaultdict(list)
    sizes: dict[tuple[int, str], int] = {}
    for tier, gate, size, duration in middle:
        groups[tier, gate].append(duration)
        sizes[tier, gate] = size
    gate_order = {value: index for index, value in enumerate(Gate.values)}
    rows = []
    for tier, gate in sorted(groups, key=lambda key: (key[0], gate_order.get(key[1], 99))):
        rows.append(
            CycleRow(
                tier=tier,
                tier_label=Tier(tier).label,
                gate=gate,
                gate_label=Gate(gate).label,
                decided=sizes[tier, gate],
                median_days=_median(groups[tier, gate]),
                url=_url(
                    "governance:queue",
                    scope="all",
                    tier=tier,
                    gate=gate,
                    decided_since=since.isoformat(),
                    business_unit=unit_id,
                ),
            )
        )
    return rows


def _approvals_panel(*, user, filters, months, today) -> ApprovalsPanel:
    unit_id = _unit_id(filters)
    requests = request_list(user=user)
    if unit_id is not None:
        requests = requests.filter(initiative__business_unit_id=unit_id)
    now = timezone.now()
    start = timezone.make_aware(datetime.datetime.combine(months[0], datetime.time()))
    end = min(now, timezone.make_aware(datetime.datetime.combine(today + DAY, datetime.time())))
    rows = _approval_rows(requests, start=start, end=end, now=now)
    totals = rows[0] if rows else {"total": 0, "open_total": 0, "overdue_total": 0}
    figures = {
        "requests": totals["total"],
        "in_flight": totals["open_total"] or 0,
        "overdue": totals["overdue_total"] or 0,
    }
    cycle = _cycle_rows(rows, unit_id=unit_id, since=months[0])
    return ApprovalsPanel(
        **_panel(
            "approvals",
            _url("governance:queue", scope="all", business_unit=unit_id),
            bool(figures["requests"]),
        ),
        in_flight=figures["in_flight"],
        overdue=figures["overdue"],
        in_flight_url=_url(
            "governance:queue", scope="all", in_flight="true", business_unit=unit_id
        ),
        overdue_url=_url("governance:queue", scope="all", overdue="true", business_unit=unit_id),
        cycle=cycle,
    )


def _indicator_status(value, target, direction) -> str:
    """Met when at or beyond the target in the indicator's direction (the roadmap page's
    rule); no data without a value or a target."""
    if value is None or target is None:
        return "no_data"
    if direction == IndicatorDirection.LOWER_IS_BETTER:
        return "met" if value <= target else "not_met"
    return "met" if value >= target else "not_met"


ROADMAP_ORGANISATION_ONLY = (
    "The roadmap and its indicators are organisation-wide figures, shown to executives and "
    "the AI CoE; the roadmap page has the phases and activities."
)


def _roadmap_panel(*, user, today) -> RoadmapPanel:
    index = reverse("roadmap:index")
    if not reads_whole_organisation(user):
        return RoadmapPanel(**_panel("roadmap", index, False), note=ROADMAP_ORGANISATION_ONLY)
    phases = [
        PhaseRow(
            number=phase.number,
            name=phase.name,
            status=phase.status,
            status_label=PhaseStatus(phase.status).label,
            done=phase.activity_done,
            total=phase.activity_total,
            url=f"{index}#phase-{phase.number}",
        )
        for phase in phases_with_progress()
    ]
    indicators = [
        IndicatorRow(
            key=indicator.key,
            name=indicator.name,
            phase_number=indicator.phase.number,
            unit=indicator.unit,
            value=indicator.current_value,
            target=indicator.target,
            status=_indicator_status(
                indicator.current_value, indicator.target, indicator.direction
            ),
            url=f"{index}#phase-{indicator.phase.number}",
        )
        # The history is not shown here: drop the list's prefetch.
        for indicator in indicator_list(today=today).prefetch_related(None)
    ]
    return RoadmapPanel(
        **_panel("roadmap", index, bool(phases)), phases=phases, indicators=indicators
    )


def _barrier_panel(*, user, filters) -> BarrierPanel:
    heatmap = barrier_heatmap(user=user, business_unit=_unit_id(filters))
    return BarrierPanel(
        **_panel("barriers", reverse("roadmap:barrier_heatmap"), not heatmap.is_empty),
        heatmap=heatmap,
    )


def dashboard_compute(*, user, filters: DashboardFilters) -> Dashboard:
    """Every panel, uncached: a fixed number of queries whatever the row counts."""
    _check_scope(user, filters)
    today = filters.today or timezone.localdate()
    months = _months(today, filters.months)
    funnel, scaling, risk_mix = _portfolio_panels(
        user=user, filters=filters, today=today, months=months
    )
    return Dashboard(
        filters=filters,
        generated_at=timezone.now(),
        funnel=funnel,
        scaling=scaling,
        risk_mix=risk_mix,
        approvals=_approvals_panel(user=user, filters=filters, months=months, today=today),
        spend=_spend_panel(user=user, filters=filters, months=months),
        utilisation=_utilisation_panel(user=user, filters=filters, today=today),
        roadmap=_roadmap_panel(user=user, today=today),
        top_risks=_top_risks_panel(user=user, filters=filters),
        barriers=_barrier_panel(user=user, filters=filters),
        value=value_panel(user=user, filters=filters, today=today),
    )


def cache_seconds() -> int:
    return int(getattr(settings, "KEEL_DASHBOARD_CACHE_SECONDS", 300))


def _cache_key(user, filters: DashboardFilters, today: datetime.date) -> str:
    visible = visible_business_unit_ids(user)
    scope = "all" if visible is None else ",".join(str(pk) for pk in sorted(visible))
    head = AuditChainHead.objects.filter(pk=1).values_list("last_sequence", flat=True).first() or 0
    parts = f"{scope}|{_unit_id(filters)}|{filters.months}|{today.isoformat()}|{head}"
    return "keel:dashboard:" + hashlib.sha256(parts.encode()).hexdigest()


def dashboard(*, user, filters: DashboardFilters) -> Dashboard:
    """``dashboard_compute`` through the cache (see the module docstring)."""
    seconds = cache_seconds()
    if seconds <= 0:
        return dashboard_compute(user=user, filters=filters)
    # Checked before the cache: a cached board is never handed to someone outside its scope.
    _check_scope(user, filters)
    today = filters.today or timezone.localdate()
    key = _cache_key(user, filters, today)
    board = cache.get(key)
    if board is None:
        board = dashboard_compute(user=user, filters=filters)
        cache.set(key, board, seconds)
    return board


# Figures defined once but shown outside the dashboard's panels (the risk register, the
# dossier, the API), listed on the definitions page after the panels.
OTHER_DEFINITIONS = (
    ("risk-scores", "Inherent and residual risk", RESIDUAL_DEFINITION),
    ("utilisation-columns", "GPU utilisation columns", utilisation_columns.COLUMN_DEFINITIONS),
)


def definitions() -> list[tuple[str, str, str]]:
    """``(key, title, definition)`` of every panel, for the definitions page."""
    return [(key, TITLES[key], DEFINITIONS[key]) for key in PANEL_KEYS]
