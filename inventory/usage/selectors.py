"""GPU utilisation reads (issue 7, item 8): activity per business unit and pool against the
target band, capacity vs allocated vs used over time, and an initiative's GPU summary.

Everything reads the daily roll-up (``UsageDaily``), never raw samples. Definitions:

* **Activity** is a 0–1 share: ``DCGM_FI_PROF_GR_ENGINE_ACTIVE``, else
  ``DCGM_FI_DEV_GPU_UTIL`` / 100, or the usage CSV's utilisation / 100 (``ACTIVITY_METRIC``).
* **Average activity** of a group of daily rows is sample-weighted:
  Σ(avg_activity × samples) / Σ samples, over the rows that have an activity (Slurm-only
  days carry GPU-hours but no activity).
* **p95 activity** of a group is the *highest* daily p95 among its rows: how busy the group
  was at its busiest day (a conservative figure for right-sizing; the weighted average of
  daily p95s would hide one saturated day among quiet ones).
  It is *average activity while sampled*: it says how busy the GPUs were when a sample saw
  them, nothing about the time no sample covers (see sample coverage).
* **GPU-hours used** = Σ ``UsageDaily.gpu_hours``: the hours samples speak for plus Slurm jobs'
  and Kubernetes pods' GPU-hours. **GPU-hours allocated** of an allocation = gpu_count × the
  time it holds within the period's UTC days ([starts_at, ends_at), exact to 0.001 GPU-hour;
  a whole-day allocation: gpu_count × 24 × its active days). **Used / allocated** = GPU-hours
  used / GPU-hours allocated.
* **Sample coverage** = sampled GPU-hours (Σ ``UsageDaily.sampled_gpu_hours``: the time the
  samples speak for, each at most ``SAMPLE_GAP_CAP`` seconds) / GPU-hours allocated: how much of
  the held time the average activity is based on. None without an allocation.
* **Status** against the target band ``settings.KEEL_FINOPS`` ``TARGET_LOW``–``TARGET_HIGH``
  (a *target*, not a measurement): ``below`` when the average is under the low end, ``in_band``
  from low to high inclusive, ``above`` over the high end, ``no_data`` without samples. The
  comparison is on the unrounded average (only floating-point noise of the weighted sum,
  ``BAND_TOLERANCE``, is ignored), so 69.96 % is below; ``band_percent`` writes it with enough
  decimals that the figure shown never contradicts its status ("69.96 %", else "<70.00 %").
* **Capacity series**, per day (per ISO week, averaging its days, for periods longer than
  ``DAILY_MAX_DAYS``): capacity = Σ ``gpu_count`` of the pools looked at (today's capacity: pools
  keep no history), allocated = Σ ``gpu_count`` of the allocations active that day, used =
  Σ ``UsageDaily.gpu_hours`` of the day / 24 (GPUs busy around the clock).

Scope: business-unit users see their units' allocations only (and the pools those hold in
the period); platform engineers, the CoE, risk officers and executives see every unit, plus
the *unattributed* usage of devices matched to no allocation (a row without a business unit).

Each function runs a fixed number of queries, whatever the number of days, pools or rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import F, FloatField, Max, Q, Sum
from django.db.models.functions import Cast
from django.utils import timezone

from core.models import BusinessUnit
from core.periods import HOURS_PER_DAY, held_gpu_hours, month_start, month_to_date
from core.permissions import visible_business_unit_ids
from inventory.gpu.models import GPUAllocation, GPUPool
from inventory.usage.choices import CostCategory
from inventory.usage.models import CostRecord, UsageDaily

ACTIVITY_METRIC = "DCGM_FI_PROF_GR_ENGINE_ACTIVE, else DCGM_FI_DEV_GPU_UTIL"
# Periods up to this many days are drawn per day; longer ones per week.
DAILY_MAX_DAYS = 92
STATUS_BELOW, STATUS_IN_BAND, STATUS_ABOVE, STATUS_NO_DATA = (
    "below",
    "in_band",
    "above",
    "no_data",
)
STATUS_LABELS = {
    STATUS_BELOW: "Below the target band",
    STATUS_IN_BAND: "In the target band",
    STATUS_ABOVE: "Above the target band",
    STATUS_NO_DATA: "No data",
}
# The utilisation table's columns, each defined once (the page, its exports and the
# definitions page say the same).
COLUMN_DEFINITIONS = (
    "Average activity while sampled: Σ(average activity × samples) / Σ samples over the daily "
    "roll-ups, measured as " + ACTIVITY_METRIC + "; how busy the GPUs were when a sample saw "
    "them, silent on the time no sample covers. GPU-hours used: the hours the samples speak "
    "for (each sample at most 5 minutes) plus Slurm jobs' and Kubernetes pods' GPU-hours. "
    "GPU-hours allocated: GPUs × the time each allocation was held in the period. Used / "
    "allocated: GPU-hours used ÷ GPU-hours allocated. Sample coverage: sampled GPU-hours ÷ "
    "GPU-hours allocated, how much of the held time the average activity rests on (a low "
    "coverage makes the average a thin sample, not a measure of the whole period). The band "
    "status compares the unrounded average with the target band, ends included; a figure "
    "shown beside it carries enough decimals not to contradict it (69.96 % is below a 70 % "
    "band)."
)

# The initiative page: days of the activity sparkline, months of cost.
SPARKLINE_DAYS = 30
COST_MONTHS = 6


def target_band() -> tuple[float, float]:
    finops = settings.KEEL_FINOPS
    return float(finops["TARGET_LOW"]), float(finops["TARGET_HIGH"])


# Differences smaller than this are the floating-point noise of a weighted sum (0.7 × 3 / 3
# is 0.6999999999999998), not a measured difference: a billionth of the 0–1 scale.
BAND_TOLERANCE = 1e-9


def band_status(activity: float | None, samples: int = 1) -> str:
    """Where an average activity (0–1) sits against the target band, compared unrounded."""
    if activity is None or not samples:
        return STATUS_NO_DATA
    low, high = target_band()
    if activity < low - BAND_TOLERANCE:
        return STATUS_BELOW
    if activity > high + BAND_TOLERANCE:
        return STATUS_ABOVE
    return STATUS_IN_BAND


def _agrees(value: Decimal, status: str, low: Decimal, high: Decimal) -> bool:
    if status == STATUS_BELOW:
        return value < low
    if status == STATUS_ABOVE:
        return value > high
    return low <= value <= high


def shown_percent_agrees(percent: Decimal, status: str) -> bool:
    """Whether a percentage as written (e.g. the 70.0 of "70.0 %") reads as ``status``."""
    if status not in (STATUS_BELOW, STATUS_ABOVE, STATUS_IN_BAND):
        return True
    low, high = (Decimal(repr(end)) * 100 for end in target_band())
    return _agrees(percent, status, low, high)


def band_percent(activity: float | None, status: str) -> str:
    """An average activity (0–1) as the text shown beside its band status: one decimal, two
    when one would contradict the status (69.96 % below a 70 % band must not read "70.0 %"),
    else "<70.00 %" / ">85.00 %". "" without an activity."""
    if activity is None:
        return ""
    percent = Decimal(repr(activity)) * 100
    low, high = (Decimal(repr(end)) * 100 for end in target_band())
    for places in (Decimal("0.1"), Decimal("0.01")):
        shown = percent.quantize(places, rounding=ROUND_HALF_UP)
        if status not in (STATUS_BELOW, STATUS_ABOVE, STATUS_IN_BAND) or _agrees(
            shown, status, low, high
        ):
            return f"{shown} %"
    if status == STATUS_BELOW:
        return f"<{low.quantize(Decimal('0.01'))} %"
    if status == STATUS_ABOVE:
        return f">{high.quantize(Decimal('0.01'))} %"
    return f"{percent.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)} %"


def _id(value):
    return getattr(value, "pk", value)


def _days(start: dt.date, end: dt.date) -> int:
    return (end - start).days + 1


def _scoped_allocations(actor, *, start, end, business_unit=None, pool=None):
    """Allocations active on some day of [start, end] that the actor may see."""
    allocations = GPUAllocation.objects.filter(starts_on__lte=end).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=start)
    )
    units = visible_business_unit_ids(actor)
    if units is not None:
        allocations = allocations.filter(business_unit_id__in=units)
    if business_unit is not None:
        allocations = allocations.filter(business_unit_id=_id(business_unit))
    if pool is not None:
        allocations = allocations.filter(pool_id=_id(pool))
    return allocations


def _scoped_usage(actor, *, start, end, business_unit=None, pool=None):
    """Daily rows of [start, end] the actor may see: their allocations' rows, plus the
    unattributed device rows for organisation-wide readers when no unit is asked for."""
    usage = UsageDaily.objects.filter(day__gte=start, day__lte=end)
    units = visible_business_unit_ids(actor)
    attributed = Q(allocation__isnull=False)
    if units is not None:
        attributed &= Q(allocation__business_unit_id__in=units)
    if business_unit is not None:
        attributed &= Q(allocation__business_unit_id=_id(business_unit))
    if pool is not None:
        attributed &= Q(allocation__pool_id=_id(pool))
    condition = attributed
    if units is None and business_unit is None:
        unattributed = Q(allocation__isnull=True, device__isnull=False)
        if pool is not None:
            unattributed &= Q(device__pool_id=_id(pool))
        condition |= unattributed
    return usage.filter(condition)


def _activity_sums() -> dict:
    """Aggregates of daily rows for ``_weighted``: ``sample_count``, the samples of rows with
    an activity, and ``activity_sum``, their samples × average activity."""
    known = Q(avg_activity__isnull=False)
    return {
        "sample_count": Sum("samples", filter=known, default=0),
        "activity_sum": Sum(Cast("samples", FloatField()) * F("avg_activity"), filter=known),
    }


def _weighted(value_sum, samples) -> float | None:
    if not samples or value_sum is None:
        return None
    return float(value_sum) / float(samples)


# --- Per business unit and pool -------------------------------------------------------------


class _ActivityFigures:
    """The band status label and activity in % of a row with ``status`` and ``avg_activity``."""

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def avg_activity_pct(self) -> float | None:
        return None if self.avg_activity is None else self.avg_activity * 100

    @property
    def avg_activity_text(self) -> str:
        """The average as shown beside the status, never contradicting it."""
        return band_percent(self.avg_activity, self.status)


@dataclass
class UtilisationRow(_ActivityFigures):
    """One business unit × pool of the period (``business_unit`` None: unattributed)."""

    business_unit: BusinessUnit | None
    pool: GPUPool | None
    samples: int = 0
    avg_activity: float | None = None
    p95_activity: float | None = None
    gpu_hours_used: Decimal = Decimal("0")
    allocated_gpu_hours: Decimal = Decimal("0")
    status: str = STATUS_NO_DATA
    sampled_gpu_hours: Decimal = Decimal("0")

    @property
    def p95_activity_pct(self) -> float | None:
        return None if self.p95_activity is None else self.p95_activity * 100

    @property
    def used_share(self) -> float | None:
        """Used over allocated GPU-hours (0–1), when anything was allocated."""
        if not self.allocated_gpu_hours:
            return None
        return float(self.gpu_hours_used / self.allocated_gpu_hours)

    @property
    def used_share_pct(self) -> float | None:
        share = self.used_share
        return None if share is None else share * 100

    @property
    def sample_coverage(self) -> float | None:
        """Sampled over allocated GPU-hours (0–1), when anything was allocated."""
        if not self.allocated_gpu_hours:
            return None
        return float(self.sampled_gpu_hours / self.allocated_gpu_hours)

    @property
    def sample_coverage_pct(self) -> float | None:
        coverage = self.sample_coverage
        return None if coverage is None else coverage * 100


def utilisation_by_bu_and_pool(
    *, actor, start: dt.date, end: dt.date, business_unit=None, pool=None
) -> list[UtilisationRow]:
    """Rows per business unit × pool for [start, end] (both inclusive), ordered by unit then
    pool name, unattributed last. Four queries whatever the number of rows or days."""
    usage = _scoped_usage(actor, start=start, end=end, business_unit=business_unit, pool=pool)
    # Attributed rows group by the allocation's unit and pool, unattributed by the device's
    # pool; one GROUP BY over both columns (the other is NULL).
    grouped = (
        usage.values("allocation__business_unit_id", "allocation__pool_id", "device__pool_id")
        .annotate(
            **_activity_sums(),
            p95=Max("p95_activity"),
            gpu_hours=Sum("gpu_hours", default=Decimal("0")),
            sampled_hours=Sum("sampled_gpu_hours", default=Decimal("0")),
        )
        .order_by()
    )
    rows: dict[tuple[int | None, int | None], UtilisationRow] = {}
    accumulated: dict[tuple, list] = defaultdict(lambda: [0, 0.0, None, Decimal("0"), Decimal("0")])
    for entry in grouped:
        unit_id = entry["allocation__business_unit_id"]
        pool_id = entry["allocation__pool_id"] if unit_id else entry["device__pool_id"]
        bucket = accumulated[(unit_id, pool_id)]
        bucket[0] += entry["sample_count"] or 0
        bucket[1] += entry["activity_sum"] or 0.0
        if entry["p95"] is not None:
            bucket[2] = entry["p95"] if bucket[2] is None else max(bucket[2], entry["p95"])
        bucket[3] += entry["gpu_hours"] or Decimal("0")
        bucket[4] += entry["sampled_hours"] or Decimal("0")

    allocated: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for unit_id, pool_id, gpu_count, starts_at, ends_at in _scoped_allocations(
        actor, start=start, end=end, business_unit=business_unit, pool=pool
    ).values_list("business_unit_id", "pool_id", "gpu_count", "starts_at", "ends_at"):
        allocated[(unit_id, pool_id)] += held_gpu_hours(gpu_count, starts_at, ends_at, start, end)

    keys = set(accumulated) | set(allocated)
    units = BusinessUnit.objects.in_bulk({unit for unit, _ in keys if unit is not None})
    pools = GPUPool.objects.select_related("gpu_type").in_bulk(
        {pool_id for _, pool_id in keys if pool_id is not None}
    )
    for key in keys:
        unit_id, pool_id = key
        samples, activity_sum, p95, gpu_hours, sampled_hours = accumulated.get(
            key, (0, 0.0, None, Decimal(0), Decimal(0))
        )
        average = _weighted(activity_sum, samples)
        rows[key] = UtilisationRow(
            business_unit=units.get(unit_id),
            pool=pools.get(pool_id),
            samples=samples,
            avg_activity=average,
            p95_activity=p95,
            gpu_hours_used=Decimal(gpu_hours),
            allocated_gpu_hours=allocated.get(key, Decimal("0")),
            status=band_status(average, samples),
            sampled_gpu_hours=Decimal(sampled_hours),
        )

    def order(row: UtilisationRow):
        unit = row.business_unit
        return (
            unit is None,
            unit.name if unit else "",
            row.pool.name if row.pool else "",
            row.pool.pk if row.pool else 0,
        )

    return sorted(rows.values(), key=order)


EXPORT_HEADER = (
    "Period start",
    "Period end",
    "Business unit",
    "GPU pool",
    "GPU type",
    "Samples",
    "Average activity while sampled (%)",
    "Highest daily p95 activity (%)",
    "GPU-hours used (sampled + jobs + pods)",
    "GPU-hours allocated",
    "GPU-hours used / GPU-hours allocated (%)",
    "Sample coverage: sampled GPU-hours / GPU-hours allocated (%)",
    "Target band (%)",
    "Status (unrounded average against the band)",
    "Activity metric",
)


def _percent(value: float | None):
    # Four decimals: enough that a figure just outside the band never reads as its end.
    return None if value is None else round(value * 100, 4)


def utilisation_table(rows: list[UtilisationRow], filters: dict | None):
    """The rows of ``utilisation_by_bu_and_pool`` as plain values for CSV/XLSX, header first."""
    yield EXPORT_HEADER
    if not filters:
        return
    low, high = target_band()
    band = f"{round(low * 100)}–{round(high * 100)} (a target, not a measurement)"
    for row in rows:
        yield (
            filters["start"],
            filters["end"],
            row.business_unit.name if row.business_unit else "Unattributed",
            row.pool.name if row.pool else "Unknown pool",
            row.pool.gpu_type.name if row.pool else "",
            row.samples,
            _percent(row.avg_activity),
            _percent(row.p95_activity),
            float(row.gpu_hours_used),
            float(row.allocated_gpu_hours),
            _percent(row.used_share),
            _percent(row.sample_coverage),
            band,
            row.status_label,
            ACTIVITY_METRIC,
        )


# --- Capacity vs allocated vs used ----------------------------------------------------------


@dataclass
class CapacityPoint:
    """One day (or week) of the series: average GPUs of each kind over its days."""

    start: dt.date
    end: dt.date
    capacity: Decimal
    allocated: Decimal
    used: Decimal

    @property
    def label(self) -> str:
        if self.start == self.end:
            return self.start.isoformat()
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


def _looked_at_pools(actor, *, start, end, business_unit, pool):
    """The pools whose capacity the series shows: the one asked for; else every pool for an
    organisation-wide view; else the pools the visible units hold allocations in."""
    if pool is not None:
        return GPUPool.objects.filter(pk=_id(pool))
    if visible_business_unit_ids(actor) is None and business_unit is None:
        return GPUPool.objects.all()
    held = _scoped_allocations(actor, start=start, end=end, business_unit=business_unit)
    return GPUPool.objects.filter(pk__in=held.values("pool_id"))


def capacity_series(
    *, actor, start: dt.date, end: dt.date, pool=None, business_unit=None
) -> list[CapacityPoint]:
    """Capacity, allocated and used GPUs per day of [start, end] (per week beyond
    ``DAILY_MAX_DAYS`` days). Three queries whatever the length of the period."""
    days = _days(start, end)
    if days <= 0:
        return []
    capacity = Decimal(
        _looked_at_pools(
            actor, start=start, end=end, business_unit=business_unit, pool=pool
        ).aggregate(total=Sum("gpu_count", default=0))["total"]
    )
    # Allocated GPUs per day via a difference array: + on the first active day, − after the
    # last one, then a running sum (allocations × days never multiply).
    change = [Decimal("0")] * (days + 1)
    for gpu_count, starts_on, ends_on in _scoped_allocations(
        actor, start=start, end=end, business_unit=business_unit, pool=pool
    ).values_list("gpu_count", "starts_on", "ends_on"):
        first = max(starts_on, start)
        last = min(ends_on, end) if ends_on else end
        if last < first:
            continue
        change[(first - start).days] += gpu_count
        change[(last - start).days + 1] -= gpu_count
    used_by_day = dict(
        _scoped_usage(actor, start=start, end=end, business_unit=business_unit, pool=pool)
        .values("day")
        .annotate(hours=Sum("gpu_hours"))
        .order_by()
        .values_list("day", "hours")
    )
    daily = []
    running = Decimal("0")
    for offset in range(days):
        running += change[offset]
        day = start + dt.timedelta(days=offset)
        used = Decimal(used_by_day.get(day) or 0) / HOURS_PER_DAY
        daily.append(CapacityPoint(day, day, capacity, running, used))
    if days <= DAILY_MAX_DAYS:
        return [_rounded(point) for point in daily]
    return [_rounded(point) for point in _weekly(daily)]


def _weekly(daily: list[CapacityPoint]) -> list[CapacityPoint]:
    weeks: dict[tuple[int, int], list[CapacityPoint]] = {}
    for point in daily:
        weeks.setdefault(point.start.isocalendar()[:2], []).append(point)
    points = []
    for members in weeks.values():
        count = Decimal(len(members))
        points.append(
            CapacityPoint(
                members[0].start,
                members[-1].end,
                sum((p.capacity for p in members), Decimal("0")) / count,
                sum((p.allocated for p in members), Decimal("0")) / count,
                sum((p.used for p in members), Decimal("0")) / count,
            )
        )
    return points


def _rounded(point: CapacityPoint) -> CapacityPoint:
    places = Decimal("0.01")
    return CapacityPoint(
        point.start,
        point.end,
        point.capacity.quantize(places, rounding=ROUND_HALF_UP),
        point.allocated.quantize(places, rounding=ROUND_HALF_UP),
        point.used.quantize(places, rounding=ROUND_HALF_UP),
    )


# --- Cost records (the gpu-costs API) -------------------------------------------------------


def cost_record_list(*, user):
    """Imported cost records the user may see: every record for organisation-wide readers
    (unattributed ones included), else those matched to the user's business units."""
    records = CostRecord.objects.select_related("initiative", "business_unit", "pool").order_by(
        "-month", "charge_period_start", "pk"
    )
    if not getattr(user, "is_authenticated", False):
        return records.none()
    units = visible_business_unit_ids(user)
    if units is None:
        return records
    return records.filter(business_unit_id__in=units) if units else records.none()


