"""The dashboard's value panel: the portfolio's value per year against its cost per year, by
business unit and by roadmap phase, with ROI (``inventory.finops.value`` defines every
figure), and how many active initiatives cost something without evidenced value."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from governance.reporting.panels import DEFINITIONS, TITLES, Panel, _unit_id, _url
from inventory.finops import value as value_module
from portfolio.initiatives.models import Initiative
from portfolio.initiatives.selectors import scope_initiatives

TITLE = TITLES["value"]
DEFINITION = DEFINITIONS["value"]

CENT = Decimal("0.01")


@dataclass
class ValueRow:
    label: str  # the unit's name or "Phase N" / "No phase"
    currency: str
    initiatives: int
    value: Decimal
    run_cost: Decimal
    gpu_cost: Decimal
    cost: Decimal
    without_evidence: int
    url: str  # the initiatives of the row with cost but no value evidence

    @property
    def reconcile(self):
        # The list behind the row: its initiatives with cost but no value evidence.
        return ("count", self.without_evidence)

    @property
    def roi(self) -> Decimal | None:
        return value_module.roi_percent(self.value, self.cost)


@dataclass
class ValuePanel(Panel):
    by_unit: list[ValueRow] = field(default_factory=list)
    by_phase: list[ValueRow] = field(default_factory=list)
    totals: list[ValueRow] = field(default_factory=list)  # one per currency
    without_evidence: int = 0
    without_evidence_url: str = ""

    def _columns(self):
        return [
            "Grouping",
            "Name (currency)",
            "Initiatives",
            "Value / yr",
            "GPU cost",
            "Cost / yr",
            "ROI (%)",
            "No evidence",
        ]

    def _rows(self):
        groups = (("Business unit", self.by_unit), ("Roadmap phase", self.by_phase))
        groups += (("Total", self.totals),)
        return [
            (
                grouping,
                f"{row.label} ({row.currency})",
                row.initiatives,
                row.value,
                row.gpu_cost,
                row.cost,
                row.roi,
                row.without_evidence,
            )
            for grouping, rows in groups
            for row in rows
        ]


def _money(amount: Decimal) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def _row(label: str, currency: str, rows: list[dict], url: str) -> ValueRow:
    return ValueRow(
        label=label,
        currency=currency,
        initiatives=sum(row["initiatives"] for row in rows),
        value=_money(sum((row["value"] for row in rows), Decimal(0))),
        run_cost=_money(sum((row["run_cost"] for row in rows), Decimal(0))),
        gpu_cost=_money(sum((row["gpu_cost"] for row in rows), Decimal(0))),
        cost=_money(sum((row["cost"] for row in rows), Decimal(0))),
        without_evidence=sum(row["without_evidence"] for row in rows),
        url=url,
    )


def value_panel(*, user, filters, today: datetime.date) -> ValuePanel:
    """One query: the reader's active initiatives (narrowed to the chosen unit) grouped by
    unit, phase and currency; the unit and phase rows are rolled up from those groups."""
    initiatives = scope_initiatives(Initiative.objects.all(), user)
    unit_id = _unit_id(filters)
    if unit_id is not None:
        initiatives = initiatives.filter(business_unit_id=unit_id)
    groups = value_module.value_totals(initiatives, user=user, today=today)
    by_unit, by_phase, by_currency = defaultdict(list), defaultdict(list), defaultdict(list)
    for group in groups:
        by_unit[(group["unit_name"], group["business_unit"], group["currency"])].append(group)
        by_phase[(group["roadmap_phase"] or 99, group["currency"])].append(group)
        by_currency[group["currency"]].append(group)
    gaps_url = _url("inventory:value_evidence_missing", business_unit=unit_id)
    panel_fields = {
        "key": "value",
        "title": TITLE,
        "definition": DEFINITION,
        "drilldown_url": gaps_url,
        "has_data": bool(groups),
    }
    return ValuePanel(
        **panel_fields,
        by_unit=[
            _row(
                name,
                currency,
                rows,
                _url("inventory:value_evidence_missing", business_unit=pk),
            )
            for (name, pk, currency), rows in sorted(by_unit.items())
        ],
        by_phase=[
            _row(
                f"Phase {phase}" if phase != 99 else "No phase",
                currency,
                rows,
                _url(
                    "inventory:value_evidence_missing",
                    roadmap_phase=phase if phase != 99 else "none",
                    business_unit=unit_id,
                ),
            )
            for (phase, currency), rows in sorted(by_phase.items())
        ],
        totals=[
            _row("All initiatives shown", currency, rows, gaps_url)
            for currency, rows in sorted(by_currency.items())
        ],
        without_evidence=sum(group["without_evidence"] for group in groups),
        without_evidence_url=gaps_url,
    )
