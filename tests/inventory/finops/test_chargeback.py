"""Chargeback known answers, policies, exact distribution, frozen months."""

import datetime
import itertools
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.choices import Role
from core.exceptions import Conflict
from core.models import AuditEvent
from inventory.finops.choices import ChargebackStatus, IdleSharePolicy
from inventory.finops.models import ChargebackLine, ChargebackMonth
from inventory.finops.selectors import chargeback_by_bu, chargeback_drilldown, chargeback_summary
from inventory.finops.services.chargeback import (
    chargeback_close,
    chargeback_compute,
    chargeback_reopen,
    distribute,
)
from inventory.usage.choices import CostCategory, CostMatch, IngestKind, IngestStatus
from inventory.usage.models import CostRecord, IngestBatch
from portfolio.initiatives.choices import Stage
from tests.factories import (
    BusinessUnitFactory,
    GPUAllocationFactory,
    GPUPoolFactory,
    InitiativeFactory,
    member,
)

pytestmark = pytest.mark.django_db

MARCH = datetime.date(2025, 3, 1)
Kind = ChargebackLine.Kind
_sequence = itertools.count()


def focus_batch() -> IngestBatch:
    n = next(_sequence)
    return IngestBatch.objects.create(
        kind=IngestKind.FOCUS,
        filename=f"focus-{n}.csv",
        sha256=f"{n:064d}",
        status=IngestStatus.IMPORTED,
    )


def cost(
    amount,
    *,
    month=MARCH,
    category=CostCategory.USAGE,
    allocation=None,
    initiative=None,
    business_unit=None,
    pool=None,
    day=5,
    hours=24,
    gpu_hours="0",
    batch=None,
    commitment_id="",
    resource_id="",
) -> CostRecord:
    """A classified, matched cost record as the ingest engine writes it (an allocation
    implies its initiative, unit and pool)."""
    n = next(_sequence)
    if allocation is not None:
        initiative = allocation.initiative
        business_unit = allocation.business_unit
        pool = allocation.pool
    elif initiative is not None:
        business_unit = initiative.business_unit
    start = datetime.datetime(month.year, month.month, day, tzinfo=datetime.UTC)
    matched = (
        CostMatch.RESOURCE_ID
        if allocation
        else CostMatch.COST_TAG
        if initiative
        else CostMatch.SUB_ACCOUNT
        if business_unit or pool
        else CostMatch.NONE
    )
    return CostRecord.objects.create(
        batch=batch or focus_batch(),
        line=n + 2,
        fingerprint=f"fp-{n}",
        provider="AWS",
        month=month.replace(day=1),
        charge_period_start=start,
        charge_period_end=start + datetime.timedelta(hours=hours),
        category=category,
        charge_category="Usage",
        billed_cost=Decimal(str(amount)),
        effective_cost=Decimal(str(amount)),
        currency="USD",
        gpu_hours=Decimal(gpu_hours),
        matched_by=matched,
        allocation=allocation,
        initiative=initiative,
        business_unit=business_unit,
        pool=pool,
        commitment_id=commitment_id,
        resource_id=resource_id,
    )


def lines_total(chargeback) -> Decimal:
    return sum((line.amount for line in chargeback.lines.all()), Decimal(0))


