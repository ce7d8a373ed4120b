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

The whole read is a fixed number of queries whatever the number of rows (target ≤ 12 with
the session and user; ``tests/governance/test_dashboard_figures.py`` pins it for 20 and
2,000 initiatives). The result is cached (``KEEL_DASHBOARD_CACHE_SECONDS``, default 300 s)
per reader scope and filters. The key includes the audit chain head's sequence
(``core.models.AuditChainHead.last_sequence``, one indexed read): every audited write
advances it, so a cached figure is never older than the last audited write, and never older
than the cache time for writes that are not audited (usage roll-ups, nightly refreshes).

The queries of one read (eight for an organisation-wide reader, six for a BU lead):

1. the portfolio: funnel, scaling figures and their monthly trend, and the risk-tier mix, as
   conditional counts over one annotated initiative queryset (``portfolio.metrics.metric_counts``);
2. the top risks with their total (a window count over ``governance.selectors.risk_register``);
3. approvals: in flight, overdue and the median cycle times (window functions);
4. GPU spend per unit and month (chargeback months left-joined to their lines);
5. utilisation per unit; 6–7. roadmap phases and indicators; 8. the barrier heatmap.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

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
from core.permissions import can_view_dashboard as _can_view_dashboard
from core.permissions import reads_whole_organisation, visible_business_unit_ids
from inventory import utilisation as utilisation_module
from inventory.choices import FindingKind
from inventory.models import ChargebackLine, ChargebackMonth
from inventory.periods import month_bounds, month_start
from portfolio import metrics
from portfolio.barriers import HEATMAP_DEFINITION, Heatmap, barrier_heatmap
from portfolio.choices import (
    ENDED_STAGES,
    DeploymentStatus,
    IndicatorDirection,
    PhaseStatus,
    Stage,
)
from portfolio.metrics import MetricResult
from portfolio.models import Deployment, Initiative, StageChange
from portfolio.roadmap import indicator_list, phases_with_progress
from portfolio.selectors import scope_initiatives

from .approval_selectors import request_list
from .choices import OPEN_REQUEST_STATUSES, Gate, RequestStatus, Tier
from .filtersets import UNASSESSED
from .models import ApprovalRequest
from .selectors import current_assessment_value, risk_register

# The period filter: how many months the trends and the approval cycle times cover, ending
# with the current month. The GPU spend "this month" is always the current calendar month.
PERIOD_CHOICES = ((3, "Last 3 months"), (6, "Last 6 months"), (12, "Last 12 months"))
DEFAULT_MONTHS = 6

TOP_RISKS_LIMIT = 10

# Not counted as active by the risk mix and the top risks (merged ones are retired, and
# left out as well).
INACTIVE_STAGES = (Stage.DRAFT, *sorted(ENDED_STAGES))
ACTIVE_STAGES = tuple(stage for stage in Stage.values if stage not in INACTIVE_STAGES)
# Stands for "never" in the reconstructed dates: later than any day asked about.
NEVER = datetime.date(9999, 12, 31)
DECIDED_STATUSES = (RequestStatus.APPROVED, RequestStatus.REJECTED)
DAY = datetime.timedelta(days=1)
TENTH = Decimal("0.1")
ZERO = Decimal(0)
Kind = ChargebackLine.Kind


# --------------------------------------------------------------------------------------------
# Definitions (the definitions page, the tooltips and the board pack say the same words)
# --------------------------------------------------------------------------------------------

SCOPE_NOTE = (
    "Counted over the initiatives you may see (organisation-wide readers: all of them; "
    "others: their business units' initiatives and those deployed to their units); with a "
    "business unit chosen, over the initiatives that unit owns."
)

TITLES = {
    "funnel": "Portfolio by stage",
    "scaling": "Scaling gap and pilot → production conversion",
    "risk-mix": "Risk-tier mix",
    "approvals": "Approvals",
    "gpu-spend": "GPU spend by business unit",
    "utilisation": "GPU utilisation by business unit",
    "roadmap": "Roadmap progress",
    "top-risks": "Top risks",
    "barriers": "Scaling barriers",
}

