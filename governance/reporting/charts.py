"""The dashboard's charts, from a ``governance.reporting.dashboard.Dashboard`` to SVG: one module
used
by the web page and the board-pack PDF, so both draw exactly the same figures.

Contract: ``dashboard_charts(dashboard) -> dict[str, SafeString]`` with one entry per chart:
``funnel``, ``scaling-trend``, ``risk-mix``, ``approvals-cycle``, ``gpu-spend``,
``gpu-spend-trend``, ``utilisation``, ``roadmap``, ``barriers``. A chart whose panel has no
data is a small SVG that says "no data" (never an empty string). Built from ``core.charts``
primitives (accessible title, text values, no script, CSP-clean, WeasyPrint-safe).

The charts read only the dashboard (no request, no template context), so the PDF built in
a Celery task draws what the page shows. Labels link to the rows behind them (``Count.url``
and friends); in the PDF those links are inert text.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.utils.safestring import SafeString

from core import charts
from governance.reporting.panels import (
    ApprovalsPanel,
    BarrierPanel,
    Dashboard,
    FunnelPanel,
    RiskMixPanel,
    RoadmapPanel,
    ScalingPanel,
    SpendPanel,
    UtilisationPanel,
)
from inventory.usage.selectors import shown_percent_agrees
from portfolio.scaling.selectors import heatmap_chart
from portfolio.scaling.services import HEATMAP_TITLE

CHART_KEYS = (
    "funnel",
    "scaling-trend",
    "risk-mix",
    "approvals-cycle",
    "gpu-spend",
    "gpu-spend-trend",
    "utilisation",
    "roadmap",
    "barriers",
)

# Which charts illustrate which panel (by ``Panel.key``), in the order they are shown; the
# page and the board pack both lay their panels out with this.
PANEL_CHARTS = {
    "funnel": ("funnel",),
    "scaling": ("scaling-trend",),
    "risk-mix": ("risk-mix",),
    "approvals": ("approvals-cycle",),
    "gpu-spend": ("gpu-spend", "gpu-spend-trend"),
    "utilisation": ("utilisation",),
    "roadmap": ("roadmap",),
    "top-risks": (),
    "barriers": ("barriers",),
    "value": (),
}

# Tier 1 (minimal) to Tier 4 (unacceptable), then "unassessed"; the same hues as the tier
# badges of the stylesheet, dark enough to carry white separators.
TIER_COLOURS = {1: "#067647", 2: "#175cd3", 3: "#b54708", 4: "#b42318"}
UNASSESSED_COLOUR = "#98a2b3"


def month_label(month: datetime.date) -> str:
    """``2025-03-01 → "Mar 2025"``."""
    return f"{month:%b %Y}"


def money(value: Decimal | float | int | None, currency: str) -> str:
    """A whole amount with thousands separators and its currency, e.g. "12,346 EUR"."""
    if value is None:
        return "no data"
    whole = Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    text = f"{whole:,}"
    return f"{text} {currency}".strip()


def dashboard_charts(dashboard: Dashboard) -> dict[str, SafeString]:
    """Every chart of the dashboard as SVG, keyed as in the module docstring."""
    return {
        "funnel": funnel_chart(dashboard.funnel),
        "scaling-trend": scaling_trend_chart(dashboard.scaling),
        "risk-mix": risk_mix_chart(dashboard.risk_mix),
        "approvals-cycle": approvals_cycle_chart(dashboard.approvals),
        "gpu-spend": gpu_spend_chart(dashboard.spend),
        "gpu-spend-trend": gpu_spend_trend_chart(dashboard.spend),
        "utilisation": utilisation_chart(dashboard.utilisation),
        "roadmap": roadmap_chart(dashboard.roadmap),
        "barriers": barriers_chart(dashboard.barriers),
    }


def funnel_chart(panel: FunnelPanel) -> SafeString:
    title = "Portfolio funnel: initiatives per stage"
    if not panel.has_data or not panel.stages:
        return charts.no_data_chart(title)
    return charts.bar_chart(
        [(stage.label, stage.count) for stage in panel.stages],
        title=f"{title} ({panel.total} in all)",
        decimals=0,
        urls=[stage.url for stage in panel.stages],
    )


def scaling_trend_chart(panel: ScalingPanel) -> SafeString:
    title = "Scaling gap and pilot→production conversion by month"
    points = panel.trend
    if not any(
        value is not None for point in points for value in (point.scaling_gap, point.conversion)
    ):
        return charts.no_data_chart(title)
    return charts.multi_line_chart(
        title=title,
        labels=[month_label(point.month) for point in points],
        series=[
            ("Scaling gap", [point.scaling_gap for point in points]),
            ("Pilot→production conversion", [point.conversion for point in points]),
        ],
        unit="%",
        low=0,
        high=100,
    )


def risk_mix_chart(panel: RiskMixPanel) -> SafeString:
    title = "Risk-tier mix of active initiatives"
    if not panel.has_data:
        return charts.no_data_chart(title)
    items = [(tier.label, tier.count) for tier in panel.tiers]
    urls = [tier.url for tier in panel.tiers]
    colours = [TIER_COLOURS.get(_tier_number(tier.key), charts.BRAND) for tier in panel.tiers]
    items.append(("Unassessed", panel.unassessed))
    urls.append(panel.unassessed_url)
    colours.append(UNASSESSED_COLOUR)
    assessed = sum(tier.count for tier in panel.tiers)
    return charts.column_chart(
        items,
        title=f"{title}: {assessed} assessed, {panel.unassessed} unassessed",
        urls=urls,
        colours=colours,
    )


def _tier_number(key) -> int | None:
    try:
        return int(key)
    except (TypeError, ValueError):
        return None


def approvals_cycle_chart(panel: ApprovalsPanel) -> SafeString:
    title = "Median approval cycle time per tier and gate"
    if not panel.has_data or not panel.cycle:
        return charts.no_data_chart(title, message="no data: no decisions in the period")
    return charts.bar_chart(
        [(f"{row.tier_label} · {row.gate_label}", row.median_days) for row in panel.cycle],
        title=f"{title} (days from submission to decision)",
        unit="days",
        urls=[row.url for row in panel.cycle],
        notes=[f"{row.decided} decided" for row in panel.cycle],
    )


def gpu_spend_chart(panel: SpendPanel) -> SafeString:
    title = "GPU spend this month by business unit"
    rows = panel.rows
    if not panel.has_data or not rows or all(row.this_month is None for row in rows):
        return charts.no_data_chart(title)
    month = f" ({panel.month:%B %Y})" if panel.month else ""
    return charts.bar_chart(
        [(row.business_unit.name, row.this_month) for row in rows],
        title=f"{title}{month}: {money(panel.total_this_month, panel.currency)} in all",
        urls=[row.url for row in rows],
        value_format=lambda value: money(value, panel.currency),
    )


def gpu_spend_trend_chart(panel: SpendPanel) -> SafeString:
    title = "GPU spend by month and business unit"
    has_values = any(value is not None for row in panel.rows for value in row.trend)
    if not panel.has_data or not panel.months or not has_values:
        return charts.no_data_chart(title)
    return charts.stacked_column_chart(
        title=title,
        labels=[month_label(month) for month in panel.months],
        series=[(row.business_unit.name, row.trend) for row in panel.rows],
        totals=panel.total_trend or None,
        value_format=lambda value: money(value, panel.currency),
    )


def utilisation_chart(panel: UtilisationPanel) -> SafeString:
    low, high = panel.band
    title = (
        f"GPU activity this month by business unit against the "
        f"{charts.format_number(low)}–{charts.format_number(high)} % target band"
    )
    rows = panel.rows
    if not panel.has_data or not rows:
        return charts.no_data_chart(title)
    # A bar whose one-decimal figure would contradict its status note (69.96 % reads "70 %"
    # beside "below") writes it as the utilisation selectors do ("69.96 %").
    shown = {}
    for row in rows:
        if row.activity_pct is None or not row.activity_text:
            continue
        figure = Decimal(charts.format_number(row.activity_pct, 1))
        if not shown_percent_agrees(figure, row.status):
            shown[row.activity_pct] = row.activity_text
    return charts.bar_chart(
        [(row.business_unit.name, row.activity_pct) for row in rows],
        title=title,
        unit="%",
        max_value=100,
        value_format=lambda value: shown.get(value) or charts.format_number(value, 1, "%"),
        urls=[row.url for row in rows],
        # "No data" already reads as the value; the band status says where a value sits.
        notes=["" if row.activity_pct is None else row.status_label for row in rows],
        band=panel.band,
        width=640,
        band_label=(
            f"Target band {charts.format_number(low)}–{charts.format_number(high)} % "
            "(a target, not a measurement)"
        ),
    )


def roadmap_chart(panel: RoadmapPanel) -> SafeString:
    title = "Roadmap phase progress: activities done"
    if not panel.has_data or not panel.phases:
        return charts.no_data_chart(title)
    return charts.progress_chart(
        [
            (f"Phase {phase.number}: {phase.name}", phase.done, phase.total)
            for phase in panel.phases
        ],
        title=title,
        urls=[phase.url for phase in panel.phases],
        notes=[phase.status_label for phase in panel.phases],
    )


def barriers_chart(panel: BarrierPanel) -> SafeString:
    heatmap = panel.heatmap
    chart = heatmap_chart(heatmap) if panel.has_data and heatmap is not None else None
    return chart or charts.no_data_chart(HEATMAP_TITLE)