@pytest.fixture
def month_estate(unit_a, unit_b):
    """The known-answer month (March 2025, 31 days), totals worked out by hand:

    unit_a direct: A1 FOCUS 1000.50 + 499.25, A2 rate 1 GPU × 24 h × 10 days × 3.00 = 720.00,
    unit-only 50.00                                                     → 2269.75
    unit_b direct: B1 rate 4 × 24 × 31 × 2.00 = 5952.00, initiative-only 200.00 → 6152.00
    orphaned: B2 (no initiative) FOCUS 300.00 plus C1 (initiative retired) rate
    1 × 24 × 31 × 2.00 = 1488.00                                        → 1788.00
    shared (pool Q only) 120.00; unattributed 80.10; idle (pool P) 100.00;
    credit on A1 −25.00 (unit_a adjustment); tax unmatched 10.00 (unattributed adjustment);
    NON_GPU 999.00 and an April record 5000.00 are not part of March's GPU chargeback.
    Imported GPU cost = 1000.50 + 499.25 + 300 + 200 + 50 + 120 + 80.10 + 100 − 25 + 10
    = 2334.85; rate-based = 720 + 5952 + 1488 = 8160.00; everything = 10494.85.
    """
    pool_p = GPUPoolFactory(name="pool-p", hourly_rate=Decimal("2.00"), gpu_count=64)
    pool_q = GPUPoolFactory(name="pool-q", hourly_rate=Decimal("3.00"), gpu_count=64)
    initiative_a = InitiativeFactory(business_unit=unit_a, stage=Stage.PILOT)
    initiative_b = InitiativeFactory(business_unit=unit_b, stage=Stage.PRODUCTION)
    retired = InitiativeFactory(business_unit=unit_b, stage=Stage.RETIRED)
    a1 = GPUAllocationFactory(
        pool=pool_p,
        business_unit=unit_a,
        initiative=initiative_a,
        gpu_count=Decimal("2"),
        starts_on=datetime.date(2025, 1, 1),
    )
    a2 = GPUAllocationFactory(
        pool=pool_q,
        business_unit=unit_a,
        initiative=initiative_a,
        gpu_count=Decimal("1"),
        starts_on=datetime.date(2025, 3, 11),
        ends_on=datetime.date(2025, 3, 20),
    )
    b1 = GPUAllocationFactory(
        pool=pool_p,
        business_unit=unit_b,
        initiative=initiative_b,
        gpu_count=Decimal("4"),
        starts_on=datetime.date(2025, 2, 1),
        ends_on=datetime.date(2025, 4, 30),
    )
    b2 = GPUAllocationFactory(
        pool=pool_p,
        business_unit=unit_b,
        initiative=None,
        gpu_count=Decimal("1"),
        starts_on=datetime.date(2025, 1, 1),
    )
    c1 = GPUAllocationFactory(
        pool=pool_p,
        business_unit=unit_b,
        initiative=retired,
        gpu_count=Decimal("1"),
        starts_on=datetime.date(2025, 1, 1),
    )
    # Not active in March: no line.
    GPUAllocationFactory(
        pool=pool_p,
        business_unit=unit_a,
        initiative=initiative_a,
        starts_on=datetime.date(2025, 1, 1),
        ends_on=datetime.date(2025, 2, 28),
    )
    GPUAllocationFactory(
        pool=pool_p,
        business_unit=unit_a,
        initiative=initiative_a,
        starts_on=datetime.date(2025, 4, 1),
    )
    batch = focus_batch()
    cost("1000.50", allocation=a1, batch=batch, gpu_hours="300")
    cost("499.25", allocation=a1, batch=batch, day=20, gpu_hours="150")
    cost("300.00", allocation=b2, batch=batch)
    cost("200.00", initiative=initiative_b, batch=batch)
    cost("50.00", business_unit=unit_a, batch=batch)
    cost("120.00", pool=pool_q, batch=batch)
    cost("80.10", batch=batch)
    cost("100.00", category=CostCategory.IDLE_COMMITMENT, pool=pool_p, batch=batch)
    cost("-25.00", category=CostCategory.CREDIT, allocation=a1, batch=batch)
    cost("10.00", category=CostCategory.TAX, batch=batch)
    cost("999.00", category=CostCategory.NON_GPU, business_unit=unit_a, batch=batch)
    cost("5000.00", allocation=a1, month=datetime.date(2025, 4, 1), batch=batch)
    return {
        "pool_p": pool_p,
        "pool_q": pool_q,
        "a1": a1,
        "a2": a2,
        "b1": b1,
        "b2": b2,
        "c1": c1,
        "initiative_a": initiative_a,
        "initiative_b": initiative_b,
    }


def by_unit(figures) -> dict:
    return {row["business_unit"].code: row for row in figures["rows"]}