DEFINITIONS = {
    "funnel": (
        "Initiatives per stage, every stage in workflow order (draft, proposed, pilot, "
        "production, scaled, paused, retired, rejected), zeros included. "
        f"{metrics.COMMON_NOTE} (The initiative list behind each bar still shows merged "
        f"ones, as retired.) {SCOPE_NOTE}"
    ),
    "scaling": (
        f"Scaling gap: {metrics.SCALING_GAP_DEFINITION} "
        f"Pilot → production conversion: {metrics.CONVERSION_DEFINITION} "
        f"{metrics.COMMON_NOTE} {SCOPE_NOTE} "
        "Trend: each month's figures as of its last day (the current month as of today), "
        "reconstructed from the stage history and the dates. An initiative had reached pilot "
        "by a day when it moved to pilot or beyond on or before that day, or its pilot start "
        "or production date is on or before it; it had reached production when it moved to "
        "production or scaled, or its production date is on or before it; one in such a "
        "stage now with no move or date on record counts from its registration day. It was "
        "in production in at least two business units by a day when two units ran it by "
        "then: every deployment whose status is Production counts from its start date (else "
        "the day it was recorded), and the owning unit counts from the day the initiative "
        "reached production (or its own unit's production deployment started). Deployment "
        "status changes are not kept, and an owning unit stays counted after a pause or "
        "retirement, so the current month's point can differ from the figure for today, "
        "which counts only what is live now."
    ),
    "risk-mix": (
        "Active initiatives (not draft, retired, rejected or merged) per effective risk "
        "tier: the risk officer's override where there is one, else the tier computed by "
        "the current risk assessment (the newest completed one). Unassessed: active "
        f"initiatives without a current assessment. {SCOPE_NOTE}"
    ),
    "approvals": (
        "In flight: approval requests pending a decision or returned for changes. Overdue: "
        "pending requests whose current step is past its due time (its SLA) now. Median "
        "cycle time, per tier and gate: the median number of days from a request's "
        "submission to its final decision (approved or rejected), over the requests decided "
        "in the period (from the first day of its first month until now); with an even "
        "count, the mean of the two middle values; rounded to 0.1 day. Withdrawn requests "
        "are not decisions and are left out. Requests about the initiatives you may see; "
        "with a business unit chosen, about the initiatives that unit owns."
    ),
    "gpu-spend": (
        "GPU chargeback per business unit and month: the sum of the unit's chargeback lines "
        "(direct cost, its share of idle cost, its share of shared cost, and credits, tax "
        "and corrections), as on the chargeback page. Orphaned cost (allocations of ended "
        "initiatives) is shown apart and not in the units' totals. Idle: this month's idle "
        "cost, both the part kept separate and the part shared out to units. A month whose "
        "chargeback has not been computed has no data; the running month counts the days "
        "held so far (its chargeback is recomputed nightly), not a forecast of the whole "
        "month. The total is the sum of the units "
        "shown. Business-unit readers see their own units' lines only."
    ),
    "utilisation": (
        "This month's average GPU activity per business unit: "
        "Σ(average activity × samples) / Σ samples over the daily usage roll-ups of the "
        "unit's allocations (unattributed devices belong to no unit and are left out), "
        f"measured as {utilisation_module.ACTIVITY_METRIC}. The status compares the "
        "average, rounded to 0.01 %, with the target band (a target, not a measurement): "
        "below, in the band (ends included) or above. Business-unit readers see their own "
        "units' allocations only."
    ),
    "roadmap": (
        "The enterprise scaling programme: each phase's status and how many of its "
        "activities are done, and each success indicator's current value against its "
        "target (met when at or above it, or at or below it for indicators where lower is "
        "better; no data without a value or a target). The roadmap and its indicators are "
        "organisation-wide figures, not narrowed by the business-unit filter, so they are "
        "shown to organisation-wide readers only: a business-unit lead sees this panel "
        "empty, and the roadmap page itself."
    ),
    "top-risks": (
        "Active Tier 3 and Tier 4 initiatives (effective tier) with at least one required "
        "control failing or waived past its waiver's expiry, worst first: highest tier, then "
        f"most failing controls, then reference; the first {TOP_RISKS_LIMIT} are listed and "
        f"the total says how many there are. {SCOPE_NOTE}"
    ),
    "barriers": (
        f"{HEATMAP_DEFINITION} With a business unit chosen, only that unit's initiatives. "
        "Counted over the initiatives you may see."
    ),
}


