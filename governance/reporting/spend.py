"""The dashboard's GPU panels: spend by month and business unit from the chargeback, and
utilisation against the target band."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db.models import (
    Case,
    F,
    Q,
    Sum,
    When,
)
from django.urls import reverse

from core.models import BusinessUnit
from core.periods import month_start
from core.permissions import visible_business_unit_ids
from governance.reporting.panels import (
    ZERO,
    Kind,
    SpendPanel,
    SpendRow,
    UtilisationPanel,
    UtilisationRowBU,
    _panel,
    _unit_id,
    _url,
)
from inventory.finops.choices import FindingKind
from inventory.finops.models import ChargebackMonth
from inventory.finops.selectors import findings_list, findings_waste_total
from inventory.usage import selectors as utilisation_module


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
    month_code = f"{this_month:%Y-%m}"
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
        total_url=(
            reverse("inventory:chargeback_bu", args=[month_code, unit_id])
            if unit_id is not None
            else _url("inventory:chargeback", month=month_code)
        ),
        unused_commitments=idle if has_this_month else None,
        orphaned=orphaned if has_this_month else None,
        idle_allocations=_idle_allocations(user=user, unit_id=unit_id),
        unused_commitments_url=_url(
            "inventory:chargeback_lines",
            month_code,
            kind=[Kind.IDLE, Kind.IDLE_SHARE],
            business_unit=unit_id,
        ),
        orphaned_url=_url(
            "inventory:chargeback_lines", month_code, kind=Kind.ORPHANED, business_unit=unit_id
        ),
        idle_allocations_url=_url(
            "inventory:finding_list",
            kind=FindingKind.IDLE,
            status="active",
            business_unit=unit_id,
        ),
    )


def _idle_allocations(*, user, unit_id) -> Decimal:
    """The open and acknowledged idle findings' monthly waste (one query), over the findings
    the reader may see (``findings_list``, as the list the figure links to)."""
    findings = findings_list(user, {"kind": FindingKind.IDLE, "business_unit": unit_id})
    return findings_waste_total(findings)


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
            activity_text=entry.avg_activity_text,
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