def test_known_answer_separate_policy(month_estate, unit_a, unit_b, platform_engineer):
    chargeback = chargeback_compute(month=MARCH, policy=IdleSharePolicy.SEPARATE)
    figures = chargeback_by_bu(chargeback, platform_engineer)
    units = by_unit(figures)

    assert units["RETAIL"]["direct"] == Decimal("2269.75")
    assert units["RETAIL"]["adjustments"] == Decimal("-25.00")
    assert units["RETAIL"]["total"] == Decimal("2244.75")
    assert units["INSURE"]["direct"] == Decimal("6152.00")
    assert units["INSURE"]["orphaned"] == Decimal("1788.00")
    assert units["INSURE"]["total"] == Decimal("6152.00")  # orphaned shown apart
    assert units["INSURE"]["idle_share"] == units["INSURE"]["shared_share"] == 0
    assert figures["orphaned"] == Decimal("1788.00")
    assert figures["unattributed"] == Decimal("80.10")
    assert figures["unattributed_adjustments"] == Decimal("10.00")
    assert figures["idle_separate"] == Decimal("100.00")
    assert figures["shared_separate"] == Decimal("120.00")
    assert figures["grand_total"] == Decimal("10494.85")

    # Σ units + orphaned + unattributed + kept apart = imported GPU spend + rate-based cost.
    parts = (
        figures["bu_total"]
        + figures["orphaned"]
        + figures["unattributed"]
        + figures["unattributed_adjustments"]
        + figures["idle_separate"]
        + figures["shared_separate"]
    )
    summary = chargeback_summary(chargeback, platform_engineer)
    assert summary["imported_gpu"] == Decimal("2334.85")
    assert summary["rate_based"] == Decimal("8160.00")
    assert summary["non_gpu_records"] == 1
    assert summary["non_gpu_total"] == Decimal("999.00")
    assert parts == summary["expected_total"] == lines_total(chargeback) == Decimal("10494.85")

    rate_lines = {
        line.allocation_id: line
        for line in chargeback.lines.filter(source=ChargebackLine.Source.RATE)
    }
    assert set(rate_lines) == {
        month_estate["a2"].pk,
        month_estate["b1"].pk,
        month_estate["c1"].pk,
    }
    assert rate_lines[month_estate["a2"].pk].gpu_hours == Decimal("240")
    assert rate_lines[month_estate["c1"].pk].kind == Kind.ORPHANED
    focus_a1 = chargeback.lines.get(allocation=month_estate["a1"], kind=Kind.DIRECT)
    assert focus_a1.amount == Decimal("1499.75")
    assert focus_a1.gpu_hours == Decimal("450")


def test_known_answer_proportional_distributes_exactly(month_estate, platform_engineer):
    chargeback = chargeback_compute(month=MARCH, policy=IdleSharePolicy.PROPORTIONAL)
    units = by_unit(chargeback_by_bu(chargeback, platform_engineer))
    # Weights 2269.75 : 6152.00 (sum 8421.75). Idle 100 → 26.951049|366… and 73.048950|633…
    # millionths: floors sum to 99.999999, the spare millionth goes to the larger remainder.
    # Shared 120 → 32.341259|239… and 87.658740|760… likewise.
    assert units["RETAIL"]["idle_share"] == Decimal("26.951049")
    assert units["INSURE"]["idle_share"] == Decimal("73.048951")
    assert units["RETAIL"]["shared_share"] == Decimal("32.341259")
    assert units["INSURE"]["shared_share"] == Decimal("87.658741")
    idle = chargeback.lines.filter(kind=Kind.IDLE_SHARE)
    assert sum(line.amount for line in idle) == Decimal("100.00")
    assert not chargeback.lines.filter(kind__in=[Kind.IDLE]).exists()
    assert lines_total(chargeback) == Decimal("10494.85")


def test_even_policy_splits_100_over_three_units_exactly(unit_a, unit_b):
    unit_c = BusinessUnitFactory(name="Wealth", code="WEALTH")
    pool = GPUPoolFactory(hourly_rate=Decimal("1.00"))
    for unit, amount in ((unit_a, "10.00"), (unit_b, "500.00"), (unit_c, "7.00")):
        cost(amount, business_unit=unit)
    cost("100.00", category=CostCategory.IDLE_COMMITMENT, pool=pool)
    chargeback = chargeback_compute(month=MARCH, policy=IdleSharePolicy.EVEN)
    shares = {
        line.business_unit.code: line.amount
        for line in chargeback.lines.filter(kind=Kind.IDLE_SHARE).select_related("business_unit")
    }
    # Ordered by name (Insurance, Retail Banking, Wealth): the spare millionth goes first.
    assert shares == {
        "INSURE": Decimal("33.333334"),
        "RETAIL": Decimal("33.333333"),
        "WEALTH": Decimal("33.333333"),
    }
    assert sum(shares.values()) == Decimal("100.000000")
    assert lines_total(chargeback) == Decimal("617.00")