# --------------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardFilters:
    """What the reader asked for, validated against what they may see."""

    business_unit: BusinessUnit | None = None  # None: every unit the reader may see
    months: int = DEFAULT_MONTHS
    today: datetime.date | None = None  # None: timezone.localdate() when computed

    def label(self) -> str:
        """The filters in words, e.g. "Retail Banking (RETAIL) · last 6 months"."""
        unit = self.business_unit
        scope = f"{unit.name} ({unit.code})" if unit else "All business units you can see"
        return f"{scope} · last {self.months} months"

    def query(self) -> dict:
        """As GET parameters (``business_unit`` id, ``months``), for links and exports."""
        params = {}
        if self.business_unit is not None:
            params["business_unit"] = str(self.business_unit.pk)
        params["months"] = str(self.months)
        return params


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


# --------------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------------


@dataclass
class Table:
    """A panel's numbers as rows: what the toggle shows and CSV/XLSX exports write.

    Cells are plain values (str, int, Decimal, date or None for "no data")."""

    key: str  # the panel key, used in export URLs: /dashboard/export/<key>.csv
    title: str
    columns: list[str]
    rows: list[tuple]


@dataclass
class Panel:
    key: str
    title: str
    definition: str
    drilldown_url: str
    has_data: bool

    def table(self) -> Table:
        return Table(self.key, self.title, self._columns(), self._rows())

    def _columns(self) -> list[str]:
        return []

    def _rows(self) -> list[tuple]:
        return []


@dataclass
class Count:
    """One bar or slice: a label, its count and the list behind it."""

    key: str  # the stage / tier / status value
    label: str
    count: int
    url: str


@dataclass
class FunnelPanel(Panel):
    """Initiatives per stage (every stage in workflow order, zeros included), merged ones
    left out; ``total`` is their sum."""

    stages: list[Count] = field(default_factory=list)
    total: int = 0

    def _columns(self):
        return ["Stage", "Initiatives"]

    def _rows(self):
        return [(stage.label, stage.count) for stage in self.stages] + [("Total", self.total)]


@dataclass
class TrendPoint:
    month: datetime.date  # first day of the month
    scaling_gap: Decimal | None  # % as of the month's last day (or today for this month)
    conversion: Decimal | None


@dataclass
class ScalingPanel(Panel):
    """``portfolio.metrics`` scaling gap and pilot→production conversion now, and a monthly
    trend over the period reconstructed from stage history and dates."""

    scaling_gap: MetricResult | None = None
    conversion: MetricResult | None = None
    trend: list[TrendPoint] = field(default_factory=list)
    gap_url: str = ""
    conversion_url: str = ""

    def _columns(self):
        return [
            "As of",
            "Scaling gap (%)",
            "Pilot → production conversion (%)",
            "Reached pilot",
        ]

    def _rows(self):
        gap, conversion = self.scaling_gap, self.conversion
        rows = [
            (
                "Today",
                gap.value if gap else None,
                conversion.value if conversion else None,
                gap.denominator if gap else None,
            )
        ]
        rows += [(point.month, point.scaling_gap, point.conversion, None) for point in self.trend]
        return rows


@dataclass
class RiskMixPanel(Panel):
    """Active initiatives (not draft, retired, rejected or merged) per effective tier
    (override else computed tier of the current assessment); ``unassessed`` have none."""

    tiers: list[Count] = field(default_factory=list)  # Tier 1..4, zeros included
    unassessed: int = 0
    unassessed_url: str = ""

    def _columns(self):
        return ["Effective tier", "Active initiatives"]

    def _rows(self):
        return [(tier.label, tier.count) for tier in self.tiers] + [("Unassessed", self.unassessed)]