# --- The initiative page --------------------------------------------------------------------


@dataclass
class InitiativeGPUSummary:
    allocations: list = field(default_factory=list)
    # (day, average activity 0–1 or None) for each of the last SPARKLINE_DAYS days, oldest first
    activity: list = field(default_factory=list)
    # {"month", "cost", "matched", "rate_based", "source"} for the last COST_MONTHS months
    monthly_cost: list = field(default_factory=list)
    currency: str = "USD"

    @property
    def activity_pct(self) -> list[float | None]:
        return [None if value is None else value * 100 for _, value in self.activity]

    @property
    def has_activity(self) -> bool:
        return any(value is not None for _, value in self.activity)


def _cost_source(matched: Decimal, rate_based: Decimal) -> str:
    """Where a month's cost comes from: imported costs, the rate card, both or neither."""
    if matched and rate_based:
        return "mixed"
    if matched:
        return "focus"
    return "rate" if rate_based else "none"


def initiative_gpu_summary(
    initiative, *, user=None, today: dt.date | None = None
) -> InitiativeGPUSummary:
    """An initiative's GPUs for its page (already resolved through the scoped initiative
    selector): its allocations with pool and GPU type; the last 30 days' sample-weighted daily
    activity; and its cost per month for the last 6 months — matched FOCUS USAGE
    ``EffectiveCost`` (any record of the initiative), plus, for each allocation with no
    matched USAGE cost that month, the rate-based cost (allocated GPU-hours × the pool's
    hourly rate, up to ``today`` in the current month). Three queries.

    With ``user``, only what that user may see of it: a business-unit user looking at an
    initiative deployed to their unit sees their unit's allocations and costs, not the owning
    unit's."""
    today = today or timezone.localdate()
    units = visible_business_unit_ids(user) if user is not None else None
    allocations_query = initiative.gpu_allocations.select_related(
        "pool__gpu_type", "business_unit"
    ).order_by("-starts_on", "-pk")
    usage_query = UsageDaily.objects.filter(allocation__initiative=initiative)
    cost_query = CostRecord.objects.filter(initiative=initiative)
    if units is not None:
        allocations_query = allocations_query.filter(business_unit_id__in=units)
        usage_query = usage_query.filter(allocation__business_unit_id__in=units)
        cost_query = cost_query.filter(business_unit_id__in=units)
    allocations = list(allocations_query)
    first_day = today - dt.timedelta(days=SPARKLINE_DAYS - 1)
    by_day = {
        entry["day"]: entry
        for entry in usage_query.filter(day__gte=first_day, day__lte=today)
        .values("day")
        .annotate(
            **_activity_sums(),
        )
        .order_by()
    }
    activity = []
    for offset in range(SPARKLINE_DAYS):
        day = first_day + dt.timedelta(days=offset)
        entry = by_day.get(day)
        activity.append(
            (day, _weighted(entry["activity_sum"], entry["sample_count"]) if entry else None)
        )

    first_month = month_start(today, COST_MONTHS - 1)
    matched_by_month: dict[dt.date, Decimal] = defaultdict(Decimal)
    costed: set[tuple[dt.date, int]] = set()
    for month, allocation_id, cost in (
        cost_query.filter(category=CostCategory.USAGE, month__gte=first_month)
        .values("month", "allocation_id")
        .annotate(cost=Sum("effective_cost"))
        .order_by()
        .values_list("month", "allocation_id", "cost")
    ):
        matched_by_month[month] += cost
        if allocation_id:
            costed.add((month, allocation_id))
    monthly = []
    for back in range(COST_MONTHS - 1, -1, -1):
        month, last = month_to_date(month_start(today, back), today)
        rate_based = Decimal("0")
        for allocation in allocations:
            if (month, allocation.pk) in costed:
                continue
            hours = held_gpu_hours(
                allocation.gpu_count, allocation.starts_at, allocation.ends_at, month, last
            )
            rate_based += hours * allocation.pool.hourly_rate
        matched = matched_by_month.get(month, Decimal("0"))
        source = _cost_source(matched, rate_based)
        monthly.append(
            {
                "month": month,
                "cost": (matched + rate_based).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
                "matched": matched.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
                "rate_based": rate_based.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
                "source": source,
            }
        )
    currency = allocations[0].pool.currency if allocations else "USD"
    return InitiativeGPUSummary(
        allocations=allocations, activity=activity, monthly_cost=monthly, currency=currency
    )


