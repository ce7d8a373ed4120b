"""GPU waste findings: the scan (nightly task, command, or on demand) and the user actions.

``findings_scan`` computes every finding that holds today, then, in one transaction,
updates the open (or acknowledged) finding of the same (kind, subject_key) — last_seen_at,
monthly_waste, summary, detail — creates the missing ones and resolves the open ones whose
condition no longer holds (reason "cleared by scan"). The partial unique constraint
``finding_one_open_per_subject`` keeps one open finding per subject: creation uses
``bulk_create(ignore_conflicts=True)``, so a concurrent scan's row wins and nothing crashes.
A new finding notifies the allocation's requester and the initiative's accountable owner
once: ``notified_at`` is claimed with a compare-and-set update before sending, so re-runs
and concurrent scans never notify twice. One audit event per scan carries the counts.

Definitions (``settings.KEEL_FINOPS`` gives the defaults; each can be passed per run):

* **Window**: the last ``window_days`` full days before ``today`` (today excluded).
  **Covered**: the allocation has a ``UsageDaily`` roll-up with samples on *every* day of the
  window; an allocation with one day missing (e.g. started six days ago on a 7-day window)
  is not judged for idle or over-provisioning.
* **idle**: an allocation active today, covered, whose sample-weighted average activity over
  the window (Σ avg_activity × samples / Σ samples) is strictly below ``threshold``
  (exactly at the threshold is not idle; a 1e-9 tolerance absorbs float noise).
  Waste: the allocation's monthly cost (gpu_count × 730 × pool.hourly_rate).
* **over_provisioned**: an allocation active today with ≥ 2 GPUs, covered, not idle, whose
  highest daily p95 activity over the window shows fewer GPUs would do:
  needed = max(1, ceil(gpu_count × max_p95 / TARGET_HIGH)); a finding when needed <
  gpu_count, waste (gpu_count − needed) × 730 × hourly_rate. (An idle allocation is not
  also over-provisioned: idle already counts its whole cost.)
* **orphaned**, three subjects:
  ``allocation:<pk>`` an allocation active today with no initiative or one retired, rejected
  or paused — waste its monthly cost;
  ``billing:allocation:<pk>`` an allocation that ended (ends_on < today) with USAGE cost
  records matched to it that start after its end day within the last 30 days ("still
  billing") — waste the post-end cost of those 30 days (≈ a month);
  ``device:<pk>`` an unattributed GPU device (no allocation) holding memory
  (last_memory_used_mib > 0) seen within the window — waste its pool's hourly rate, else its
  GPU type's reference price, × 730 × the MIG fraction of its profile; 0 when neither is
  known (``detail["price_basis"]`` says which).
* **unused_reservation**: IDLE_COMMITMENT cost records of the last 30 days grouped by
  commitment id (else resource id); waste = their EffectiveCost × 730 / the hours they cover
  (first charge-period start to last charge-period end).
* **expiring**: an allocation whose ends_on is between today and today + EXPIRING_DAYS;
  waste 0.

Acknowledge and resolve (reason required) are allowed to platform engineers, CoE admins and
administrators, and to the members and leads of the finding's business unit.
"""

from __future__ import annotations

import datetime
import math
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, FloatField, Max, Min, Sum, Value
from django.db.models.functions import Coalesce, NullIf
from django.urls import reverse
from django.utils import timezone

from core.audit import record_event
from core.choices import BU_WRITE_ROLES, NotificationKind
from core.exceptions import Conflict
from core.permissions import business_unit_ids, can_manage_inventory
from core.services import notification_send
from inventory.finops.choices import OPEN_FINDING_STATUSES, FindingKind, FindingStatus
from inventory.finops.models import Finding
from inventory.gpu.catalogue import mig_fraction
from inventory.gpu.models import GPUAllocation, GPUPool
from inventory.usage.choices import CostCategory
from inventory.usage.models import CostRecord, GPUDevice, UsageDaily