@dataclass
class CycleRow:
    tier: int
    tier_label: str
    gate: str
    gate_label: str
    decided: int  # requests decided (approved or rejected) in the period
    median_days: Decimal | None  # median days from submission to decision, 1 decimal
    url: str


@dataclass
class ApprovalsPanel(Panel):
    in_flight: int = 0  # pending or changes requested
    overdue: int = 0  # pending with the current step past its due time
    in_flight_url: str = ""
    overdue_url: str = ""
    cycle: list[CycleRow] = field(default_factory=list)  # tier, gate order; only decided > 0

    def _columns(self):
        return ["Figure", "Tier", "Gate", "Requests", "Median days to decision"]

    def _rows(self):
        rows = [
            ("In flight", "", "", self.in_flight, None),
            ("Overdue", "", "", self.overdue, None),
        ]
        rows += [
            ("Decided in the period", row.tier_label, row.gate_label, row.decided, row.median_days)
            for row in self.cycle
        ]
        return rows


@dataclass
class SpendRow:
    business_unit: BusinessUnit
    this_month: Decimal | None  # None: no chargeback computed for the month
    trend: list[Decimal | None]  # one per month of the period, oldest first
    url: str


@dataclass
class SpendPanel(Panel):
    """GPU chargeback per business unit (``ChargebackLine`` sums: direct + idle share +
    shared share + adjustments, as ``inventory.finops_selectors.chargeback_by_bu``)."""

    month: datetime.date | None = None
    currency: str = ""
    months: list[datetime.date] = field(default_factory=list)
    rows: list[SpendRow] = field(default_factory=list)
    total_this_month: Decimal | None = None
    total_trend: list[Decimal | None] = field(default_factory=list)
    idle: Decimal | None = None  # idle cost this month (kept separate + shared out)
    orphaned: Decimal | None = None  # orphaned allocations' cost this month
    idle_url: str = ""
    orphaned_url: str = ""

    def _columns(self):
        currency = f" ({self.currency})" if self.currency else ""
        return ["Business unit", *(f"{month:%Y-%m}{currency}" for month in self.months)]

    def _rows(self):
        blank = [""] * max(len(self.months) - 1, 0)
        rows = [(row.business_unit.name, *row.trend) for row in self.rows]
        rows.append(("Total of the units shown", *self.total_trend))
        if self.months:
            rows.append(("Idle cost (this month)", *blank, self.idle))
            rows.append(("Orphaned cost (this month, not in the total)", *blank, self.orphaned))
        return rows


@dataclass
class UtilisationRowBU:
    business_unit: BusinessUnit
    activity_pct: float | None  # sample-weighted average activity this month, 0-100
    status: str  # inventory.utilisation band status key
    status_label: str
    url: str


@dataclass
class UtilisationPanel(Panel):
    band: tuple[float, float] = (70.0, 85.0)  # target band in %
    rows: list[UtilisationRowBU] = field(default_factory=list)

    def _columns(self):
        return ["Business unit", "Average activity (%)", "Target band (%)", "Status"]

    def _rows(self):
        low, high = self.band
        band = f"{low:g}–{high:g}"
        return [
            (
                row.business_unit.name,
                None if row.activity_pct is None else round(row.activity_pct, 2),
                band,
                row.status_label,
            )
            for row in self.rows
        ]


@dataclass
class PhaseRow:
    number: int
    name: str
    status: str
    status_label: str
    done: int
    total: int
    url: str


@dataclass
class IndicatorRow:
    key: str
    name: str
    phase_number: int
    unit: str
    value: Decimal | None
    target: Decimal | None
    status: str  # "met", "not_met" or "no_data"
    url: str


INDICATOR_STATUS_LABELS = {"met": "Met", "not_met": "Not met", "no_data": "No data"}