def test_no_unit_with_direct_cost_keeps_idle_separate():
    pool = GPUPoolFactory()
    cost("55.55", category=CostCategory.IDLE_COMMITMENT, pool=pool)
    chargeback = chargeback_compute(month=MARCH, policy=IdleSharePolicy.PROPORTIONAL)
    line = chargeback.lines.get()
    assert (line.kind, line.business_unit, line.amount) == (Kind.IDLE, None, Decimal("55.55"))


@pytest.mark.parametrize(
    ("amount", "weights"),
    [
        ("100.00", [1, 1, 1]),
        ("0.000002", [1, 1, 1]),
        ("-25.000001", [3, 5, 7]),
        ("1234567.891011", ["0.3", "1000000", "7"]),
    ],
)
def test_distribute_is_exact(amount, weights):
    shares = distribute(Decimal(amount), [(i, Decimal(w)) for i, w in enumerate(weights)])
    assert sum(share for _, share in shares) == Decimal(amount)
    assert all(share.as_tuple().exponent >= -6 for _, share in shares)


def test_recompute_replaces_lines(month_estate):
    first = chargeback_compute(month=MARCH)
    count = first.lines.count()
    again = chargeback_compute(month=MARCH)
    assert again.pk == first.pk
    assert again.lines.count() == count


def test_closed_month_is_frozen_until_reopened(month_estate, platform_engineer):
    chargeback_compute(month=MARCH, policy=IdleSharePolicy.SEPARATE)
    closed = chargeback_close(actor=platform_engineer, month=MARCH)
    assert closed.status == ChargebackStatus.CLOSED
    before = chargeback_by_bu(closed, platform_engineer)["grand_total"]

    cost("1000.00", allocation=month_estate["a1"])  # imported after closing
    assert chargeback_by_bu(closed, platform_engineer)["grand_total"] == before
    with pytest.raises(Conflict):
        chargeback_compute(month=MARCH)
    with pytest.raises(Conflict):
        chargeback_close(actor=platform_engineer, month=MARCH)
    assert chargeback_by_bu(closed, platform_engineer)["grand_total"] == before

    with pytest.raises(ValidationError) as error:
        chargeback_reopen(actor=platform_engineer, month=MARCH, reason="  ")
    assert "reason" in error.value.message_dict
    reopened = chargeback_reopen(
        actor=platform_engineer, month=MARCH, reason="Late AWS credit note"
    )
    assert reopened.status == ChargebackStatus.OPEN
    event = AuditEvent.objects.get(action="chargeback.reopened")
    assert event.reason == "Late AWS credit note"
    assert event.actor_id == platform_engineer.pk

    recomputed = chargeback_compute(month=MARCH, actor=platform_engineer)
    after = chargeback_by_bu(recomputed, platform_engineer)["grand_total"]
    assert after == before + Decimal("1000.00")
    assert set(
        AuditEvent.objects.filter(action__startswith="chargeback.").values_list("action", flat=True)
    ) == {"chargeback.computed", "chargeback.closed", "chargeback.reopened"}


def test_reopen_of_an_open_month_conflicts(platform_engineer):
    chargeback_compute(month=MARCH)
    with pytest.raises(Conflict):
        chargeback_reopen(actor=platform_engineer, month=MARCH, reason="why not")


def test_only_platform_and_coe_manage_chargeback(member_a, coe_admin, unit_a):
    lead = member(Role.BU_LEAD, unit_a, username="lena")
    for user in (member_a, lead):
        with pytest.raises(PermissionDenied):
            chargeback_compute(month=MARCH, actor=user)
        with pytest.raises(PermissionDenied):
            chargeback_close(actor=user, month=MARCH)
    chargeback_close(actor=coe_admin, month=MARCH)
    with pytest.raises(PermissionDenied):
        chargeback_reopen(actor=member_a, month=MARCH, reason="x")


def test_invalid_policy_is_a_field_error():
    with pytest.raises(ValidationError) as error:
        chargeback_compute(month=MARCH, policy="random")
    assert "policy" in error.value.message_dict


