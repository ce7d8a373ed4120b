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
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from core.models import BusinessUnit
from portfolio.barriers import Heatmap
from portfolio.metrics import MetricResult

# The period filter: how many months the trends and the approval cycle times cover, ending
# with the current month. The GPU spend "this month" is always the current calendar month.
PERIOD_CHOICES = ((3, "Last 3 months"), (6, "Last 6 months"), (12, "Last 12 months"))
DEFAULT_MONTHS = 6

TOP_RISKS_LIMIT = 10


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
        """The filters in words, e.g. "Retail Banking (RB) · last 6 months"."""
        raise NotImplementedError

    def query(self) -> dict:
        """As GET parameters (``business_unit`` id, ``months``), for links and exports."""
        raise NotImplementedError


def can_view_dashboard(user) -> bool:
    """Executives, CoE staff and every other organisation-wide reader, and BU leads (who see
    their own units only)."""
    raise NotImplementedError


def dashboard_filters(*, user, params) -> DashboardFilters:
    """Parse ``?business_unit=<id>&months=<3|6|12>`` (a QueryDict or dict).

    A business unit the user may not read raises ``PermissionDenied`` ("You cannot see that
    business unit's figures.") and so does an unknown id (no way to probe which ids exist);
    a bad ``months`` raises ``ValidationError({"months": ...})``. A reader confined to one
    business unit (a BU lead or member of one unit) gets it as the filter by default.
    """
    raise NotImplementedError


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
        raise NotImplementedError


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


@dataclass
class RiskMixPanel(Panel):
    """Active initiatives (not draft, retired, rejected or merged) per effective tier
    (override else computed tier of the current assessment); ``unassessed`` have none."""

    tiers: list[Count] = field(default_factory=list)  # Tier 1..4, zeros included
    unassessed: int = 0
    unassessed_url: str = ""


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


@dataclass
class RoadmapPanel(Panel):
    phases: list[PhaseRow] = field(default_factory=list)
    indicators: list[IndicatorRow] = field(default_factory=list)


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


@dataclass
class BarrierPanel(Panel):
    heatmap: Heatmap | None = None


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
# The read
# --------------------------------------------------------------------------------------------


def dashboard_compute(*, user, filters: DashboardFilters) -> Dashboard:
    """Every panel, uncached: a fixed number of queries whatever the row counts."""
    raise NotImplementedError


def dashboard(*, user, filters: DashboardFilters) -> Dashboard:
    """``dashboard_compute`` through the cache (see the module docstring)."""
    raise NotImplementedError


def definitions() -> list[tuple[str, str, str]]:
    """``(key, title, definition)`` of every panel, for the definitions page."""
    raise NotImplementedError