HOURS_PER_MONTH = Decimal(730)
LOOKBACK_DAYS = 30
CLEARED_REASON = "cleared by scan"
CENT = Decimal("0.01")
FLOAT_TOLERANCE = 1e-9


def _money(value) -> Decimal:
    return Decimal(value).quantize(CENT)


def monthly_cost(allocation) -> Decimal:
    """gpu_count × 730 × pool.hourly_rate."""
    return Decimal(allocation.gpu_count) * HOURS_PER_MONTH * allocation.pool.hourly_rate


def _allocation_subject(allocation) -> dict:
    return {
        "allocation": allocation,
        "pool": allocation.pool,
        "business_unit": allocation.business_unit,
        "initiative": allocation.initiative,
        "currency": allocation.pool.currency,
    }


def _fmt(value: Decimal) -> str:
    return f"{Decimal(value).normalize():f}"


def _window(today, window_days):
    end = today - datetime.timedelta(days=1)
    start = today - datetime.timedelta(days=window_days)
    return start, end


def _aware_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def detect(*, today, threshold, window_days, expiring_days, target_high) -> dict:
    """Every finding that holds on ``today``: {(kind, subject_key): fields}."""
    found: dict[tuple[str, str], dict] = {}
    start, end = _window(today, window_days)
    active = list(
        GPUAllocation.objects.active_on(today).select_related(
            "pool", "business_unit", "initiative", "requested_by"
        )
    )
    usage = (
        {
            row["allocation"]: row
            for row in UsageDaily.objects.filter(
                allocation__in=[allocation.pk for allocation in active],
                day__gte=start,
                day__lte=end,
                samples__gt=0,
                avg_activity__isnull=False,
            )
            .values("allocation")
            .annotate(
                days=Count("day", distinct=True),
                weighted=Sum(F("avg_activity") * F("samples"), output_field=FloatField()),
                samples=Sum("samples"),
                max_p95=Max("p95_activity"),
            )
            .order_by()
        }
        if active
        else {}
    )

    for allocation in active:
        subject = _allocation_subject(allocation)
        rate = allocation.pool.hourly_rate
        row = usage.get(allocation.pk)
        covered = row is not None and row["days"] >= window_days
        idle = False
        if covered:
            average = row["weighted"] / row["samples"]
            if average < threshold - FLOAT_TOLERANCE:
                idle = True
                found[(FindingKind.IDLE, f"allocation:{allocation.pk}")] = {
                    **subject,
                    "summary": f"{_fmt(allocation.gpu_count)} GPU(s) in {allocation.pool.name} "
                    f"averaged {average:.1%} activity over {window_days} days",
                    "monthly_waste": _money(monthly_cost(allocation)),
                    "detail": {
                        "average_activity": round(average, 6),
                        "threshold": threshold,
                        "window": [start.isoformat(), end.isoformat()],
                        "samples": row["samples"],
                    },
                }
        if covered and not idle and allocation.gpu_count >= 2 and row["max_p95"] is not None:
            p95 = Decimal(str(row["max_p95"]))
            needed = max(
                1, math.ceil(Decimal(allocation.gpu_count) * p95 / Decimal(str(target_high)))
            )
            if needed < allocation.gpu_count:
                spare = Decimal(allocation.gpu_count) - needed
                found[(FindingKind.OVER_PROVISIONED, f"allocation:{allocation.pk}")] = {
                    **subject,
                    "summary": f"{_fmt(allocation.gpu_count)} GPUs in {allocation.pool.name}: "
                    f"p95 activity {float(p95):.0%} fits on {needed}",
                    "monthly_waste": _money(spare * HOURS_PER_MONTH * rate),
                    "detail": {
                        "max_p95_activity": float(p95),
                        "target_high": target_high,
                        "needed_gpus": needed,
                        "window": [start.isoformat(), end.isoformat()],
                    },
                }
        if allocation.is_orphaned:
            why = (
                "no initiative"
                if allocation.initiative_id is None
                else f"initiative {allocation.initiative.reference} is "
                f"{allocation.initiative.get_stage_display().lower()}"
            )
            found[(FindingKind.ORPHANED, f"allocation:{allocation.pk}")] = {
                **subject,
                "summary": f"{_fmt(allocation.gpu_count)} GPU(s) in {allocation.pool.name}: {why}",
                "monthly_waste": _money(monthly_cost(allocation)),
                "detail": {"reason": why},
            }
        if allocation.ends_on and allocation.ends_on <= today + datetime.timedelta(
            days=expiring_days
        ):
            found[(FindingKind.EXPIRING, f"allocation:{allocation.pk}")] = {
                **subject,
                "summary": f"{_fmt(allocation.gpu_count)} GPU(s) in {allocation.pool.name} "
                f"end on {allocation.ends_on:%d %b %Y}",
                "monthly_waste": Decimal("0.00"),
                "detail": {"ends_on": allocation.ends_on.isoformat()},
            }

    # Ended allocations still billing.
    lookback = _aware_start(today - datetime.timedelta(days=LOOKBACK_DAYS))
    billing = (
        CostRecord.objects.filter(
            allocation__ends_on__lt=today,
            category=CostCategory.USAGE,
            charge_period_start__gte=lookback,
            charge_period_start__date__gt=F("allocation__ends_on"),
        )
        .values("allocation")
        .annotate(cost=Sum("effective_cost"), last=Max("charge_period_end"))
        .order_by()
    )
    billing = {row["allocation"]: row for row in billing}
    if billing:
        ended = GPUAllocation.objects.filter(pk__in=list(billing)).select_related(
            "pool", "business_unit", "initiative", "requested_by"
        )
        for allocation in ended:
            row = billing[allocation.pk]
            found[(FindingKind.ORPHANED, f"billing:allocation:{allocation.pk}")] = {
                **_allocation_subject(allocation),
                "summary": f"Allocation in {allocation.pool.name} ended on "
                f"{allocation.ends_on:%d %b %Y} but is still billed",
                "monthly_waste": _money(row["cost"]),
                "detail": {
                    "ended_on": allocation.ends_on.isoformat(),
                    "post_end_cost_last_30_days": str(row["cost"]),
                    "last_billed": row["last"].isoformat() if row["last"] else None,
                },
            }

    # Unattributed devices holding memory.
    devices = GPUDevice.objects.filter(
        allocation__isnull=True,
        last_memory_used_mib__gt=0,
        last_seen_at__gte=_aware_start(start),
    ).select_related("gpu_type", "pool")
    for device in devices:
        fraction = mig_fraction(device.mig_profile) if device.mig_instance else 1
        if device.pool_id and device.pool.hourly_rate > 0:
            price, basis = device.pool.hourly_rate, f"pool {device.pool.name} rate card"
        elif device.gpu_type_id and device.gpu_type.reference_hourly_price is not None:
            price, basis = device.gpu_type.reference_hourly_price, "GPU type reference price"
        else:
            price, basis = None, "unknown price (no pool rate or reference price)"
        waste = (
            Decimal(0)
            if price is None
            else price
            * HOURS_PER_MONTH
            * Decimal(fraction.numerator)
            / Decimal(fraction.denominator)
        )
        found[(FindingKind.ORPHANED, f"device:{device.pk}")] = {
            "device": device,
            "pool": device.pool,
            "currency": device.pool.currency if device.pool_id else "USD",
            "summary": f"Unattributed GPU {device} holds {device.last_memory_used_mib} MiB",
            "monthly_waste": _money(waste),
            "detail": {
                "memory_used_mib": device.last_memory_used_mib,
                "last_seen_at": device.last_seen_at.isoformat(),
                "mig_profile": device.mig_profile,
                "mig_fraction": str(fraction),
                "price_basis": basis,
            },
        }

    # Unused reservations and commitments.
    reservations = (
        CostRecord.objects.filter(
            category=CostCategory.IDLE_COMMITMENT, charge_period_start__gte=lookback
        )
        .annotate(
            key=Coalesce(NullIf("commitment_id", Value("")), NullIf("resource_id", Value("")))
        )
        .values("key")
        .annotate(
            cost=Sum("effective_cost"),
            first=Min("charge_period_start"),
            last=Max("charge_period_end"),
            pool=Max("pool"),
            records=Count("pk"),
        )
        .order_by()
    )
    reservation_rows = list(reservations)
    pools = {}
    if reservation_rows:
        pools = GPUPool.objects.in_bulk([row["pool"] for row in reservation_rows if row["pool"]])
    for row in reservation_rows:
        key = row["key"] or "unidentified"
        hours = Decimal(max((row["last"] - row["first"]).total_seconds(), 3600)) / 3600
        pool = pools.get(row["pool"])
        found[(FindingKind.UNUSED_RESERVATION, f"reservation:{key}"[:300])] = {
            "pool": pool,
            "currency": pool.currency if pool else "USD",
            "summary": f"Unused reservation {key}" + (f" in {pool.name}" if pool else ""),
            "monthly_waste": _money(row["cost"] * HOURS_PER_MONTH / hours),
            "detail": {
                "idle_cost_last_30_days": str(row["cost"]),
                "hours_covered": float(hours),
                "records": row["records"],
            },
        }
    return found


