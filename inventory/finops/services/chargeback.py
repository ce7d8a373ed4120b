"""GPU chargeback / showback per business unit per month.

``chargeback_compute`` (re)writes the ``ChargebackLine`` rows of an OPEN month from the
month's imported cost records (``CostRecord.month``) and the allocations active in it;
``chargeback_close`` freezes a month (it is recomputed one last time, then never again);
``chargeback_reopen`` (reason required) makes it recomputable. Every write is audited. A
month is closed only once it has ended, and ``chargeback_refresh_running`` (nightly) keeps the
running month's figures, and the previous month's while open, up to date.

Rules
-----
* **Direct cost** (kind DIRECT): per allocation, the sum of ``effective_cost`` of its USAGE
  cost records in the month (source FOCUS). An allocation active in the month with no
  matched USAGE record gets *rate-based cost*: allocated GPU-hours in the month (gpu_count ×
  the time it holds within the month's UTC days up to today in a month still running — the
  days held so far, not a forecast of the rest; exact to 0.001 GPU-hour for an allocation
  starting or ending within a day, gpu_count × 24 × days for whole days) ×
  ``pool.hourly_rate`` (source RATE). USAGE records
  matched to an initiative but no allocation are that initiative's direct cost (allocation
  null); USAGE records matched to a business unit only are that unit's direct cost.
* **Orphaned** (kind ORPHANED): the direct cost (FOCUS or RATE) of an orphaned allocation (no
  initiative, or an initiative retired, rejected or paused — judged at compute time), and
  initiative-only cost of such an initiative. ``business_unit`` is kept for display but the
  amount is not part of the unit's chargeback total.
* **Unattributed** (kind UNATTRIBUTED): USAGE records matched to nothing at all.
* **Shared cost**: USAGE records matched to a pool only (no allocation, initiative or unit).
  **Idle cost**: every IDLE_COMMITMENT record of the month (unused reservations and
  commitments), whatever it was matched to.
* **Adjustments** (kind ADJUSTMENT): CREDIT, TAX, CORRECTION, ADJUSTMENT and PURCHASE
  records, kept as such; charged to the matched unit (the allocation's, else the
  initiative's, else the record's) and part of its total; with no unit they are shown as
  unattributed adjustments (business_unit null). Orphaned allocations' adjustments follow
  the unit too (they are small and signed; only usage is reclassified as orphaned).
* **NON_GPU** records are not GPU chargeback: they only appear as a count/total in the
  summary (``finops_selectors.chargeback_summary``).
* **Policy** for idle and shared cost, distributed per pool (so the drill-down shows where
  it came from): SEPARATE → kept apart as one line per pool with no unit (kind IDLE for idle,
  SHARED_SHARE with no unit for shared); PROPORTIONAL → to units in proportion to their
  direct cost (FOCUS + RATE, orphaned excluded); EVEN → equally to every unit with direct
  cost. Units with a direct total ≤ 0 receive nothing; when no unit has direct cost the
  amount stays a separate line whatever the policy.
* **Exactness**: amounts are stored with 6 decimals. A distribution works in integer
  millionths with the *largest remainder* method (floor every share, then give one
  millionth to the shares with the largest remainders, ties to the earlier unit by name),
  so the shares add up to the distributed amount exactly.
* **Reconciliation**: Σ all lines = Σ ``effective_cost`` of the month's cost records except
  NON_GPU + Σ rate-based cost, exactly.
* All reads are aggregate queries (a constant number whatever the number of records or
  allocations); lines are written with one ``bulk_create``.
* One currency is assumed per month (the pools' and records' currency is not converted).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Sum
from django.utils import timezone

from core.audit import record_event
from core.exceptions import Conflict
from core.models import BusinessUnit
from core.periods import held_gpu_hours, month_bounds, month_start, month_to_date
from inventory.finops.choices import ChargebackStatus, IdleSharePolicy
from inventory.finops.models import ChargebackLine, ChargebackMonth
from inventory.gpu.models import ORPHANING_STAGES, GPUAllocation
from inventory.gpu.permissions import can_manage_pools
from inventory.usage.choices import CostCategory
from inventory.usage.models import CostRecord

Kind = ChargebackLine.Kind
Source = ChargebackLine.Source

MICRO = Decimal("0.000001")
MILLIONTHS = 1_000_000
ADJUSTMENT_CATEGORIES = frozenset(
    {
        CostCategory.CREDIT,
        CostCategory.TAX,
        CostCategory.CORRECTION,
        CostCategory.ADJUSTMENT,
        CostCategory.PURCHASE,
    }
)


def can_manage_chargeback(user) -> bool:
    """Platform engineers, CoE admins and administrators compute, close and reopen months."""
    return can_manage_pools(user)


def distribute(amount: Decimal, weights: list[tuple]) -> list[tuple]:
    """Split ``amount`` (6 decimals) over ``weights`` [(key, weight > 0)] exactly: largest
    remainder in millionths, ties to the earlier key in the list. Shares sum to ``amount``."""
    units = int((amount.quantize(MICRO) * MILLIONTHS).to_integral_value())
    sign = -1 if units < 0 else 1
    units = abs(units)
    total = sum((Fraction(weight) for _, weight in weights), Fraction(0))
    if not weights or total <= 0:
        raise ValueError("distribute needs positive weights")
    exact = [Fraction(units) * Fraction(weight) / total for _, weight in weights]
    floors = [int(share) for share in exact]  # shares are ≥ 0, so int() is floor
    left = units - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [
        (key, Decimal(sign * share) / MILLIONTHS)
        for (key, _), share in zip(weights, floors, strict=True)
    ]


def _is_orphaned_initiative(stage) -> bool:
    return stage in ORPHANING_STAGES


def build_lines(month: datetime.date, policy: str) -> list[ChargebackLine]:
    """The month's chargeback lines (unsaved, ``chargeback`` unset) under ``policy``."""
    # Rate-based cost counts the days held up to today in the running month.
    first, held_until = month_to_date(month, timezone.localdate())
    rows = (
        CostRecord.objects.filter(month=first)
        .exclude(category=CostCategory.NON_GPU)
        .values(
            "category",
            "allocation",
            "allocation__business_unit",
            "allocation__initiative",
            "allocation__initiative__stage",
            "allocation__pool",
            "initiative",
            "initiative__stage",
            "initiative__business_unit",
            "business_unit",
            "pool",
        )
        .annotate(amount=Sum("effective_cost"), gpu_hours=Sum("gpu_hours"))
        .order_by()
    )
    lines: list[ChargebackLine] = []
    # Imported cost by (kind, bu, initiative, allocation, pool) -> [gpu_hours, amount]:
    # direct, orphaned, unattributed and adjustment lines.
    direct: dict[tuple, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    idle_by_pool: dict[int | None, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    shared_by_pool: dict[int | None, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])

    for row in rows:
        amount = row["amount"] or Decimal(0)
        hours = row["gpu_hours"] or Decimal(0)
        category = row["category"]
        allocation = row["allocation"]
        if allocation:
            unit = row["allocation__business_unit"]
            initiative = row["allocation__initiative"]
            pool = row["allocation__pool"]
            orphaned = initiative is None or _is_orphaned_initiative(
                row["allocation__initiative__stage"]
            )
        elif row["initiative"]:
            unit = row["initiative__business_unit"]
            initiative = row["initiative"]
            pool = row["pool"]
            orphaned = _is_orphaned_initiative(row["initiative__stage"])
        else:
            unit, initiative, pool, orphaned = row["business_unit"], None, row["pool"], False

        if category == CostCategory.IDLE_COMMITMENT:
            bucket = idle_by_pool[row["pool"] or pool]
        elif category in ADJUSTMENT_CATEGORIES:
            bucket = direct[(Kind.ADJUSTMENT, unit, initiative, allocation, pool)]
        elif category == CostCategory.USAGE:
            if unit is None and initiative is None:
                bucket = shared_by_pool[pool] if pool else None
                if bucket is None:
                    bucket = direct[(Kind.UNATTRIBUTED, None, None, None, None)]
            else:
                kind = Kind.ORPHANED if orphaned else Kind.DIRECT
                bucket = direct[(kind, unit, initiative, allocation, pool)]
        else:  # an unknown category: never drop money, show it as unattributed
            bucket = direct[(Kind.UNATTRIBUTED, unit, initiative, allocation, pool)]
        bucket[0] += hours
        bucket[1] += amount

    # Rate-based cost for the allocations active in the month (up to today) with no matched
    # usage.
    uncosted = (
        GPUAllocation.objects.filter(starts_on__lte=held_until)
        .exclude(ends_on__lt=first)
        .exclude(
            Exists(
                CostRecord.objects.filter(
                    allocation=OuterRef("pk"), month=first, category=CostCategory.USAGE
                )
            )
        )
        .order_by("pk")
    ).values(
        "pk",
        "gpu_count",
        "starts_at",
        "ends_at",
        "business_unit",
        "initiative",
        "initiative__stage",
        "pool",
        "pool__hourly_rate",
    )
    for allocation in uncosted:
        hours = held_gpu_hours(
            allocation["gpu_count"],
            allocation["starts_at"],
            allocation["ends_at"],
            first,
            held_until,
        )
        amount = (hours * allocation["pool__hourly_rate"]).quantize(MICRO)
        orphaned = allocation["initiative"] is None or _is_orphaned_initiative(
            allocation["initiative__stage"]
        )
        lines.append(
            ChargebackLine(
                kind=Kind.ORPHANED if orphaned else Kind.DIRECT,
                source=Source.RATE,
                business_unit_id=allocation["business_unit"],
                initiative_id=allocation["initiative"],
                allocation_id=allocation["pk"],
                pool_id=allocation["pool"],
                gpu_hours=hours,
                amount=amount,
            )
        )

    for (kind, unit, initiative, allocation, pool), (hours, amount) in direct.items():
        lines.append(
            ChargebackLine(
                kind=kind,
                source=Source.FOCUS,
                business_unit_id=unit,
                initiative_id=initiative,
                allocation_id=allocation,
                pool_id=pool,
                gpu_hours=hours,
                amount=amount,
            )
        )

    # Who receives idle and shared cost under the policy.
    direct_by_unit: dict[int, Decimal] = defaultdict(Decimal)
    for line in lines:
        if line.kind == Kind.DIRECT and line.business_unit_id:
            direct_by_unit[line.business_unit_id] += line.amount
    receivers = {unit: total for unit, total in direct_by_unit.items() if total > 0}
    names = (
        dict(BusinessUnit.objects.filter(pk__in=list(receivers)).values_list("pk", "name"))
        if receivers and policy != IdleSharePolicy.SEPARATE
        else {}
    )
    ordered = sorted(receivers, key=lambda unit: (names.get(unit, ""), unit))
    if policy == IdleSharePolicy.PROPORTIONAL:
        weights = [(unit, receivers[unit]) for unit in ordered]
    elif policy == IdleSharePolicy.EVEN:
        weights = [(unit, Decimal(1)) for unit in ordered]
    else:
        weights = []

    for separate_kind, share_kind, buckets in (
        (Kind.IDLE, Kind.IDLE_SHARE, idle_by_pool),
        (Kind.SHARED_SHARE, Kind.SHARED_SHARE, shared_by_pool),
    ):
        for pool, (hours, amount) in sorted(buckets.items(), key=lambda item: item[0] or 0):
            if not weights or amount == 0:
                lines.append(
                    ChargebackLine(
                        kind=separate_kind,
                        source=Source.FOCUS,
                        pool_id=pool,
                        gpu_hours=hours,
                        amount=amount,
                    )
                )
                continue
            for unit, share in distribute(amount, weights):
                lines.append(
                    ChargebackLine(
                        kind=share_kind,
                        source=Source.POLICY,
                        business_unit_id=unit,
                        pool_id=pool,
                        amount=share,
                    )
                )
    return lines


def _parse_policy(policy) -> str:
    if policy in (None, ""):
        return ""
    if policy not in IdleSharePolicy.values:
        raise ValidationError({"policy": f"Choose one of {', '.join(IdleSharePolicy.values)}."})
    return policy


def _month_row(month: datetime.date, *, lock: bool) -> ChargebackMonth:
    first = month_start(month)
    try:
        row, _ = ChargebackMonth.objects.get_or_create(month=first)
    except IntegrityError:  # created by a concurrent compute
        row = ChargebackMonth.objects.get(month=first)
    if lock:
        row = ChargebackMonth.objects.select_for_update().get(pk=row.pk)
    return row


def _write(row: ChargebackMonth, policy: str) -> int:
    lines = build_lines(row.month, policy)
    row.lines.all().delete()
    for line in lines:
        line.chargeback = row
    ChargebackLine.objects.bulk_create(lines, batch_size=1000)
    row.policy = policy
    row.computed_at = timezone.now()
    return len(lines)


def chargeback_compute(*, month: datetime.date, policy=None, actor=None) -> ChargebackMonth:
    """(Re)write the lines of an OPEN month; ``policy`` None keeps the month's policy.
    Conflict on a closed month. ``actor`` None is the system (a task or a command); a user
    must be allowed to manage chargeback."""
    if actor is not None and not can_manage_chargeback(actor):
        raise PermissionDenied("Only platform engineers and CoE admins compute chargeback.")
    policy = _parse_policy(policy)
    with transaction.atomic():
        row = _month_row(month, lock=True)
        if row.status == ChargebackStatus.CLOSED:
            raise Conflict(
                f"The chargeback of {row.month:%B %Y} is closed; reopen it (with a reason) "
                "before recomputing."
            )
        before = {"policy": row.policy, "computed_at": row.computed_at}
        count = _write(row, policy or row.policy)
        row.save(update_fields=["policy", "computed_at"])
        record_event(
            actor=actor,
            action="chargeback.computed",
            target=row,
            before=before,
            after={"policy": row.policy, "computed_at": row.computed_at, "lines": count},
        )
    return row


def chargeback_refresh(*, months) -> dict:
    """After a cost import: recompute the open months it touched (as the system); a closed
    month stays frozen and is reported, to be reopened by someone who decides to."""
    recomputed, closed = [], []
    for month in sorted({month_start(month) for month in months}):
        row = ChargebackMonth.objects.filter(month=month).first()
        if row is not None and row.status == ChargebackStatus.CLOSED:
            closed.append(month.isoformat())
            continue
        chargeback_compute(month=month, actor=None)
        recomputed.append(month.isoformat())
    return {"chargeback_recomputed": recomputed, "chargeback_closed_months": closed}


def month_has_ended(month: datetime.date) -> bool:
    """Whether ``month``'s last day is behind us (only then may it be closed)."""
    return month_bounds(month)[1] < timezone.localdate()


def chargeback_refresh_running() -> dict:
    """Nightly, as the system: recompute the running month (its rate-based cost grows by a day
    each day) and the previous month while it is open and computed (its last day is complete
    only now). Closed months are left alone."""
    today = timezone.localdate()
    previous, running = month_start(today, 1), month_start(today)
    previous_open = ChargebackMonth.objects.filter(
        month=previous, status=ChargebackStatus.OPEN, computed_at__isnull=False
    ).exists()
    return chargeback_refresh(months=[previous, running] if previous_open else [running])


def chargeback_close(*, actor, month: datetime.date) -> ChargebackMonth:
    """Recompute the month one last time under its policy and freeze it; Conflict while the
    month is still running (its rate-based cost would freeze at the days held so far)."""
    if not can_manage_chargeback(actor):
        raise PermissionDenied("Only platform engineers and CoE admins close chargeback months.")
    if not month_has_ended(month):
        following = month_bounds(month)[1] + datetime.timedelta(days=1)
        raise Conflict(
            f"The chargeback of {month_start(month):%B %Y} can be closed once the month has "
            f"ended (from 1 {following:%B %Y})."
        )
    with transaction.atomic():
        row = _month_row(month, lock=True)
        if row.status == ChargebackStatus.CLOSED:
            raise Conflict(f"The chargeback of {row.month:%B %Y} is already closed.")
        count = _write(row, row.policy)
        row.status = ChargebackStatus.CLOSED
        row.closed_at = timezone.now()
        row.closed_by = actor
        row.save(update_fields=["policy", "computed_at", "status", "closed_at", "closed_by"])
        record_event(
            actor=actor,
            action="chargeback.closed",
            target=row,
            before={"status": ChargebackStatus.OPEN},
            after={"status": row.status, "policy": row.policy, "lines": count},
        )
    return row


def chargeback_reopen(*, actor, month: datetime.date, reason: str) -> ChargebackMonth:
    """Reopen a closed month (reason required), so it can be recomputed."""
    if not can_manage_chargeback(actor):
        raise PermissionDenied("Only platform engineers and CoE admins reopen chargeback months.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the closed month is reopened."})
    with transaction.atomic():
        row = ChargebackMonth.objects.select_for_update().filter(month=month_start(month)).first()
        if row is None or row.status != ChargebackStatus.CLOSED:
            raise Conflict("Only a closed month can be reopened.")
        row.status = ChargebackStatus.OPEN
        row.closed_at = None
        row.closed_by = None
        row.save(update_fields=["status", "closed_at", "closed_by"])
        record_event(
            actor=actor,
            action="chargeback.reopened",
            target=row,
            before={"status": ChargebackStatus.CLOSED},
            after={"status": row.status},
            reason=reason,
        )
    return row
