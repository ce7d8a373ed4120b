"""Cost ingest (issue 7, item 5): FOCUS lines classified, matched and stored as CostRecords
by ``inventory.usage.services.costs.import_focus_lines`` — known answers on the shared sample
(FOCUS 1.2), a FOCUS 1.3 file with a credit, a tax line and a correction, and files built
line by line for each way of matching."""

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from inventory.gpu.models import GPUAllocation
from inventory.usage.choices import CostCategory, CostMatch, ExternalKeyKind
from inventory.usage.models import CostRecord, ExternalKey, IngestBatch
from inventory.usage.parsers import ParseError, parse_focus_csv
from inventory.usage.services.costs import import_focus_lines, line_fingerprints
from tests.factories import (
    GPUAllocationFactory,
    GPUPoolFactory,
    GPUTypeFactory,
    InitiativeFactory,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ingest"
JUNE = dt.date(2025, 6, 1)
JULY = dt.date(2025, 7, 1)
SAMPLE_RESOURCE = "arn:aws:ec2:us-east-1:200000000011:instance/i-0a1b2c3d4e5f6a7b8"
RESERVATION = "cr-0123456789abcdef0"

pytestmark = pytest.mark.django_db


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


_batch_number = iter(range(1, 10_000))


def new_batch(name: str = "costs.csv") -> IngestBatch:
    return IngestBatch.objects.create(
        kind="focus", filename=name, sha256=f"{next(_batch_number):064x}", status="imported"
    )


def run(text: str, name: str = "costs.csv") -> tuple[IngestBatch, dict]:
    batch = new_batch(name)
    return batch, import_focus_lines(batch=batch, lines=parse_focus_csv(text))


COLUMNS = [
    "ProviderName",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "BilledCost",
    "EffectiveCost",
    "BillingCurrency",
    "SubAccountId",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "RegionId",
    "ServiceName",
    "SkuId",
    "SkuPriceDetails",
    "CommitmentDiscountId",
    "CommitmentDiscountStatus",
    "CapacityReservationId",
    "CapacityReservationStatus",
    "ConsumedQuantity",
    "ConsumedUnit",
    "Tags",
]
DEFAULTS = {
    "ProviderName": "AWS",
    "ChargePeriodStart": "2025-06-03T09:00:00Z",
    "ChargePeriodEnd": "2025-06-03T10:00:00Z",
    "ChargeCategory": "Usage",
    "BillingCurrency": "USD",
    "RegionId": "us-east-1",
    "ServiceName": "Amazon Elastic Compute Cloud",
}


def focus(*rows: dict) -> str:
    """A FOCUS 1.2 CSV of ``rows`` (column → value; dicts for the JSON columns)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        values = {**DEFAULTS, **row}
        for column in ("Tags", "SkuPriceDetails"):
            if isinstance(values.get(column), dict):
                values[column] = json.dumps(values[column])
        writer.writerow([values.get(column, "") for column in COLUMNS])
    return out.getvalue()


def gpu_line(resource="i-1", cost="10.00", **extra) -> dict:
    return {
        "ResourceId": resource,
        "ResourceType": "EC2 Instance",
        "SkuPriceDetails": {"InstanceType": "p5.48xlarge", "GpuCount": 8},
        "BilledCost": cost,
        "EffectiveCost": cost,
        **extra,
    }


@pytest.fixture
def estate(unit_a, unit_b):
    """Pools and allocations the sample FOCUS 1.2 file's lines belong to."""
    h100 = GPUTypeFactory(name="H100 80GB", example_instance="p5.48xlarge", gpus_per_instance=8)
    p5 = GPUPoolFactory(
        name="aws-p5",
        gpu_type=h100,
        account="200000000011",
        instance_type="p5.48xlarge",
        gpus_per_instance=8,
        commitment_id=RESERVATION,
    )
    fraud = InitiativeFactory(reference="AI-0042", business_unit=unit_a)
    support = InitiativeFactory(reference="AI-0007", business_unit=unit_b)
    allocation = GPUAllocationFactory(
        pool=p5,
        business_unit=unit_a,
        initiative=fraud,
        gpu_count=Decimal("8"),
        starts_on=dt.date(2025, 5, 1),
        ends_on=dt.date(2025, 12, 31),
    )
    return {"pool": p5, "fraud": fraud, "support": support, "allocation": allocation}


# --- The shared sample (FOCUS 1.2) --------------------------------------------------------------


def test_sample_file_classified_matched_and_totalled(estate, unit_a, unit_b):
    batch, summary = run(fixture("focus-1.2-gpu.csv"))
    tagged, committed, unused = CostRecord.objects.order_by("line")

    # Line 2: 8 GPUs for one hour, tagged AI-0042 → that initiative's allocation active then.
    assert (tagged.line, tagged.category, tagged.matched_by) == (
        2,
        CostCategory.USAGE,
        CostMatch.COST_TAG,
    )
    assert tagged.allocation == estate["allocation"]
    assert (tagged.initiative, tagged.business_unit, tagged.pool) == (
        estate["fraud"],
        unit_a,
        estate["pool"],
    )
    assert (tagged.gpu_count, tagged.gpu_hours) == (Decimal("8"), Decimal("8"))
    assert tagged.instance_type == "p5.48xlarge"
    assert tagged.effective_cost == tagged.billed_cost == Decimal("98.32")
    assert tagged.month == JUNE and tagged.provider == "AWS" and tagged.currency == "USD"
    assert tagged.tags["CostCenter"] == "cc-retail"

    # Line 3: savings-plan-covered g6 (GpuCount 4), tagged AI-0007 which has no allocation:
    # the initiative and its BU, no allocation; billed 0 but an effective (amortised) cost.
    assert (committed.category, committed.matched_by) == (CostCategory.USAGE, CostMatch.COST_TAG)
    assert committed.allocation is None
    assert (committed.initiative, committed.business_unit) == (estate["support"], unit_b)
    assert (committed.billed_cost, committed.effective_cost) == (Decimal("0"), Decimal("3.05"))
    assert committed.commitment_id == "arn:aws:savingsplans::200000000012:savingsplan/sp-1"
    assert committed.gpu_hours == Decimal("4")

    # Line 4: the unused capacity reservation → idle commitment of the pool that bought it.
    assert unused.category == CostCategory.IDLE_COMMITMENT
    assert unused.commitment_id == RESERVATION
    assert unused.pool == estate["pool"]
    assert unused.gpu_hours == Decimal("8")

    assert summary["lines"] == summary["rows_written"] == 3
    assert summary["duplicates"] == 0
    assert summary["gpu_lines"] == 2
    assert summary["matched"] == {
        "resource_id": 0,
        "cost_tag": 2,
        "sub_account": 1,  # the reservation line: the single pool of account …011
        "none": 0,
    }
    assert summary["idle_commitment_cost"] == "98.320000"
    assert summary["total_effective_cost"] == "199.690000"
    assert summary["total_billed_cost"] == "196.640000"
    assert summary["currency"] == "USD"
    assert summary["months"] == ["2025-06-01"]
    assert unused.matched_by == CostMatch.SUB_ACCOUNT
    json.dumps(summary)  # storable in IngestBatch.summary as is


def test_resource_id_key_wins_over_the_tag(estate, unit_b):
    """An ExternalKey naming the instance (its id, the ARN's last segment) decides, even though
    the line is tagged with another initiative."""
    other = GPUAllocationFactory(
        pool=estate["pool"],
        business_unit=unit_b,
        initiative=estate["support"],
        starts_on=dt.date(2025, 1, 1),
    )
    ExternalKey.objects.create(
        kind=ExternalKeyKind.RESOURCE_ID, value="i-0a1b2c3d4e5f6a7b8", allocation=other
    )
    run(fixture("focus-1.2-gpu.csv"))
    record = CostRecord.objects.get(resource_id=SAMPLE_RESOURCE)
    assert record.matched_by == CostMatch.RESOURCE_ID
    assert (record.allocation, record.initiative, record.business_unit) == (
        other,
        estate["support"],
        unit_b,
    )


# --- Matching, line by line -----------------------------------------------------------------


def test_cost_tag_external_key_points_at_an_initiative(unit_a):
    initiative = InitiativeFactory(business_unit=unit_a)
    ExternalKey.objects.create(
        kind=ExternalKeyKind.COST_TAG, value="fraud-ml-prod", initiative=initiative
    )
    # The AWS "user:" prefix on the tag key is accepted.
    run(focus(gpu_line(Tags={"user:keel-initiative": "fraud-ml-prod"})))
    record = CostRecord.objects.get()
    assert record.matched_by == CostMatch.COST_TAG
    assert (record.initiative, record.business_unit, record.allocation) == (
        initiative,
        unit_a,
        None,
    )


def test_tagged_initiative_prefers_the_allocation_in_the_line_sub_account(unit_a):
    initiative = InitiativeFactory(reference="AI-0042", business_unit=unit_a)
    elsewhere = GPUAllocationFactory(
        pool=GPUPoolFactory(account="111"),
        initiative=initiative,
        business_unit=unit_a,
        starts_on=dt.date(2025, 1, 1),
    )
    here = GPUAllocationFactory(
        pool=GPUPoolFactory(account="222"),
        initiative=initiative,
        business_unit=unit_a,
        starts_on=dt.date(2025, 1, 1),
    )
    # Ended before the charge period: never a candidate.
    GPUAllocationFactory(
        pool=GPUPoolFactory(account="333"),
        initiative=initiative,
        business_unit=unit_a,
        starts_on=dt.date(2025, 1, 1),
        ends_on=dt.date(2025, 6, 2),
    )
    run(
        focus(
            gpu_line("i-a", SubAccountId="222", Tags={"keel-initiative": "ai-0042"}),
            gpu_line("i-b", SubAccountId="333", Tags={"keel-initiative": "AI-0042"}),
        )
    )
    in_222, in_333 = CostRecord.objects.order_by("line")
    assert in_222.allocation == here
    # No active allocation in 333: the lowest-id active one.
    assert in_333.allocation == elsewhere
    assert {in_222.matched_by, in_333.matched_by} == {CostMatch.COST_TAG}


def test_sub_account_key_and_pool_account(unit_b):
    ExternalKey.objects.create(
        kind=ExternalKeyKind.CLOUD_SUB_ACCOUNT, value="444", business_unit=unit_b
    )
    pool = GPUPoolFactory(account="555")
    run(focus(gpu_line("i-a", SubAccountId="444"), gpu_line("i-b", SubAccountId="555")))
    by_key, by_pool = CostRecord.objects.order_by("line")
    assert (by_key.matched_by, by_key.business_unit, by_key.initiative) == (
        CostMatch.SUB_ACCOUNT,
        unit_b,
        None,
    )
    # pool.account == SubAccountId: the pool only, no BU.
    assert (by_pool.matched_by, by_pool.pool, by_pool.business_unit) == (
        CostMatch.SUB_ACCOUNT,
        pool,
        None,
    )


def test_unmatched_gpu_spend_is_kept_as_unattributed():
    batch, summary = run(
        focus(
            gpu_line("i-x", cost="1234.567891", SubAccountId="999"),
            gpu_line("i-y", cost="0.432109", Tags={"keel-initiative": "AI-9999"}),
        )
    )
    records = CostRecord.objects.filter(batch=batch)
    assert records.count() == 2
    assert {record.matched_by for record in records} == {CostMatch.NONE}
    assert {record.category for record in records} == {CostCategory.USAGE}
    assert all(r.allocation is None and r.business_unit is None for r in records)
    assert summary["unattributed_gpu_lines"] == 2
    assert summary["unattributed_gpu_cost"] == "1235.000000"
    assert records.aggregate(total=Sum("effective_cost"))["total"] == Decimal("1235")


def test_gpu_hours_use_consumed_hours_when_given():
    """A line for three instances over one hour: 3 instance-hours × 8 GPUs, not 1 × 8; a
    quantity in another unit falls back to the charge period."""
    batch, _ = run(
        focus(
            gpu_line("i-many", ConsumedQuantity="3", ConsumedUnit="Hours"),
            gpu_line("i-half", ConsumedQuantity="0.5", ConsumedUnit="Hours"),
            gpu_line("i-other", ConsumedQuantity="7", ConsumedUnit="Requests"),
        )
    )
    hours = dict(CostRecord.objects.filter(batch=batch).values_list("resource_id", "gpu_hours"))
    assert hours == {"i-many": Decimal("24"), "i-half": Decimal("4"), "i-other": Decimal("8")}


def test_negative_consumed_quantity_is_a_line_error():
    with pytest.raises(ParseError) as caught:
        parse_focus_csv(focus(gpu_line("i-1"), gpu_line("i-2", ConsumedQuantity="-1")))
    assert [line for line, _ in caught.value.errors] == [3]
    assert "ConsumedQuantity" in caught.value.errors[0][1]


def test_instance_type_on_the_rate_card_makes_a_gpu_line():
    """No GpuCount: the instance type (SkuPriceDetails.InstanceType, else ResourceType) found
    on a pool, else as a GPU type's example instance, gives the GPUs per instance."""
    pool = GPUPoolFactory(instance_type="zz8.12xlarge", gpus_per_instance=4, region="us-east-1")
    GPUTypeFactory(name="Test L4", memory_gb=24, example_instance="g6.xlarge", gpus_per_instance=1)
    run(
        focus(
            {
                "ResourceId": "i-1",
                "SkuPriceDetails": {"InstanceType": "ZZ8.12XLARGE"},
                "BilledCost": "4.60",
                "EffectiveCost": "4.60",
                "ChargePeriodEnd": "2025-06-03T12:00:00Z",
            },
            {
                "ResourceId": "i-2",
                "ResourceType": "g6.xlarge",
                "BilledCost": "0.80",
                "EffectiveCost": "0.80",
            },
            {
                "ResourceId": "i-3",
                "ResourceType": "EC2 Instance",
                "SkuPriceDetails": {"InstanceType": "m7i.large"},
                "BilledCost": "0.10",
                "EffectiveCost": "0.10",
            },
        )
    )
    by_pool, by_type, plain = CostRecord.objects.order_by("line")
    assert (by_pool.category, by_pool.gpu_count, by_pool.gpu_hours) == (
        CostCategory.USAGE,
        Decimal("4"),
        Decimal("12"),  # 4 GPUs × 3 hours
    )
    assert by_pool.instance_type == "ZZ8.12XLARGE"
    assert by_pool.pool == pool and by_pool.matched_by == CostMatch.NONE
    assert (by_type.category, by_type.gpu_count, by_type.gpu_hours) == (
        CostCategory.USAGE,
        Decimal("1"),
        Decimal("1"),
    )
    assert (plain.category, plain.gpu_count, plain.gpu_hours) == (
        CostCategory.NON_GPU,
        None,
        Decimal("0"),
    )
    assert plain.instance_type == "m7i.large"


def test_non_gpu_line_is_kept_and_matched_like_any_other(unit_a):
    InitiativeFactory(reference="AI-0042", business_unit=unit_a)
    batch, summary = run(
        focus(
            {
                "ResourceId": "bucket",
                "ServiceName": "S3",
                "BilledCost": "2.5",
                "EffectiveCost": "2.5",
                "Tags": {"keel-initiative": "AI-0042"},
            }
        )
    )
    record = CostRecord.objects.get()
    assert (record.category, record.matched_by, record.business_unit) == (
        CostCategory.NON_GPU,
        CostMatch.COST_TAG,
        unit_a,
    )
    assert summary["gpu_lines"] == 0
    assert summary["categories"]["non_gpu"] == {
        "lines": 1,
        "effective_cost": "2.500000",
        "billed_cost": "2.500000",
    }


# --- FOCUS 1.3: credit, tax and correction --------------------------------------------------


def test_focus_13_credit_tax_and_correction(unit_a):
    h100 = GPUTypeFactory(name="H100 80GB")
    pool = GPUPoolFactory(
        name="gcp-a3",
        provider="gcp",
        gpu_type=h100,
        account="fraud-ml-prod",
        instance_type="a3-highgpu-8g",
        gpus_per_instance=8,
        commitment_id="cud-a3-1",
    )
    fraud = InitiativeFactory(reference="AI-0042", business_unit=unit_a)
    allocation = GPUAllocationFactory(
        pool=pool,
        initiative=fraud,
        business_unit=unit_a,
        gpu_count=Decimal("8"),
        starts_on=dt.date(2025, 6, 1),
    )
    batch, summary = run(fixture("focus-1.3-credit-tax-correction.csv"))
    records = list(CostRecord.objects.filter(batch=batch).order_by("line"))
    usage, unattributed, storage, credit, tax, correction, idle = records

    assert usage.provider == "Google Cloud"  # ServiceProviderName (FOCUS 1.3)
    assert (usage.category, usage.matched_by, usage.allocation) == (
        CostCategory.USAGE,
        CostMatch.COST_TAG,
        allocation,
    )
    assert usage.gpu_hours == Decimal("192")  # 8 GPUs × 24 h
    assert (usage.billed_cost, usage.effective_cost) == (Decimal("1759.20"), Decimal("1540.32"))
    assert usage.month == JULY

    assert (unattributed.category, unattributed.matched_by) == (CostCategory.USAGE, "none")
    assert unattributed.gpu_hours == Decimal("96")
    assert (storage.category, storage.matched_by) == (CostCategory.NON_GPU, CostMatch.COST_TAG)

    assert (credit.category, credit.effective_cost) == (CostCategory.CREDIT, Decimal("-100"))
    assert (credit.matched_by, credit.allocation) == (CostMatch.COST_TAG, allocation)
    assert (tax.category, tax.matched_by, tax.business_unit) == (
        CostCategory.TAX,
        CostMatch.NONE,
        None,
    )
    # The correction of the tagged A3 line matches the same way, and moves no GPU-hours.
    assert (correction.category, correction.charge_category, correction.charge_class) == (
        CostCategory.CORRECTION,
        "Usage",
        "Correction",
    )
    assert (correction.matched_by, correction.allocation) == (CostMatch.COST_TAG, allocation)
    assert (correction.gpu_count, correction.gpu_hours) == (Decimal("8"), Decimal("0"))
    assert (idle.category, idle.pool, idle.commitment_id) == (
        CostCategory.IDLE_COMMITMENT,
        pool,
        "projects/fraud-ml-prod/regions/us-central1/commitments/cud-a3-1",
    )

    assert summary["credits"] == "-100.000000"
    assert summary["tax"] == "171.900000"
    assert summary["corrections"] == "-192.540000"
    assert summary["idle_commitment_cost"] == "320.900000"
    assert summary["unattributed_gpu_cost"] == "45.670000"
    # To the cent (and to the stored micro-unit): the file's own sums.
    assert summary["total_effective_cost"] == "1798.595678"
    assert summary["total_billed_cost"] == "1669.215678"
    stored = CostRecord.objects.filter(batch=batch).aggregate(
        effective=Sum("effective_cost"), billed=Sum("billed_cost")
    )
    assert stored == {"effective": Decimal("1798.595678"), "billed": Decimal("1669.215678")}


# --- Idempotency ---------------------------------------------------------------------------------


def test_overlapping_later_export_does_not_double_count():
    first = focus(gpu_line("i-1", "10.00"), gpu_line("i-2", "20.00"))
    second = focus(gpu_line("i-2", "20.00"), gpu_line("i-3", "30.00"))
    _, summary_one = run(first, "june-1.csv")
    batch_two, summary_two = run(second, "june-2.csv")
    assert (summary_one["rows_written"], summary_one["duplicates"]) == (2, 0)
    assert (summary_two["lines"], summary_two["rows_written"], summary_two["duplicates"]) == (
        2,
        1,
        1,
    )
    assert CostRecord.objects.filter(batch=batch_two).get().resource_id == "i-3"
    assert CostRecord.objects.aggregate(total=Sum("effective_cost"))["total"] == Decimal("60")
    # The whole first file again: nothing new.
    _, again = run(first, "june-1-copy.csv")
    assert (again["rows_written"], again["duplicates"]) == (0, 2)
    assert CostRecord.objects.count() == 3


def test_identical_lines_in_one_file_are_each_kept_once():
    """Two identical charges in one export are two charges; re-exporting them (once more
    each) adds nothing, and a third copy in a later file is new."""
    _, summary = run(focus(gpu_line("i-1"), gpu_line("i-1")))
    assert summary["rows_written"] == 2
    _, again = run(focus(gpu_line("i-1"), gpu_line("i-1"), gpu_line("i-1")))
    assert (again["rows_written"], again["duplicates"]) == (1, 2)


def test_fingerprint_ignores_derived_values_but_not_content():
    one = parse_focus_csv(focus(gpu_line("i-1", "10.00")))
    same_amount = parse_focus_csv(focus(gpu_line("i-1", "10.0")))
    other_cost = parse_focus_csv(focus(gpu_line("i-1", "10.01")))
    other_tag = parse_focus_csv(focus(gpu_line("i-1", "10.00", Tags={"team": "x"})))
    assert line_fingerprints(one) == line_fingerprints(same_amount)
    assert line_fingerprints(one) != line_fingerprints(other_cost)
    assert line_fingerprints(one) != line_fingerprints(other_tag)


def test_reclassified_line_is_still_a_duplicate():
    """A pool added to the rate card after the first import changes how the line would be
    classified, not its fingerprint."""
    line = {
        "ResourceId": "i-1",
        "SkuPriceDetails": {"InstanceType": "zz9.large"},
        "BilledCost": "4.6",
        "EffectiveCost": "4.6",
    }
    run(focus(line))
    GPUPoolFactory(instance_type="zz9.large", gpus_per_instance=4)
    _, summary = run(focus(line))
    assert (summary["rows_written"], summary["duplicates"]) == (0, 1)
    assert CostRecord.objects.get().category == CostCategory.NON_GPU


# --- Refused files --------------------------------------------------------------------------


def test_mixed_currencies_are_refused_with_line_numbers():
    text = focus(
        gpu_line("i-1"),
        gpu_line("i-2", BillingCurrency="EUR"),
        gpu_line("i-3", BillingCurrency="usd"),
        gpu_line("i-4", BillingCurrency="EURO"),
    )
    with pytest.raises(ParseError) as excinfo:
        run(text)
    assert [line for line, _ in excinfo.value.errors] == [3, 5]
    assert "EUR differs from USD" in excinfo.value.errors[0][1]
    assert "ISO 4217" in excinfo.value.errors[1][1]
    assert not CostRecord.objects.exists()


def test_currency_differing_from_the_month_already_imported_is_refused():
    run(focus(gpu_line("i-1")))
    with pytest.raises(ParseError) as excinfo:
        run(focus(gpu_line("i-2", BillingCurrency="EUR")))
    assert excinfo.value.errors == [
        (2, "BillingCurrency EUR differs from USD already imported for 2025-06")
    ]
    # Another month may use another currency.
    _, summary = run(
        focus(
            gpu_line(
                "i-2",
                BillingCurrency="EUR",
                ChargePeriodStart="2025-07-01T00:00:00Z",
                ChargePeriodEnd="2025-07-01T01:00:00Z",
            )
        )
    )
    assert summary["rows_written"] == 1 and summary["currency"] == "EUR"
    assert CostRecord.objects.count() == 2


def test_values_too_large_to_store_are_refused():
    with pytest.raises(ParseError) as excinfo:
        run(focus(gpu_line("i-1", cost="1000000000000"), gpu_line("x" * 501)))
    assert [line for line, _ in excinfo.value.errors] == [2, 2, 3]
    assert not CostRecord.objects.exists()


def test_empty_file_writes_nothing():
    batch = new_batch()
    assert import_focus_lines(batch=batch, lines=[])["lines"] == 0
    assert not CostRecord.objects.exists()


def test_month_is_the_charge_period_start_month_in_utc():
    run(
        focus(
            gpu_line(
                "i-1",
                ChargePeriodStart="2025-06-30T23:00:00-02:00",
                ChargePeriodEnd="2025-07-01T02:00:00Z",
            )
        )
    )
    record = CostRecord.objects.get()
    assert record.month == JULY  # 2025-07-01T01:00Z
    assert record.gpu_hours == Decimal("8")


# --- Query counts --------------------------------------------------------------------------------


def _matched_lines(count: int, start: int, unit) -> list[dict]:
    """Lines matched every way, each through its own key, initiative, pool and allocation."""
    rows = []
    for n in range(start, start + count):
        pool = GPUPoolFactory(
            name=f"qc-pool-{n}",
            account=f"acct-{n}",
            instance_type=f"p{n}.xl",
            gpus_per_instance=2,
            commitment_id=f"cr-{n}",
            gpu_type=GPUTypeFactory(name=f"QC GPU {n}"),
        )
        initiative = InitiativeFactory(reference=f"AI-{5000 + n}", business_unit=unit)
        allocation = GPUAllocationFactory(
            pool=pool, initiative=initiative, business_unit=unit, starts_on=dt.date(2025, 1, 1)
        )
        ExternalKey.objects.create(
            kind=ExternalKeyKind.RESOURCE_ID, value=f"i-key-{n}", allocation=allocation
        )
        ExternalKey.objects.create(
            kind=ExternalKeyKind.COST_TAG, value=f"tag-{n}", initiative=initiative
        )
        ExternalKey.objects.create(
            kind=ExternalKeyKind.CLOUD_SUB_ACCOUNT, value=f"sub-{n}", business_unit=unit
        )
        rows += [
            gpu_line(f"i-key-{n}"),
            gpu_line(f"i-tag-{n}", Tags={"keel-initiative": f"tag-{n}"}),
            gpu_line(
                f"i-ref-{n}", Tags={"keel-initiative": f"AI-{5000 + n}"}, SubAccountId=f"acct-{n}"
            ),
            gpu_line(f"i-sub-{n}", SubAccountId=f"sub-{n}"),
            {
                "ResourceId": f"i-rate-{n}",
                "SkuPriceDetails": {"InstanceType": f"p{n}.xl"},
                "BilledCost": "1",
                "EffectiveCost": "1",
            },
            gpu_line(
                f"cr-{n}", CapacityReservationId=f"cr-{n}", CapacityReservationStatus="Unused"
            ),
        ]
    return rows


def test_query_count_does_not_grow_with_lines(unit_a, django_assert_max_num_queries):
    """Sizes stay under one INSERT batch (SQLite splits a bulk insert every ~30 rows of this
    width; PostgreSQL every 1,000), so the count compares the look-ups."""
    small = focus(*_matched_lines(1, 0, unit_a))
    with CaptureQueriesContext(connection) as captured:
        _, summary = run(small, "small.csv")
    assert summary["rows_written"] == 6
    large = focus(*_matched_lines(3, 100, unit_a))
    with django_assert_max_num_queries(len(captured)):
        _, summary = run(large, "large.csv")
    assert summary["rows_written"] == 18
    assert summary["matched"] == {
        "resource_id": 3,
        "cost_tag": 6,
        "sub_account": 3,
        "none": 6,  # rate-card and reservation lines: pool known, no BU
    }
    # Every line but the sub-account-key ones (a BU, no pool) knows its pool.
    assert CostRecord.objects.filter(pool__isnull=True).count() == 4
    assert GPUAllocation.objects.count() == 4


def test_unused_reservation_without_a_pool_is_still_idle_commitment():
    _, summary = run(
        focus(
            gpu_line(
                "cr-9", "7.5", CapacityReservationId="cr-9", CapacityReservationStatus="Unused"
            )
        )
    )
    record = CostRecord.objects.get()
    assert (record.category, record.pool, record.commitment_id) == (
        CostCategory.IDLE_COMMITMENT,
        None,
        "cr-9",
    )
    assert summary["idle_commitment_cost"] == "7.500000"


# --- Through the ingest engine (inventory.usage.services.batches.ingest_file)
# --------------------------


def test_engine_imports_a_focus_file_once(estate, platform_engineer):
    from inventory.usage.services.batches import ingest_file

    content = fixture("focus-1.2-gpu.csv").encode()
    batch = ingest_file(actor=platform_engineer, kind="focus", filename="june.csv", content=content)
    assert batch.rows_read == 3 and batch.rows_written == 3
    assert batch.summary["total_effective_cost"] == "199.690000"
    assert CostRecord.objects.filter(batch=batch).count() == 3
    again = ingest_file(actor=platform_engineer, kind="focus", filename="june.csv", content=content)
    assert again.pk == batch.pk and again.already_imported
    assert CostRecord.objects.count() == 3


@pytest.mark.parametrize(
    "text",
    [
        # A syntax error on line 3 (the parser's), after a good line 2.
        focus(gpu_line("i-1"), gpu_line("i-2", BilledCost="ten")),
        # A semantic error (cost ingest's): mixed currencies, found inside the transaction.
        focus(gpu_line("i-1"), gpu_line("i-2", BillingCurrency="EUR")),
    ],
    ids=["parse-error", "mixed-currency"],
)
def test_engine_writes_nothing_for_a_malformed_focus_file(estate, platform_engineer, text):
    from inventory.usage.services.batches import ingest_file

    batches = IngestBatch.objects.count()
    with pytest.raises(ParseError) as excinfo:
        ingest_file(
            actor=platform_engineer, kind="focus", filename="bad.csv", content=text.encode()
        )
    assert [line for line, _ in excinfo.value.errors] == [3]
    assert IngestBatch.objects.count() == batches
    assert not CostRecord.objects.exists()