# --- Per business unit (the executive dashboard) --------------------------------------------


@dataclass
class BusinessUnitActivity(_ActivityFigures):
    """One business unit's attributed usage of a period: sample-weighted average activity."""

    business_unit: BusinessUnit
    samples: int
    avg_activity: float | None
    status: str


def activity_by_business_unit(
    *, actor, start: dt.date, end: dt.date, business_unit=None
) -> list[BusinessUnitActivity]:
    """Per business unit, the sample-weighted average activity of [start, end] over its
    allocations' daily rows (unattributed device rows belong to no unit and are left out),
    with its band status; ordered by unit name. One query."""
    grouped = (
        _scoped_usage(actor, start=start, end=end, business_unit=business_unit)
        .filter(allocation__isnull=False)
        .values(
            "allocation__business_unit_id",
            "allocation__business_unit__name",
            "allocation__business_unit__code",
        )
        .annotate(
            **_activity_sums(),
        )
        .order_by("allocation__business_unit__name", "allocation__business_unit_id")
    )
    rows = []
    for entry in grouped:
        samples = entry["sample_count"] or 0
        average = _weighted(entry["activity_sum"], samples)
        unit = BusinessUnit(
            pk=entry["allocation__business_unit_id"],
            name=entry["allocation__business_unit__name"],
            code=entry["allocation__business_unit__code"],
        )
        rows.append(BusinessUnitActivity(unit, samples, average, band_status(average, samples)))
    return rows