@dataclass
class RoadmapPanel(Panel):
    phases: list[PhaseRow] = field(default_factory=list)
    indicators: list[IndicatorRow] = field(default_factory=list)
    note: str = ""  # why the panel is empty, when it is empty on purpose

    def _columns(self):
        return ["Item", "Phase", "Name", "Status", "Done / value", "Total / target"]

    def _rows(self):
        rows = [
            ("Phase", phase.number, phase.name, phase.status_label, phase.done, phase.total)
            for phase in self.phases
        ]
        rows += [
            (
                "Indicator",
                indicator.phase_number,
                indicator.name,
                INDICATOR_STATUS_LABELS[indicator.status],
                indicator.value,
                indicator.target,
            )
            for indicator in self.indicators
        ]
        return rows


@dataclass
class RiskRow:
    initiative_id: int
    reference: str
    title: str
    business_unit: str
    tier: int
    tier_label: str
    failing: int  # required controls failing (or with an expired waiver)
    url: str


@dataclass
class TopRisksPanel(Panel):
    """Tier 3–4 initiatives with failing controls, worst first (tier, then failing count)."""

    rows: list[RiskRow] = field(default_factory=list)
    total: int = 0  # how many such initiatives in all (the list shows at most 10)

    def _columns(self):
        return ["Reference", "Title", "Business unit", "Tier", "Failing controls"]

    def _rows(self):
        return [
            (row.reference, row.title, row.business_unit, row.tier_label, row.failing)
            for row in self.rows
        ]


@dataclass
class BarrierPanel(Panel):
    heatmap: Heatmap | None = None

    def _columns(self):
        labels = [label for _, label in self.heatmap.barriers] if self.heatmap else []
        return ["Business unit", *labels]

    def _rows(self):
        if self.heatmap is None or self.heatmap.is_empty:
            return []
        rows = [*self.heatmap.rows, self.heatmap.overall]
        return [(row.name, *(cell.average for cell in row.cells)) for row in rows]


@dataclass
class Dashboard:
    filters: DashboardFilters
    generated_at: datetime.datetime
    funnel: FunnelPanel
    scaling: ScalingPanel
    risk_mix: RiskMixPanel
    approvals: ApprovalsPanel
    spend: SpendPanel
    utilisation: UtilisationPanel
    roadmap: RoadmapPanel
    top_risks: TopRisksPanel
    barriers: BarrierPanel

    @property
    def panels(self) -> list[Panel]:
        return [
            self.funnel,
            self.scaling,
            self.risk_mix,
            self.approvals,
            self.spend,
            self.utilisation,
            self.roadmap,
            self.top_risks,
            self.barriers,
        ]

    def panel(self, key: str) -> Panel:
        """The panel with this key; ``KeyError`` for an unknown one."""
        for panel in self.panels:
            if panel.key == key:
                return panel
        raise KeyError(key)


PANEL_KEYS = (
    "funnel",
    "scaling",
    "risk-mix",
    "approvals",
    "gpu-spend",
    "utilisation",
    "roadmap",
    "top-risks",
    "barriers",
)


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _url(name: str, *args, **params) -> str:
    """``reverse(name, args)`` with the non-empty ``params`` as a query string (lists as
    repeated keys)."""
    url = reverse(name, args=args)
    query = urlencode(
        {key: value for key, value in params.items() if value not in (None, "", [])},
        doseq=True,
    )
    return f"{url}?{query}" if query else url


def _months(today: datetime.date, count: int) -> list[datetime.date]:
    """First days of the ``count`` months ending with ``today``'s, oldest first."""
    return [month_start(today, back) for back in range(count - 1, -1, -1)]


def _as_of(month: datetime.date, today: datetime.date) -> datetime.date:
    """The day a month's trend point is taken: its last day, or today for this month."""
    return min(month_bounds(month)[1], today)


def _panel(key: str, drilldown_url: str, has_data: bool) -> dict:
    return {
        "key": key,
        "title": TITLES[key],
        "definition": DEFINITIONS[key],
        "drilldown_url": drilldown_url,
        "has_data": has_data,
    }