UPDATED_FIELDS = ("summary", "detail", "monthly_waste", "currency", "last_seen_at")


def findings_scan(*, today=None, threshold=None, window_days=None, actor=None) -> dict:
    """Open, update and resolve findings; returns counts per kind."""
    config = settings.KEEL_FINOPS
    today = today or timezone.localdate()
    threshold = config["IDLE_THRESHOLD"] if threshold is None else float(threshold)
    window_days = config["IDLE_WINDOW_DAYS"] if window_days is None else int(window_days)
    if window_days < 1:
        raise ValidationError({"window_days": "The window needs at least one day."})
    now = timezone.now()
    found = detect(
        today=today,
        threshold=threshold,
        window_days=window_days,
        expiring_days=config["EXPIRING_DAYS"],
        target_high=config["TARGET_HIGH"],
    )
    counts = {kind: {"opened": 0, "updated": 0, "resolved": 0} for kind in FindingKind.values}
    with transaction.atomic():
        existing = {
            (finding.kind, finding.subject_key): finding
            for finding in Finding.objects.select_for_update().filter(
                status__in=OPEN_FINDING_STATUSES
            )
        }
        to_update, to_create = [], []
        for (kind, key), fields in found.items():
            finding = existing.get((kind, key))
            if finding is not None:
                for name in UPDATED_FIELDS:
                    setattr(finding, name, now if name == "last_seen_at" else fields.get(name))
                finding.currency = fields.get("currency") or finding.currency
                to_update.append(finding)
                counts[kind]["updated"] += 1
            else:
                to_create.append(
                    Finding(
                        kind=kind,
                        subject_key=key,
                        allocation=fields.get("allocation"),
                        device=fields.get("device"),
                        pool=fields.get("pool"),
                        business_unit=fields.get("business_unit"),
                        initiative=fields.get("initiative"),
                        summary=fields["summary"][:300],
                        detail=fields["detail"],
                        monthly_waste=fields["monthly_waste"],
                        currency=fields.get("currency") or "USD",
                        first_seen_at=now,
                        last_seen_at=now,
                    )
                )
        if to_update:
            Finding.objects.bulk_update(to_update, UPDATED_FIELDS, batch_size=500)
        if to_create:
            # A concurrent scan may have created the same open finding: skip it quietly.
            Finding.objects.bulk_create(to_create, ignore_conflicts=True, batch_size=500)
        cleared = [finding for key, finding in existing.items() if key not in found]
        if cleared:
            Finding.objects.filter(
                pk__in=[finding.pk for finding in cleared], status__in=OPEN_FINDING_STATUSES
            ).update(
                status=FindingStatus.RESOLVED, reason=CLEARED_REASON, acted_at=now, acted_by=None
            )
            for finding in cleared:
                counts[finding.kind]["resolved"] += 1
        created = _notify_new(found)
        for kind, _ in created:
            counts[kind]["opened"] += 1
        record_event(
            actor=actor,
            action="gpu_findings.scanned",
            object_type="inventory.finding",
            after={
                "today": today.isoformat(),
                "threshold": threshold,
                "window_days": window_days,
                "counts": counts,
            },
        )
    return counts


