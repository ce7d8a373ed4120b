"""GPU findings: boundaries, idempotent re-runs, one notification, auto-resolve, actions."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from core.choices import NotificationKind, Role
from core.exceptions import Conflict
from core.models import AuditEvent, Notification
from inventory.finops.choices import FindingKind, FindingStatus
from inventory.finops.models import Finding
from inventory.finops.services.findings import finding_acknowledge, finding_resolve, findings_scan
from inventory.finops.tasks import findings_scan_task
from inventory.usage.choices import CostCategory
from inventory.usage.models import GPUDevice, UsageDaily
from portfolio.initiatives.choices import Stage
from tests.factories import (
    GPUAllocationFactory,
    GPUPoolFactory,
    GPUTypeFactory,
    InitiativeFactory,
    UserFactory,
    member,
)
from tests.inventory.finops.test_chargeback import cost

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2025, 6, 15)
WINDOW = 7  # the 7 full days 8–14 June


def window_days(count=WINDOW):
    return [TODAY - datetime.timedelta(days=n) for n in range(count, 0, -1)]


def daily(allocation, *, avg, samples=100, p95=None, days=None):
    for day in days if days is not None else window_days():
        UsageDaily.objects.create(
            allocation=allocation,
            day=day,
            samples=samples,
            avg_activity=avg,
            p95_activity=avg if p95 is None else p95,
            gpu_hours=Decimal("24") * allocation.gpu_count,
        )


@pytest.fixture
def requester():
    return UserFactory(username="rita")


@pytest.fixture
def allocation(unit_a, requester):
    """2 GPUs at 3.50/GPU-hour: monthly cost 2 × 730 × 3.50 = 5110.00."""
    return GPUAllocationFactory(
        pool=GPUPoolFactory(name="train-pool", hourly_rate=Decimal("3.50")),
        business_unit=unit_a,
        initiative=InitiativeFactory(business_unit=unit_a, stage=Stage.PILOT),
        gpu_count=Decimal("2"),
        starts_on=datetime.date(2025, 5, 1),
        requested_by=requester,
    )


def scan(**kwargs):
    return findings_scan(today=TODAY, threshold=0.05, window_days=WINDOW, **kwargs)


def open_findings(kind=None):
    rows = Finding.objects.filter(status__in=[FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED])
    return rows.filter(kind=kind) if kind else rows


def test_exactly_at_threshold_is_not_idle(allocation):
    daily(allocation, avg=0.05)
    scan()
    assert not open_findings(FindingKind.IDLE).exists()


def test_just_below_threshold_is_idle_with_monthly_cost(allocation):
    daily(allocation, avg=0.0499)
    counts = scan()
    finding = open_findings(FindingKind.IDLE).get()
    assert counts[FindingKind.IDLE]["opened"] == 1
    assert finding.subject_key == f"allocation:{allocation.pk}"
    assert finding.monthly_waste == Decimal("5110.00")
    assert finding.business_unit == allocation.business_unit
    assert finding.initiative == allocation.initiative
    assert finding.detail["average_activity"] == pytest.approx(0.0499)


def test_average_is_weighted_by_samples(allocation):
    # Six days at 5.5 % with 100 samples, one at 0 % with 10: the plain mean of days is
    # 4.7 % (idle) but the sample-weighted average is 33 / 610 = 5.4 % (not idle).
    days = window_days()
    daily(allocation, avg=0.055, days=days[:-1])
    daily(allocation, avg=0.0, samples=10, days=days[-1:])
    scan()
    assert not open_findings(FindingKind.IDLE).exists()


def test_window_one_day_short_is_not_judged(allocation):
    daily(allocation, avg=0.0, days=window_days()[1:])  # 6 of the 7 days
    scan()
    assert not open_findings(FindingKind.IDLE).exists()
    assert not open_findings(FindingKind.OVER_PROVISIONED).exists()
    # A day with a roll-up but no samples does not cover the window either.
    UsageDaily.objects.create(allocation=allocation, day=window_days()[0], samples=0)
    scan()
    assert not open_findings(FindingKind.IDLE).exists()
    # Today's (partial) roll-up never counts.
    UsageDaily.objects.filter(samples=0).delete()
    UsageDaily.objects.create(allocation=allocation, day=TODAY, samples=50, avg_activity=0.0)
    scan()
    assert not open_findings(FindingKind.IDLE).exists()


def test_rerun_updates_without_duplicates_or_second_notification(allocation, requester):
    daily(allocation, avg=0.01)
    scan()
    first = open_findings(FindingKind.IDLE).get()
    owner = allocation.initiative.accountable_owner
    notified = Notification.objects.filter(kind=NotificationKind.GPU_FINDING)
    assert set(notified.values_list("recipient", flat=True)) == {requester.pk, owner.pk}
    assert first.notified_at is not None

    allocation.pool.hourly_rate = Decimal("4.00")
    allocation.pool.save()
    counts = scan()
    again = open_findings(FindingKind.IDLE).get()
    assert again.pk == first.pk
    assert counts[FindingKind.IDLE] == {"opened": 0, "updated": 1, "resolved": 0}
    assert again.monthly_waste == Decimal("5840.00")
    assert again.last_seen_at > first.last_seen_at
    assert notified.count() == 2
    assert AuditEvent.objects.filter(action="gpu_findings.scanned").count() == 2


def test_cleared_condition_is_auto_resolved(allocation):
    daily(allocation, avg=0.01)
    scan()
    UsageDaily.objects.update(avg_activity=0.5, p95_activity=0.5)
    counts = scan()
    finding = Finding.objects.get(kind=FindingKind.IDLE)
    assert finding.status == FindingStatus.RESOLVED
    assert finding.reason == "cleared by scan"
    assert counts[FindingKind.IDLE]["resolved"] == 1


def test_acknowledged_finding_is_kept_and_updated(allocation, member_a):
    daily(allocation, avg=0.01)
    scan()
    finding = open_findings(FindingKind.IDLE).get()
    finding_acknowledge(actor=member_a, finding=finding, reason="Batch job starts Monday")
    scan()
    finding.refresh_from_db()
    assert finding.status == FindingStatus.ACKNOWLEDGED
    assert Finding.objects.filter(kind=FindingKind.IDLE).count() == 1


def test_over_provisioned_boundaries(unit_a):
    pool = GPUPoolFactory(hourly_rate=Decimal("2.00"))
    initiative = InitiativeFactory(business_unit=unit_a, stage=Stage.PRODUCTION)

    def four_gpus(p95):
        allocation = GPUAllocationFactory(
            pool=pool,
            business_unit=unit_a,
            initiative=initiative,
            gpu_count=Decimal("4"),
            starts_on=datetime.date(2025, 1, 1),
        )
        daily(allocation, avg=0.3, p95=p95)
        return allocation

    fits_two = four_gpus(0.425)  # 4 × 0.425 / 0.85 = 2 exactly → 2 needed
    needs_three = four_gpus(0.43)  # 2.02 → 3 needed
    busy = four_gpus(0.80)  # 3.76 → 4 needed: no finding
    scan()
    found = {f.allocation_id: f for f in open_findings(FindingKind.OVER_PROVISIONED)}
    assert set(found) == {fits_two.pk, needs_three.pk}
    assert found[fits_two.pk].monthly_waste == Decimal("2920.00")  # 2 × 730 × 2.00
    assert found[needs_three.pk].monthly_waste == Decimal("1460.00")
    assert found[fits_two.pk].detail["needed_gpus"] == 2
    assert busy.pk not in found
    assert not open_findings(FindingKind.IDLE).exists()


def test_orphaned_allocations(unit_a):
    pool = GPUPoolFactory(hourly_rate=Decimal("1.00"))
    none = GPUAllocationFactory(pool=pool, business_unit=unit_a, initiative=None)
    paused = GPUAllocationFactory(
        pool=pool,
        business_unit=unit_a,
        initiative=InitiativeFactory(business_unit=unit_a, stage=Stage.PAUSED),
    )
    fine = GPUAllocationFactory(
        pool=pool,
        business_unit=unit_a,
        initiative=InitiativeFactory(business_unit=unit_a, stage=Stage.PILOT),
    )
    for allocation in (none, paused, fine):
        allocation.starts_on = datetime.date(2025, 6, 1)
        allocation.save()
    scan()
    found = {f.allocation_id: f for f in open_findings(FindingKind.ORPHANED)}
    assert set(found) == {none.pk, paused.pk}
    assert found[none.pk].monthly_waste == Decimal("730.00")
    assert "paused" in found[paused.pk].summary


def test_ended_allocation_still_billing(unit_a):
    ended = GPUAllocationFactory(
        pool=GPUPoolFactory(hourly_rate=Decimal("1.00")),
        business_unit=unit_a,
        initiative=InitiativeFactory(business_unit=unit_a),
        starts_on=datetime.date(2025, 4, 1),
        ends_on=datetime.date(2025, 6, 1),
    )
    june = datetime.date(2025, 6, 1)
    cost("40.00", allocation=ended, month=june, day=1)  # on its last day: fine
    cost("12.50", allocation=ended, month=june, day=3)
    cost("7.50", allocation=ended, month=june, day=9)
    scan()
    finding = open_findings(FindingKind.ORPHANED).get()
    assert finding.subject_key == f"billing:allocation:{ended.pk}"
    assert finding.monthly_waste == Decimal("20.00")


def test_unattributed_device_holding_memory(unit_a):
    h100 = GPUTypeFactory(name="Test H100", reference_hourly_price=Decimal("3.00"))
    pool = GPUPoolFactory(gpu_type=h100, hourly_rate=Decimal("3.50"))
    seen = timezone.make_aware(datetime.datetime(2025, 6, 14, 12))
    mig = GPUDevice.objects.create(
        hostname="node-1",
        gpu="GPU-1",
        mig_instance="1",
        mig_profile="3g.40gb",
        gpu_type=h100,
        pool=pool,
        first_seen_at=seen,
        last_seen_at=seen,
        last_memory_used_mib=2048,
    )
    whole = GPUDevice.objects.create(
        hostname="node-2",
        gpu="GPU-2",
        gpu_type=h100,
        first_seen_at=seen,
        last_seen_at=seen,
        last_memory_used_mib=10,
    )
    unknown = GPUDevice.objects.create(
        hostname="node-3",
        gpu="GPU-3",
        first_seen_at=seen,
        last_seen_at=seen,
        last_memory_used_mib=10,
    )
    GPUDevice.objects.create(  # no memory held
        hostname="node-4",
        gpu="GPU-4",
        first_seen_at=seen,
        last_seen_at=seen,
        last_memory_used_mib=0,
    )
    old = seen - datetime.timedelta(days=30)
    GPUDevice.objects.create(  # not seen within the window
        hostname="node-5",
        gpu="GPU-5",
        first_seen_at=old,
        last_seen_at=old,
        last_memory_used_mib=100,
    )
    scan()
    found = {f.device_id: f for f in open_findings(FindingKind.ORPHANED)}
    assert set(found) == {mig.pk, whole.pk, unknown.pk}
    assert found[mig.pk].monthly_waste == Decimal("1095.00")  # 3.50 × 730 × 3/7
    assert found[whole.pk].monthly_waste == Decimal("2190.00")  # reference 3.00 × 730
    assert found[unknown.pk].monthly_waste == Decimal("0.00")
    assert "unknown" in found[unknown.pk].detail["price_basis"]


def test_unused_reservation_scaled_to_a_month():
    pool = GPUPoolFactory(name="reserved")
    june = datetime.date(2025, 6, 1)
    cost(
        "10.00",
        category=CostCategory.IDLE_COMMITMENT,
        pool=pool,
        month=june,
        day=10,
        commitment_id="cr-1",
    )
    cost(
        "14.00",
        category=CostCategory.IDLE_COMMITMENT,
        pool=pool,
        month=june,
        day=11,
        commitment_id="cr-1",
    )
    scan()
    finding = open_findings(FindingKind.UNUSED_RESERVATION).get()
    assert finding.subject_key == "reservation:cr-1"
    assert finding.pool == pool
    assert finding.monthly_waste == Decimal("365.00")  # 24.00 over 48 h → × 730 h


def test_expiring_boundaries(unit_a):
    initiative = InitiativeFactory(business_unit=unit_a, stage=Stage.PILOT)

    def ending(days):
        return GPUAllocationFactory(
            business_unit=unit_a,
            initiative=initiative,
            starts_on=datetime.date(2025, 6, 1),
            ends_on=TODAY + datetime.timedelta(days=days),
        )

    inside, today_end = ending(14), ending(0)
    ending(15)
    ending(-1)  # ended yesterday: not expiring
    scan()
    found = set(open_findings(FindingKind.EXPIRING).values_list("allocation", flat=True))
    assert found == {inside.pk, today_end.pk}


def test_acknowledge_and_resolve_rules(allocation, member_a, member_b, platform_engineer):
    daily(allocation, avg=0.0)
    scan()
    finding = open_findings(FindingKind.IDLE).get()
    with pytest.raises(ValidationError) as error:
        finding_acknowledge(actor=member_a, finding=finding, reason=" ")
    assert "reason" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        finding_acknowledge(actor=member_b, finding=finding, reason="not mine")
    executive = member(Role.EXECUTIVE, allocation.business_unit, username="exec2")
    with pytest.raises(PermissionDenied):
        finding_resolve(actor=executive, finding=finding, reason="read-only role")

    finding_acknowledge(actor=member_a, finding=finding, reason="Known, job next week")
    finding.refresh_from_db()
    assert (finding.status, finding.acted_by) == (FindingStatus.ACKNOWLEDGED, member_a)
    with pytest.raises(Conflict):
        finding_acknowledge(actor=member_a, finding=finding, reason="again")
    finding_resolve(actor=platform_engineer, finding=finding, reason="Released the GPUs")
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RESOLVED
    assert finding.reason == "Released the GPUs"
    with pytest.raises(Conflict):
        finding_resolve(actor=platform_engineer, finding=finding, reason="twice")
    events = AuditEvent.objects.filter(action__startswith="gpu_finding.")
    assert list(events.order_by("sequence").values_list("action", "reason")) == [
        ("gpu_finding.acknowledged", "Known, job next week"),
        ("gpu_finding.resolved", "Released the GPUs"),
    ]


def test_device_findings_only_for_inventory_managers(member_a, coe_admin):
    seen = timezone.now()
    GPUDevice.objects.create(
        hostname="n", gpu="0", first_seen_at=seen, last_seen_at=seen, last_memory_used_mib=5
    )
    findings_scan()
    finding = Finding.objects.get()
    with pytest.raises(PermissionDenied):
        finding_resolve(actor=member_a, finding=finding, reason="x")
    finding_resolve(actor=coe_admin, finding=finding, reason="Reclaimed")


def test_scan_task_uses_the_settings(allocation, settings):
    settings.KEEL_FINOPS = {**settings.KEEL_FINOPS, "IDLE_THRESHOLD": 0.2}
    today = timezone.localdate()
    days = [today - datetime.timedelta(days=n) for n in range(7, 0, -1)]
    allocation.starts_on = today - datetime.timedelta(days=30)
    allocation.save()
    daily(allocation, avg=0.1, days=days)
    result = findings_scan_task.delay().get()
    assert result[FindingKind.IDLE]["opened"] == 1


@pytest.mark.postgres
@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="real concurrency needs PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_scans_neither_crash_nor_duplicate(unit_a):
    requester = UserFactory(username="conc")
    for _ in range(3):
        GPUAllocationFactory(business_unit=unit_a, initiative=None, requested_by=requester)
    barrier = threading.Barrier(4)
    errors = []

    def work():
        try:
            connection.ensure_connection()
            barrier.wait(timeout=15)
            findings_scan()
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert Finding.objects.filter(kind=FindingKind.ORPHANED).count() == 3
    assert Notification.objects.filter(recipient=requester).count() == 3