def _unit_id(filters: DashboardFilters) -> int | None:
    return filters.business_unit.pk if filters.business_unit is not None else None


def _check_scope(user, filters: DashboardFilters) -> None:
    """The service-layer gate: only dashboard readers, and only units they may see."""
    require_dashboard_reader(user)
    visible = visible_business_unit_ids(user)
    unit_id = _unit_id(filters)
    if unit_id is not None and visible is not None and unit_id not in visible:
        raise PermissionDenied(NOT_YOURS)


# --------------------------------------------------------------------------------------------
# 1. The portfolio: funnel, scaling (now and the trend) and the risk mix, in one query
# --------------------------------------------------------------------------------------------


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
    ``NEVER`` when it has not reached them (the ``_reached`` rule of ``portfolio.metrics``,
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
            _url("portfolio:initiative_list", stage=stage.value, business_unit=unit_id),
        )
        for stage in Stage
    ]
    total = counts["total"]
    funnel = FunnelPanel(
        **_panel("funnel", _url("portfolio:initiative_list", business_unit=unit_id), bool(total)),
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


# --------------------------------------------------------------------------------------------
# 2. Top risks
# --------------------------------------------------------------------------------------------


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
        stage=list(ACTIVE_STAGES),
        business_unit=unit_id,
        ordering="-tier",
    )
    return TopRisksPanel(**_panel("top-risks", url, bool(total)), rows=rows, total=total)


# --------------------------------------------------------------------------------------------
# 3–4. Approvals
# --------------------------------------------------------------------------------------------


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


def _cycle_rows(rows, *, unit_id):
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
                    "governance:queue", scope="all", tier=tier, gate=gate, business_unit=unit_id
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
    cycle = _cycle_rows(rows, unit_id=unit_id)
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


# --------------------------------------------------------------------------------------------
# 5. GPU spend
# --------------------------------------------------------------------------------------------


def _visible_line(field_name: str, visible: Q | None):
    """A chargeback line's column, NULL for a line outside the reader's units."""
    column = F(f"lines__{field_name}")
    return column if visible is None else Case(When(visible, then=column), default=None)


