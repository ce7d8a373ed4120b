"""The dashboard's shapes and words: one dataclass per panel, the titles and the
definitions shown on the page, in tooltips and in the board pack."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.urls import reverse

from core.models import BusinessUnit
from inventory.finops import value as value_module
from inventory.finops.models import ChargebackLine
from inventory.usage import selectors as utilisation_module
from portfolio.scaling import metrics
from portfolio.scaling.metrics import MetricResult
from portfolio.scaling.selectors import Heatmap
from portfolio.scaling.services import HEATMAP_DEFINITION

# The period filter: how many months the trends and the approval cycle times cover, ending
# with the current month. The GPU spend "this month" is always the current calendar month.
PERIOD_CHOICES = ((3, "Last 3 months"), (6, "Last 6 months"), (12, "Last 12 months"))

DEFAULT_MONTHS = 6

TOP_RISKS_LIMIT = 10

ZERO = Decimal(0)

Kind = ChargebackLine.Kind

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
    "value": "Value against cost",
}

DEFINITIONS = {
    "funnel": (
        "Initiatives per stage, every stage in workflow order (draft, proposed, pilot, "
        "production, scaled, paused, retired, rejected), zeros included. "
        f"{metrics.COMMON_NOTE} (The initiative list behind each bar leaves them out "
        f"too.) {SCOPE_NOTE}"
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
        "initiatives) is shown apart and not in the units' totals: the sum of this month's "
        "orphaned chargeback lines, which its figure lists. "
        "Unused commitments: this month's cost of reservations and commitments paid for but "
        "not used (the imported FOCUS cost records of category idle commitment), both the part "
        "kept separate and the part shared out to units; its figure lists those chargeback "
        "lines. Idle allocations: what the GPU allocations found idle now cost per month (the "
        "monthly waste of the open and acknowledged idle findings: average activity below the "
        "idle threshold over the findings window), whatever month they started; its figure "
        "lists those findings. The two are different money and are never added up. A month whose "
        "chargeback has not been computed has no data; the running month counts the days "
        "held so far (its chargeback is recomputed nightly), not a forecast of the whole "
        "month. The total is the sum of the units "
        "shown. Business-unit readers see their own units' lines only."
    ),
    "utilisation": (
        "This month's average GPU activity while sampled, per business unit: "
        "Σ(average activity × samples) / Σ samples over the daily usage roll-ups of the "
        "unit's allocations (unattributed devices belong to no unit and are left out), "
        f"measured as {utilisation_module.ACTIVITY_METRIC}. It says how busy the GPUs were "
        "when sampled, not how much of the allocated time was used: the utilisation page "
        "shows GPU-hours used / allocated and the sample coverage beside it. The status "
        "compares the unrounded average with the target band (a target, not a measurement): "
        "below, in the band (ends included) or above; the figure shown carries enough "
        "decimals not to contradict it. Business-unit readers see their own units' "
        "allocations only."
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
    "value": value_module.VALUE_BY_DEFINITION,
}


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


# Every row with a ``url`` says what the list there adds up to, as ``reconcile``:
# ``("count", n)`` (its number of rows), ``("total", amount)`` (the sum it shows) or None for a
# link that is not a figure's drill-down (a detail page, an anchor, an average).
# tests/governance/reporting/test_dashboard_reconciliation.py follows every one.


@dataclass
class Count:
    """One bar or slice: a label, its count and the list behind it."""

    key: str  # the stage / tier / status value
    label: str
    count: int
    url: str

    @property
    def reconcile(self):
        """What the list at ``url`` adds up to (see the note above)."""
        return ("count", self.count)


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
    """``portfolio.scaling.metrics`` scaling gap and pilot→production conversion now, and a monthly
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

    @property
    def reconcile(self):
        return ("count", self.decided)  # the queue narrowed to the period's decisions


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

    @property
    def reconcile(self):
        return None if self.this_month is None else ("total", self.this_month)


@dataclass
class SpendPanel(Panel):
    """GPU chargeback per business unit (``ChargebackLine`` sums: direct + idle share +
    shared share + adjustments, as ``inventory.finops.selectors.chargeback_by_bu``)."""

    month: datetime.date | None = None
    currency: str = ""
    months: list[datetime.date] = field(default_factory=list)
    rows: list[SpendRow] = field(default_factory=list)
    total_this_month: Decimal | None = None
    total_trend: list[Decimal | None] = field(default_factory=list)
    # FOCUS unused commitments this month: the idle lines (kept separate + shared out)
    unused_commitments: Decimal | None = None
    orphaned: Decimal | None = None  # orphaned allocations' cost this month
    # The open (open or acknowledged) idle findings' monthly waste: allocations held idle now
    idle_allocations: Decimal | None = None
    total_url: str = ""  # the chargeback of this month (of the chosen unit, when one is)
    unused_commitments_url: str = ""
    orphaned_url: str = ""
    idle_allocations_url: str = ""

    def _columns(self):
        currency = f" ({self.currency})" if self.currency else ""
        return ["Business unit", *(f"{month:%Y-%m}{currency}" for month in self.months)]

    def _rows(self):
        blank = [""] * max(len(self.months) - 1, 0)
        rows = [(row.business_unit.name, *row.trend) for row in self.rows]
        rows.append(("Total of the units shown", *self.total_trend))
        if self.months:
            rows.append(("Unused commitments (this month)", *blank, self.unused_commitments))
            rows.append(("Orphaned cost (this month, not in the total)", *blank, self.orphaned))
            rows.append(
                ("Idle allocations (open findings, per month)", *blank, self.idle_allocations)
            )
        return rows


@dataclass
class UtilisationRowBU:
    business_unit: BusinessUnit
    activity_pct: float | None  # sample-weighted average activity this month, 0-100
    status: str  # inventory.usage.selectors band status key
    status_label: str
    url: str
    activity_text: str = ""  # the average as shown, never contradicting the status

    # A sample-weighted average, not a sum: the utilisation page shows it, not a list total.
    reconcile = None


@dataclass
class UtilisationPanel(Panel):
    band: tuple[float, float] = (70.0, 85.0)  # target band in %
    rows: list[UtilisationRowBU] = field(default_factory=list)

    def _columns(self):
        return [
            "Business unit",
            "Average activity while sampled (%)",
            "Target band (%)",
            "Status (unrounded average)",
        ]

    def _rows(self):
        low, high = self.band
        band = f"{low:g}–{high:g}"
        return [
            (
                row.business_unit.name,
                None if row.activity_pct is None else round(row.activity_pct, 4),
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

    reconcile = None  # an anchor on the roadmap page


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

    reconcile = None  # an anchor on the roadmap page


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

    reconcile = None  # the initiative's own page


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
    # Typed loosely: its class lives in governance.reporting.value_panel, which imports this.
    value: Panel | None = None

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
            *([self.value] if self.value is not None else []),
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
    "value",
)


def _url(name: str, *args, **params) -> str:
    """``reverse(name, args)`` with the non-empty ``params`` as a query string (lists as
    repeated keys)."""
    url = reverse(name, args=args)
    query = urlencode(
        {key: value for key, value in params.items() if value not in (None, "", [])},
        doseq=True,
    )
    return f"{url}?{query}" if query else url


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