def test_bu_user_sees_only_own_rows_and_no_org_totals(month_estate, member_a, unit_b):
    chargeback = chargeback_compute(month=MARCH, policy=IdleSharePolicy.PROPORTIONAL)
    figures = chargeback_by_bu(chargeback, member_a)
    assert [row["business_unit"].code for row in figures["rows"]] == ["RETAIL"]
    assert "grand_total" not in figures and "unattributed" not in figures
    assert chargeback_summary(chargeback, member_a) is None
    from django.http import Http404

    with pytest.raises(Http404):
        chargeback_drilldown(chargeback, unit_b, member_a)


def test_drilldown_groups_initiative_allocation_lines(month_estate, unit_a, member_a):
    chargeback = chargeback_compute(month=MARCH, policy=IdleSharePolicy.PROPORTIONAL)
    drill = chargeback_drilldown(chargeback, unit_a, member_a)
    assert drill["total"] == Decimal("2269.75") - Decimal("25") + Decimal("26.951049") + Decimal(
        "32.341259"
    )
    (group,) = drill["initiatives"]
    assert group["initiative"] == month_estate["initiative_a"]
    allocations = {entry["allocation"].pk: entry for entry in group["allocations"]}
    a1 = allocations[month_estate["a1"].pk]
    assert a1["total"] == Decimal("1474.75")  # 1499.75 usage − 25 credit
    assert sum(row["records"] for row in a1["cost_records"]) == 3
    assert allocations[month_estate["a2"].pk]["total"] == Decimal("720.00")
    assert drill["unassigned"]["total"] == Decimal("50.00") + Decimal("26.951049") + Decimal(
        "32.341259"
    )


def test_chargeback_command(month_estate, platform_engineer):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("chargeback", "compute", "2025-03", "--policy", "even", stdout=out)
    assert "policy even" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("chargeback", "close", "2025-03")  # needs --user
    call_command("chargeback", "close", "2025-03", "--user", platform_engineer.username, stdout=out)
    with pytest.raises(CommandError, match="Say why"):
        call_command("chargeback", "reopen", "2025-03", "--user", platform_engineer.username)
    call_command(
        "chargeback", "reopen", "2025-03", "--user", "pete", "--reason", "Late credit", stdout=out
    )
    assert "Open" in out.getvalue()


def test_scan_command(unit_a):
    from io import StringIO

    from django.core.management import call_command

    GPUAllocationFactory(business_unit=unit_a, initiative=None, starts_on=datetime.date(2025, 6, 1))
    out = StringIO()
    call_command("scan_gpu_findings", "--today", "2025-06-15", stdout=out)
    assert "orphaned: 1 opened" in out.getvalue()


def test_cost_import_recomputes_open_months_and_leaves_closed_ones_frozen(platform_engineer):
    """A FOCUS upload refreshes the chargeback of the open months it touches; a closed month
    keeps its frozen figures and the batch summary names it."""
    from pathlib import Path

    from inventory.finops.services import chargeback as chargeback_services
    from inventory.usage.services.batches import ingest_file

    fixture = Path(__file__).parent.parent / "fixtures" / "ingest" / "focus-1.2-gpu.csv"
    june = datetime.date(2025, 6, 1)
    closed = chargeback_services.chargeback_compute(month=june)
    chargeback_services.chargeback_close(actor=platform_engineer, month=june)
    frozen = list(closed.lines.values_list("kind", "amount"))
    batch = ingest_file(
        actor=platform_engineer,
        kind="focus",
        filename="june.csv",
        content=fixture.read_bytes(),
    )
    assert batch.summary["chargeback_closed_months"] == ["2025-06-01"]
    assert batch.summary["chargeback_recomputed"] == []
    assert list(closed.lines.values_list("kind", "amount")) == frozen

    chargeback_services.chargeback_reopen(
        actor=platform_engineer, month=june, reason="June bill arrived late"
    )
    again = fixture.read_bytes().replace(b"2025-06-03T", b"2025-06-04T")
    batch = ingest_file(actor=platform_engineer, kind="focus", filename="june-2.csv", content=again)
    assert batch.summary["chargeback_recomputed"] == ["2025-06-01"]
    total = sum(closed.lines.values_list("amount", flat=True), Decimal("0"))
    assert total == sum(
        CostRecord.objects.filter(month=june).values_list("effective_cost", flat=True),
        Decimal("0"),
    )


# --- The running month --------------------------------------------------------------------

MID_MAY = datetime.datetime(2025, 5, 10, 12, 0, tzinfo=datetime.UTC)
MAY = datetime.date(2025, 5, 1)