def _spend_panel(*, user, filters, months) -> SpendPanel:
    """One query: the period's computed chargeback months left-joined to their lines,
    summed per month, unit and kind. Lines outside the reader's units are masked in SQL (a
    NULL unit, kind and amount: no other unit's id, name or figure leaves the database),
    which keeps a computed month with no visible line ("0", not "no data")."""
    unit_id = _unit_id(filters)
    allowed = visible_business_unit_ids(user) if unit_id is None else {unit_id}
    visible = None if allowed is None else Q(lines__business_unit_id__in=sorted(allowed))
    this_month = months[-1]
    grouped = (
        ChargebackMonth.objects.filter(
            month__gte=months[0], month__lte=this_month, computed_at__isnull=False
        )
        .annotate(
            line_unit=_visible_line("business_unit_id", visible),
            line_unit_name=_visible_line("business_unit__name", visible),
            line_unit_code=_visible_line("business_unit__code", visible),
            line_kind=_visible_line("kind", visible),
        )
        .values("month", "currency", "line_unit", "line_unit_name", "line_unit_code", "line_kind")
        .annotate(amount=Sum("lines__amount", filter=visible))
        .order_by()
    )
    computed: dict[datetime.date, str] = {}
    totals: dict[tuple[int, datetime.date], Decimal] = defaultdict(Decimal)
    units: dict[int, BusinessUnit] = {}
    idle = orphaned = ZERO
    for entry in grouped:
        month = entry["month"]
        computed[month] = entry["currency"]
        kind, amount = entry["line_kind"], entry["amount"] or ZERO
        unit = entry["line_unit"]
        if month == this_month and kind in (Kind.IDLE, Kind.IDLE_SHARE):
            idle += amount
        if month == this_month and kind == Kind.ORPHANED:
            orphaned += amount
        if unit is None or kind is None or kind == Kind.ORPHANED:
            continue
        # As chargeback_by_bu: every line of a unit but orphaned cost is in its total.
        units.setdefault(
            unit,
            BusinessUnit(
                pk=unit,
                name=entry["line_unit_name"],
                code=entry["line_unit_code"],
            ),
        )
        totals[unit, month] += amount
    if filters.business_unit is not None and computed:
        units.setdefault(filters.business_unit.pk, filters.business_unit)

    def value(unit: int, month: datetime.date) -> Decimal | None:
        return totals.get((unit, month), ZERO) if month in computed else None

    latest = max(computed) if computed else None
    rows = [
        SpendRow(
            business_unit=business_unit,
            this_month=value(business_unit.pk, this_month),
            trend=[value(business_unit.pk, month) for month in months],
            url=reverse("inventory:chargeback_bu", args=[f"{latest:%Y-%m}", business_unit.pk]),
        )
        for business_unit in sorted(units.values(), key=lambda unit: (unit.name, unit.pk))
    ]
    total_trend = [
        sum((totals.get((unit, month), ZERO) for unit in units), ZERO)
        if month in computed
        else None
        for month in months
    ]
    has_this_month = this_month in computed
    finding_filters = {"status": "active", "business_unit": unit_id}
    return SpendPanel(
        **_panel(
            "gpu-spend",
            _url("inventory:chargeback", month=f"{(latest or this_month):%Y-%m}"),
            bool(computed),
        ),
        month=this_month,
        currency=computed.get(this_month) or (computed[latest] if latest else ""),
        months=list(months),
        rows=rows,
        total_this_month=total_trend[-1],
        total_trend=total_trend,
        idle=idle if has_this_month else None,
        orphaned=orphaned if has_this_month else None,
        idle_url=_url("inventory:finding_list", kind=FindingKind.IDLE, **finding_filters),
        orphaned_url=_url("inventory:finding_list", kind=FindingKind.ORPHANED, **finding_filters),
    )


# --------------------------------------------------------------------------------------------
# 6. Utilisation
# --------------------------------------------------------------------------------------------


def _utilisation_panel(*, user, filters, today) -> UtilisationPanel:
    unit_id = _unit_id(filters)
    start = month_start(today)
    found = utilisation_module.activity_by_business_unit(
        actor=user, start=start, end=today, business_unit=unit_id
    )
    if filters.business_unit is not None and not found:
        found = [
            utilisation_module.BusinessUnitActivity(
                filters.business_unit, 0, None, utilisation_module.STATUS_NO_DATA
            )
        ]
    period = {"start": start.isoformat(), "end": today.isoformat()}
    rows = [
        UtilisationRowBU(
            business_unit=entry.business_unit,
            activity_pct=entry.avg_activity_pct,
            status=entry.status,
            status_label=entry.status_label,
            url=_url("inventory:utilisation", bu=entry.business_unit.pk, **period),
        )
        for entry in found
    ]
    low, high = utilisation_module.target_band()
    return UtilisationPanel(
        **_panel(
            "utilisation",
            _url("inventory:utilisation", bu=unit_id, **period),
            any(entry.samples for entry in found),
        ),
        band=(low * 100, high * 100),
        rows=rows,
    )


# --------------------------------------------------------------------------------------------
# 7–8. The roadmap
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# 9. Barriers
# --------------------------------------------------------------------------------------------


def _barrier_panel(*, user, filters) -> BarrierPanel:
    heatmap = barrier_heatmap(user=user, business_unit=_unit_id(filters))
    return BarrierPanel(
        **_panel("barriers", reverse("roadmap:barrier_heatmap"), not heatmap.is_empty),
        heatmap=heatmap,
    )


# --------------------------------------------------------------------------------------------
# The read
# --------------------------------------------------------------------------------------------


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


def definitions() -> list[tuple[str, str, str]]:
    """``(key, title, definition)`` of every panel, for the definitions page."""
    return [(key, TITLES[key], DEFINITIONS[key]) for key in PANEL_KEYS]