def _notify_new(found: dict) -> list[tuple[str, str]]:
    """Notify the findings not notified yet, each once (claimed by a compare-and-set)."""
    pending = (
        Finding.objects.filter(status__in=OPEN_FINDING_STATUSES, notified_at__isnull=True)
        .select_related("allocation__requested_by", "initiative__accountable_owner", "pool")
        .order_by("pk")
    )
    created = []
    now = timezone.now()
    for finding in pending:
        if (finding.kind, finding.subject_key) not in found:
            continue
        if not Finding.objects.filter(pk=finding.pk, notified_at__isnull=True).update(
            notified_at=now
        ):
            continue  # another scan claimed it
        created.append((finding.kind, finding.subject_key))
        recipients = {}
        if finding.allocation_id and finding.allocation.requested_by_id:
            recipients[finding.allocation.requested_by_id] = finding.allocation.requested_by
        if finding.initiative_id:
            owner = finding.initiative.accountable_owner
            recipients[owner.pk] = owner
        for user in recipients.values():
            if not user.is_active:
                continue
            notification_send(
                recipient=user,
                subject=f"GPU finding ({finding.get_kind_display().lower()}): {finding.summary}",
                body=f"Estimated waste {finding.monthly_waste} {finding.currency} per month. "
                "Acknowledge or resolve it with a reason.",
                url=reverse("inventory:finding_detail", args=[finding.pk]),
                kind=NotificationKind.GPU_FINDING,
            )
    return created