@pytest.fixture
def may_allocations(unit_a):
    """Two rate-costed allocations of May 2025: one held since April (2 GPUs, rate 2.00), one
    starting on 20 May; and a FOCUS-costed one, whose imported cost is not prorated."""
    pool = GPUPoolFactory(hourly_rate=Decimal("2.00"), gpu_count=64)
    initiative = InitiativeFactory(business_unit=unit_a, stage=Stage.PILOT)

    def allocate(gpu_count, starts_on, ends_on=None):
        return GPUAllocationFactory(
            pool=pool,
            business_unit=unit_a,
            initiative=initiative,
            gpu_count=gpu_count,
            starts_on=starts_on,
            ends_on=ends_on,
        )

    held = allocate(2, datetime.date(2025, 4, 1))
    later = allocate(8, datetime.date(2025, 5, 20), datetime.date(2025, 5, 31))
    costed = allocate(1, datetime.date(2025, 5, 1))
    cost("400.00", month=MAY, allocation=costed)
    return {"held": held, "later": later, "costed": costed}


def rate_hours(chargeback) -> dict[int, Decimal]:
    return {
        line.allocation_id: line.gpu_hours
        for line in chargeback.lines.filter(source=ChargebackLine.Source.RATE)
    }


def test_a_running_month_charges_the_days_held_so_far_not_the_whole_month(
    time_machine, may_allocations, platform_engineer
):
    held, later = may_allocations["held"], may_allocations["later"]
    time_machine.move_to(MID_MAY, tick=False)
    running = chargeback_compute(month=MAY)
    # 10 May: 2 GPUs × 24 h × 10 days; the allocation starting on 20 May has held nothing yet.
    assert rate_hours(running) == {held.pk: Decimal(480)}
    assert lines_total(running) == Decimal("400.00") + Decimal(480) * Decimal("2.00")
    summary = chargeback_summary(running, platform_engineer)
    assert summary["rate_based"] == Decimal("960.00")

    # Once May is over the same allocations count their whole month.
    time_machine.move_to(datetime.datetime(2025, 6, 2, 9, 0, tzinfo=datetime.UTC), tick=False)
    ended = chargeback_compute(month=MAY)
    assert rate_hours(ended) == {held.pk: Decimal(2 * 24 * 31), later.pk: Decimal(8 * 24 * 12)}


def test_a_running_month_cannot_be_closed(time_machine, may_allocations, platform_engineer):
    time_machine.move_to(MID_MAY, tick=False)
    chargeback_compute(month=MAY)
    with pytest.raises(Conflict) as error:
        chargeback_close(actor=platform_engineer, month=MAY)
    assert "once the month has ended (from 1 June 2025)" in error.value.messages[0]
    time_machine.move_to(datetime.datetime(2025, 6, 1, 0, 30, tzinfo=datetime.UTC), tick=False)
    assert chargeback_close(actor=platform_engineer, month=MAY).status == ChargebackStatus.CLOSED


def test_nightly_refresh_recomputes_the_running_month_and_the_open_previous_one(
    time_machine, may_allocations, settings
):
    from inventory.finops.tasks import chargeback_refresh_running_task

    time_machine.move_to(MID_MAY, tick=False)
    chargeback_compute(month=datetime.date(2025, 4, 1))
    assert chargeback_refresh_running_task.delay().get() == {
        "chargeback_recomputed": ["2025-04-01", "2025-05-01"],
        "chargeback_closed_months": [],
    }
    may = ChargebackMonth.objects.get(month=MAY)
    assert rate_hours(may) == {may_allocations["held"].pk: Decimal(480)}

    # On 1 June, May (open, computed) is recomputed over its whole month, and June starts.
    time_machine.move_to(datetime.datetime(2025, 6, 1, 0, 45, tzinfo=datetime.UTC), tick=False)
    result = chargeback_refresh_running_task.delay().get()
    assert result["chargeback_recomputed"] == ["2025-05-01", "2025-06-01"]
    assert rate_hours(may) == {
        may_allocations["held"].pk: Decimal(2 * 24 * 31),
        may_allocations["later"].pk: Decimal(8 * 24 * 12),
    }
    entry = settings.CELERY_BEAT_SCHEDULE["refresh-running-chargeback-nightly"]
    assert entry["task"] == "inventory.tasks.chargeback_refresh_running_task"