# --- User actions --------------------------------------------------------------------------


def can_act_on_finding(user, finding) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if can_manage_inventory(user):
        return True
    return bool(finding.business_unit_id) and finding.business_unit_id in business_unit_ids(
        user, BU_WRITE_ROLES
    )


def _act(*, actor, finding, reason, to_status, allowed_from, verb) -> Finding:
    if not can_act_on_finding(actor, finding):
        raise PermissionDenied(f"You cannot {verb} this finding.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": f"Give a reason to {verb} the finding."})
    now = timezone.now()
    with transaction.atomic():
        changed = Finding.objects.filter(pk=finding.pk, status__in=allowed_from).update(
            status=to_status, reason=reason, acted_by=actor, acted_at=now
        )
        if not changed:
            current = Finding.objects.filter(pk=finding.pk).values_list("status", flat=True).first()
            label = FindingStatus(current).label.lower() if current else "gone"
            raise Conflict(f"The finding is already {label}.")
        before = finding.status
        finding.refresh_from_db()
        record_event(
            actor=actor,
            action=f"gpu_finding.{to_status}",
            target=finding,
            before={"status": before},
            after={"status": to_status},
            reason=reason,
        )
    return finding


def finding_acknowledge(*, actor, finding, reason) -> Finding:
    """Open → acknowledged (known and accepted; the scan keeps updating it)."""
    return _act(
        actor=actor,
        finding=finding,
        reason=reason,
        to_status=FindingStatus.ACKNOWLEDGED,
        allowed_from=[FindingStatus.OPEN],
        verb="acknowledge",
    )


def finding_resolve(*, actor, finding, reason) -> Finding:
    """Open or acknowledged → resolved (a later scan opens a new finding if it still holds)."""
    return _act(
        actor=actor,
        finding=finding,
        reason=reason,
        to_status=FindingStatus.RESOLVED,
        allowed_from=sorted(OPEN_FINDING_STATUSES),
        verb="resolve",
    )
