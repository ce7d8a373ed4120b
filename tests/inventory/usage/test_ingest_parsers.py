"""Pure ingest parsers (issue 7, items 4–5): samples from ../shared/data/samples (copied into
fixtures/ingest), hand-written fixtures for label and format variants, and malformed files."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from inventory.usage.parsers import (
    ParseError,
    parse_focus_csv,
    parse_prometheus_text,
    parse_query_range_json,
    parse_sacct,
    parse_usage_csv,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ingest"
UTC = dt.UTC
SCRAPED_AT = dt.datetime(2025, 6, 3, 9, 0, tzinfo=UTC)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def errors_of(excinfo) -> list:
    return excinfo.value.errors


def lines_of(excinfo) -> list:
    return [line for line, _ in excinfo.value.errors]


# --- dcgm-exporter text ------------------------------------------------------------------------


def test_dcgm_sample_scrape():
    samples = parse_prometheus_text(fixture("dcgm-exporter-scrape.txt"), scraped_at=SCRAPED_AT)
    assert len(samples) == 2
    busy, idle = samples
    assert busy.timestamp == SCRAPED_AT
    assert (busy.hostname, busy.gpu, busy.uuid) == (
        "gpu-h100-07",
        0,
        "GPU-93ef0036-98de-4946-648a-eca7040afbeb",
    )
    assert busy.model_name == "NVIDIA H100 80GB HBM3"
    assert (busy.pod, busy.namespace, busy.container) == (
        "fraud-llm-sft-0",
        "retail-fraud",
        "trainer",
    )
    assert busy.activity == pytest.approx(0.873)
    assert busy.activity_metric == "DCGM_FI_PROF_GR_ENGINE_ACTIVE"
    assert busy.memory_used_mib is None
    # GPU 1: no pod, idle, but 40211 MiB held (engine-active line 4 merged with FB_USED line 7)
    assert (idle.gpu, idle.pod, idle.namespace) == (1, "", "")
    assert idle.activity == 0.0
    assert idle.memory_used_mib == 40211
    assert idle.line == 4


def test_dcgm_sample_scrape_needs_a_time():
    with pytest.raises(ParseError) as excinfo:
        parse_prometheus_text(fixture("dcgm-exporter-scrape.txt"))
    assert lines_of(excinfo) == [3, 4, 7]


def test_scraped_at_must_be_aware():
    with pytest.raises(ValueError):
        parse_prometheus_text("", scraped_at=dt.datetime(2025, 6, 3, 9))


MIXED_SCRAPE = """\
# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).
# TYPE DCGM_FI_DEV_GPU_UTIL gauge
DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-a",modelName="NVIDIA A100-SXM4-80GB",hostname="node-a",exported_pod="etl-7",exported_namespace="data-eng",pod="dcgm-exporter-xk2",namespace="gpu-operator"} 42
DCGM_FI_DEV_GPU_UTIL{gpu="1",UUID="GPU-b",modelName="NVIDIA A100-SXM4-80GB",hostname="node-a"} 7
DCGM_FI_DEV_FB_USED{gpu="0",UUID="GPU-a",modelName="NVIDIA A100-SXM4-80GB",hostname="node-a",exported_pod="etl-7",exported_namespace="data-eng"} 30000
DCGM_FI_DEV_FB_FREE{gpu="0",UUID="GPU-a",modelName="NVIDIA A100-SXM4-80GB",hostname="node-a"} 51000
DCGM_FI_DEV_FB_RESERVED{gpu="0",UUID="GPU-a",modelName="NVIDIA A100-SXM4-80GB",hostname="node-a"} 559
DCGM_FI_DEV_SM_CLOCK{gpu="0",UUID="GPU-a",hostname="node-a"} 1410
# MIG: GPU_UTIL is 0 on MIG; engine-active wins
DCGM_FI_DEV_GPU_UTIL{gpu="2",UUID="GPU-c",GPU_I_PROFILE="1g.10gb",GPU_I_ID="7",modelName="NVIDIA H100 80GB HBM3",Hostname="node-b",pod="nb-1",namespace="research"} 0
DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="2",UUID="GPU-c",GPU_I_PROFILE="1g.10gb",GPU_I_ID="7",modelName="NVIDIA H100 80GB HBM3",Hostname="node-b",pod="nb-1",namespace="research"} 0.55
DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="2",UUID="GPU-c",GPU_I_PROFILE="3g.40gb",GPU_I_ID="1",modelName="NVIDIA H100 80GB HBM3",Hostname="node-b",pod="train-2",namespace="research"} 0.25
DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="3",UUID="GPU-d",Hostname="node-b"} 0.5 1748941200000
DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="3",UUID="GPU-d",Hostname="node-b"} 0.6 1748941260000
"""  # noqa: E501


def test_dcgm_labels_fallback_and_mig():
    samples = parse_prometheus_text(MIXED_SCRAPE, scraped_at=SCRAPED_AT)
    by_key = {(s.hostname, s.gpu, s.mig_instance, s.timestamp): s for s in samples}
    assert len(samples) == 6

    a = by_key[("node-a", 0, "", SCRAPED_AT)]
    # exported_* labels name the workload; pod/namespace are the exporter's own
    assert (a.pod, a.namespace) == ("etl-7", "data-eng")
    assert a.activity == pytest.approx(0.42)
    assert a.activity_metric == "DCGM_FI_DEV_GPU_UTIL"
    assert (a.memory_used_mib, a.memory_free_mib, a.memory_reserved_mib) == (30000, 51000, 559)
    assert a.model_name == "NVIDIA A100-SXM4-80GB"

    b = by_key[("node-a", 1, "", SCRAPED_AT)]
    assert b.activity == pytest.approx(0.07)
    assert b.pod == ""

    mig7 = by_key[("node-b", 2, "7", SCRAPED_AT)]
    assert (mig7.mig_profile, mig7.pod) == ("1g.10gb", "nb-1")
    assert mig7.activity == pytest.approx(0.55)
    assert mig7.activity_metric == "DCGM_FI_PROF_GR_ENGINE_ACTIVE"
    mig1 = by_key[("node-b", 2, "1", SCRAPED_AT)]
    assert (mig1.mig_profile, mig1.pod, mig1.activity) == ("3g.40gb", "train-2", 0.25)

    # explicit timestamps (ms) win over scraped_at
    t0 = dt.datetime(2025, 6, 3, 9, 0, tzinfo=UTC)
    assert by_key[("node-b", 3, "", t0)].activity == 0.5
    assert by_key[("node-b", 3, "", t0 + dt.timedelta(minutes=1))].activity == 0.6


def test_dcgm_malformed_lines_all_reported():
    text = """\
# TYPE DCGM_FI_PROF_GR_ENGINE_ACTIVE gauge
DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="0",UUID="GPU-a",Hostname="h"} 0.5
DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="1",UUID="GPU-b",Hostname="h"} abc
DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="2",UUID="GPU-c",Hostname="h" 0.5
DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="3",UUID="GPU-d",Hostname="h"} 1.7
DCGM_FI_DEV_GPU_UTIL{gpu="4",UUID="GPU-e",Hostname="h"} 150
DCGM_FI_DEV_FB_USED{gpu="5",UUID="GPU-f",Hostname="h"} -3
DCGM_FI_DEV_FB_USED{Hostname="h"} 10
DCGM_FI_DEV_FB_USED{gpu="x",Hostname="h"} 10
"""
    with pytest.raises(ParseError) as excinfo:
        parse_prometheus_text(text, scraped_at=SCRAPED_AT)
    assert lines_of(excinfo) == [3, 4, 5, 6, 7, 8, 9]
    assert "line 3" in str(excinfo.value)
    messages = dict(errors_of(excinfo))
    assert "outside 0–1" in messages[5]
    assert "outside 0–100" in messages[6]
    assert "neither a gpu nor a UUID" in messages[8]


# --- Prometheus query_range JSON ---------------------------------------------------------------


def test_query_range_sample():
    samples = parse_query_range_json(fixture("prometheus-query-range-dcgm.json"))
    assert [s.timestamp for s in samples] == [
        dt.datetime(2025, 6, 3, 9, 0, tzinfo=UTC),
        dt.datetime(2025, 6, 3, 9, 5, tzinfo=UTC),
        dt.datetime(2025, 6, 3, 9, 10, tzinfo=UTC),
    ]
    assert [s.activity for s in samples] == [0.861, 0.874, 0.012]
    first = samples[0]
    assert (first.hostname, first.gpu, first.pod, first.namespace) == (
        "gpu-h100-07",
        0,
        "fraud-llm-sft-0",
        "retail-fraud",
    )
    assert first.uuid == "GPU-93ef0036-98de-4946-648a-eca7040afbeb"


def test_query_range_merges_metrics_and_falls_back():
    text = """{"status":"success","data":{"resultType":"matrix","result":[
 {"metric":{"__name__":"DCGM_FI_DEV_GPU_UTIL","gpu":"0","UUID":"GPU-a","hostname":"n1"},
  "values":[[1748941200,"30"],[1748941260,"40"]]},
 {"metric":{"__name__":"DCGM_FI_DEV_FB_USED","gpu":"0","UUID":"GPU-a","hostname":"n1"},
  "values":[[1748941200,"1024"]]}]}}"""
    first, second = parse_query_range_json(text)
    assert first.activity == pytest.approx(0.30)
    assert first.activity_metric == "DCGM_FI_DEV_GPU_UTIL"
    assert first.memory_used_mib == 1024
    assert second.activity == pytest.approx(0.40)
    assert second.memory_used_mib is None


def test_query_range_errors():
    with pytest.raises(ParseError) as excinfo:
        parse_query_range_json('{"status":"success",\n"data": {,}}')
    assert lines_of(excinfo) == [2]

    bad = """{"status":"success","data":{"resultType":"matrix","result":[
 {"metric":{"__name__":"DCGM_FI_PROF_GR_ENGINE_ACTIVE","gpu":"0"},
  "values":[[1748941200,"x"],[1748941260,"2"],[1748941320]]}]}}"""
    with pytest.raises(ParseError) as excinfo:
        parse_query_range_json(bad)
    paths = [message.split(":")[0] for _, message in errors_of(excinfo)]
    assert paths == [
        "data.result[0].values[0]",
        "data.result[0].values[1]",
        "data.result[0].values[2] is not a [timestamp, value] pair",
    ]

    with pytest.raises(ParseError):
        parse_query_range_json('{"status":"error","error":"bad query"}')


# --- Slurm sacct -------------------------------------------------------------------------------


def test_sacct_sample():
    first, second = parse_sacct(fixture("slurm-sacct-parsable2.txt"))
    assert first.job_id == "81234"
    assert (first.account, first.wckey, first.user) == ("retail-fraud", "ai-0042", "asmith")
    assert first.start == dt.datetime(2025, 6, 3, 9, 0, 2, tzinfo=UTC)
    assert first.end == dt.datetime(2025, 6, 3, 15, 30, 44, tzinfo=UTC)
    assert first.elapsed_seconds == 23442
    # gres/gpu:h100=8 and gres/gpu=8 describe the same 8 GPUs: not 16
    assert (first.gpus, first.gpu_type) == (8, "h100")
    # 8 × 23442 / 3600 = 52.09333…
    assert first.gpu_hours == Decimal("52.093333")
    assert first.partition == "gpu-h100"
    assert second.job_id == "81240"
    assert (second.gpus, second.gpu_type) == (2, "")
    assert second.gpu_hours == Decimal("8")  # 2 × 14400 / 3600
    assert second.state == "TIMEOUT"


SACCT_OWN = """\
JobIDRaw|JobName|Account|User|WCKey|State|Start|End|ElapsedRaw|AllocTRES
9001|ddp-train|vision|dlee|ai-0100|COMPLETED|2025-06-04T00:00:00|2025-06-04T01:30:00|5400|cpu=128,gres/gpu:a100=4,gres/gpu:h100=4,mem=2T,node=2
9001.batch|batch|vision|dlee|ai-0100|COMPLETED|2025-06-04T00:00:00|2025-06-04T01:30:00|5400|cpu=64,gres/gpu:a100=4,node=1
9001.0|python|vision|dlee|ai-0100|COMPLETED|2025-06-04T00:00:05|2025-06-04T01:29:00|5335|gres/gpu=8
9002|serve|nlp|eng|ai-0101|RUNNING|2025-06-04T02:00:00|Unknown|1800|billing=8,gres/gpu:l40s=2,gres/gpu=2
9003.extern|extern|nlp|eng||COMPLETED|2025-06-04T03:00:00|2025-06-04T04:00:00|3600|gres/gpu=1
9004|pending|nlp|eng||PENDING|Unknown|Unknown|0|
9005_3|array|nlp|eng||COMPLETED|2025-06-04T05:00:00|2025-06-04T05:00:36|36|gres/gpu:h100=1
"""


def test_sacct_multi_gpu_running_typed_and_steps():
    jobs = {job.job_id: job for job in parse_sacct(SACCT_OWN)}
    # steps of 9001 are dropped; 9003 is only known by its step, so the step is kept
    assert sorted(jobs) == ["9001", "9002", "9003.extern", "9004", "9005_3"]

    multi = jobs["9001"]
    assert multi.gpus == 8  # sum of typed counts when no untyped gres/gpu=
    assert multi.gpu_types == {"a100": 4, "h100": 4}
    assert multi.gpu_type == ""  # ambiguous: two types
    assert multi.gpu_hours == Decimal("12")  # 8 × 5400 / 3600

    running = jobs["9002"]
    assert running.end is None and running.is_running
    assert (running.gpus, running.gpu_type) == (2, "l40s")
    assert running.gpu_hours == Decimal("1")  # 2 × 1800 / 3600, so far

    assert jobs["9003.extern"].is_step and jobs["9003.extern"].gpu_hours == Decimal("1")
    pending = jobs["9004"]
    assert (pending.start, pending.end, pending.gpus, pending.gpu_hours) == (None, None, 0, 0)
    assert jobs["9005_3"].gpu_hours == Decimal("0.01")  # 1 × 36 / 3600


def test_sacct_local_timezone_and_trailing_pipe():
    text = (
        "JobID|Account|User|Start|End|ElapsedRaw|AllocTRES|\n"
        "7|a|u|2025-06-04T10:00:00|Unknown|60|gres/gpu=1|\n"
    )
    (job,) = parse_sacct(text, tz=dt.timezone(dt.timedelta(hours=2)))
    assert job.start == dt.datetime(2025, 6, 4, 8, 0, tzinfo=UTC)
    assert job.wckey == ""


def test_sacct_malformed():
    text = """\
JobIDRaw|Account|User|Start|End|ElapsedRaw|AllocTRES
1|a|u|2025-06-04T00:00:00|2025-06-04T01:00:00|3600|gres/gpu=1
2|a|u|2025-06-04T00:00:00|2025-06-04T01:00:00|1h|gres/gpu=1
3|a|u|2025-06-04T00:00:00|2025-06-04T01:00:00|3600
4|a|u|yesterday|2025-06-04T01:00:00|3600|gres/gpu=two
5|a|u|2025-06-04T02:00:00|2025-06-04T01:00:00|3600|gres/gpu=1
"""
    with pytest.raises(ParseError) as excinfo:
        parse_sacct(text)
    assert lines_of(excinfo) == [3, 4, 5, 5, 6]
    messages = errors_of(excinfo)
    assert "ElapsedRaw '1h'" in messages[0][1]
    assert "expected 7 fields, found 6" in messages[1][1]

    with pytest.raises(ParseError) as excinfo:
        parse_sacct("JobIDRaw|Account|User|Start|End\n1|a|u|Unknown|Unknown\n")
    assert lines_of(excinfo) == [1]
    assert "ElapsedRaw" in str(excinfo.value) and "AllocTRES" in str(excinfo.value)


# --- FOCUS -------------------------------------------------------------------------------------


def test_focus_sample():
    on_demand, committed, reservation = parse_focus_csv(fixture("focus-1.2-gpu.csv"))
    assert on_demand.provider == "AWS"
    assert on_demand.billed_cost == on_demand.effective_cost == Decimal("98.32")
    assert on_demand.billing_currency == "USD"
    assert on_demand.charge_period_start == dt.datetime(2025, 6, 3, 9, tzinfo=UTC)
    assert on_demand.charge_period_end == dt.datetime(2025, 6, 3, 10, tzinfo=UTC)
    assert (on_demand.charge_category, on_demand.charge_class) == ("Usage", "")
    assert on_demand.resource_id == (
        "arn:aws:ec2:us-east-1:200000000011:instance/i-0a1b2c3d4e5f6a7b8"
    )
    assert on_demand.tags["keel-initiative"] == "AI-0042"
    assert on_demand.sku_price_details["InstanceType"] == "p5.48xlarge"
    assert on_demand.gpu_count == 8
    assert not on_demand.is_unused_commitment
    assert on_demand.line == 2

    # savings plan: nothing billed this hour, 3.05 amortised
    assert (committed.billed_cost, committed.effective_cost) == (Decimal("0.0"), Decimal("3.05"))
    assert committed.commitment_discount_status == "Used"
    assert committed.gpu_count == 4
    assert not committed.is_unused_commitment

    assert reservation.capacity_reservation_status == "Unused"
    assert reservation.is_unused_commitment
    assert reservation.tags == {}
    assert reservation.effective_cost == Decimal("98.32")
    assert sum(c.effective_cost for c in (on_demand, committed, reservation)) == Decimal("199.69")


def test_focus_bom_bytes():
    raw = b"\xef\xbb\xbf" + (FIXTURES / "focus-1.2-gpu.csv").read_bytes()
    assert len(parse_focus_csv(raw)) == 3
    assert len(parse_focus_csv(raw.decode("utf-8"))) == 3


FOCUS_10 = (
    "ServiceProviderName,BilledCost,EffectiveCost,BillingCurrency,ChargePeriodStart,"
    "ChargePeriodEnd,ChargeCategory,ChargeClass,ResourceId,Tags\n"
    'Azure,120.50,120.50,EUR,2025-06-01T00:00:00Z,2025-06-02T00:00:00Z,Usage,,vm-1,"{""keel-initiative"":""AI-9""}"\n'
    "Azure,-20.00,-20.00,EUR,2025-06-01T00:00:00Z,2025-06-02T00:00:00Z,Credit,,,\n"
    "Azure,9.64,9.64,EUR,2025-06-01T00:00:00Z,2025-06-02T00:00:00Z,Tax,,,\n"
    "Azure,-5.25,-5.25,EUR,2025-05-01T00:00:00Z,2025-05-02T00:00:00Z,Usage,Correction,vm-1,\n"
    '"Azure","1.00","1.00",EUR,2025-06-01T00:00:00+02:00,2025-06-01T01:00:00+02:00,Adjustment,,,"{""note"":\n""multi-line""}"\n'
    "Azure,700,700,EUR,2025-06-01T00:00:00Z,2025-07-01T00:00:00Z,Purchase,,,\n"
)


def test_focus_credit_tax_correction_and_service_provider_name():
    usage, credit, tax, correction, adjustment, purchase = parse_focus_csv(FOCUS_10)
    assert {line.provider for line in (usage, credit, tax)} == {"Azure"}
    assert usage.tags == {"keel-initiative": "AI-9"}
    assert usage.gpu_count is None  # no SkuPriceDetails in 1.0
    assert (credit.charge_category, credit.effective_cost) == ("Credit", Decimal("-20.00"))
    assert (tax.charge_category, tax.billed_cost) == ("Tax", Decimal("9.64"))
    assert correction.is_correction and correction.charge_category == "Usage"
    assert correction.effective_cost == Decimal("-5.25")
    assert adjustment.charge_period_start == dt.datetime(2025, 5, 31, 22, tzinfo=UTC)
    assert adjustment.tags == {"note": "multi-line"}
    assert adjustment.line == 6
    assert purchase.line == 8  # the quoted field on line 6 spans two physical lines
    assert sum(line.billed_cost for line in (usage, credit, tax, correction, adjustment)) == (
        Decimal("105.89")
    )


def test_focus_malformed():
    text = (
        "ProviderName,BilledCost,EffectiveCost,BillingCurrency,ChargePeriodStart,"
        "ChargePeriodEnd,ChargeCategory,ChargeClass,Tags,SkuPriceDetails,CapacityReservationStatus\n"
        'AWS,1.00,1.00,USD,2025-06-01T00:00:00Z,2025-06-01T01:00:00Z,Usage,,{},"{""GpuCount"":1}",\n'
        "AWS,1.O0,1.00,USD,2025-06-01T00:00:00Z,2025-06-01T01:00:00Z,Usage,,{},{},\n"
        'AWS,1.00,1.00,USD,2025-06-01T00:00:00Z,2025-06-01T01:00:00Z,Usage,,"{""a"":",{},\n'
        "AWS,1.00,1.00,USD,2025-06-01T00:00:00Z,2025-06-01T01:00:00Z,Usage,,{}\n"
        "AWS,1.00,1.00,USD,2025-06-01T00:00:00Z,2025-06-01T01:00:00Z,Refund,Fixup,[],{},Idle\n"
        'AWS,1.00,1.00,USD,June 1st,2025-06-01T01:00:00Z,Usage,,{},"{""GpuCount"":""eight""}",\n'
    )
    with pytest.raises(ParseError) as excinfo:
        parse_focus_csv(text)
    assert lines_of(excinfo) == [3, 4, 5, 6, 6, 6, 6, 7, 7]
    messages = errors_of(excinfo)
    assert "BilledCost '1.O0' is not a number" in messages[0][1]
    assert "Tags is not valid JSON" in messages[1][1]
    assert "expected 11 fields, found 9" in messages[2][1]

    missing_column = "ProviderName,BilledCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd\n"
    with pytest.raises(ParseError) as excinfo:
        parse_focus_csv(missing_column + "AWS,1,USD,2025-06-01,2025-06-02\n")
    assert lines_of(excinfo) == [1]
    assert "EffectiveCost" in str(excinfo.value) and "ChargeCategory" in str(excinfo.value)

    with pytest.raises(ParseError) as excinfo:
        parse_focus_csv("")
    assert lines_of(excinfo) == [1]


# --- plain usage CSV ---------------------------------------------------------------------------


def test_usage_csv():
    text = (
        "Timestamp,Allocation_ID,device_id,Utilization,memory_used_mib\n"
        "2025-06-03T09:00:00Z,ALLOC-1,,87.5,40211\n"
        "2025-06-03T09:05:00,,gpu-h100-07/0,0,\n"
        "1748941200,ALLOC-2,GPU-a,100,0\n"
    )
    first, second, third = parse_usage_csv(text)
    assert first.timestamp == dt.datetime(2025, 6, 3, 9, tzinfo=UTC)
    assert (first.allocation_id, first.utilisation_pct, first.activity) == (
        "ALLOC-1",
        Decimal("87.5"),
        0.875,
    )
    assert first.memory_used_mib == 40211
    assert second.timestamp == dt.datetime(2025, 6, 3, 9, 5, tzinfo=UTC)  # naive = UTC
    assert (second.device_id, second.memory_used_mib, second.activity) == ("gpu-h100-07/0", None, 0)
    assert third.timestamp == dt.datetime(2025, 6, 3, 9, tzinfo=UTC)
    assert third.activity == 1.0 and third.line == 4


def test_usage_csv_malformed():
    text = (
        "timestamp,allocation_id,utilisation,memory_used_mib\n"
        "2025-06-03T09:00:00Z,A,50,100\n"
        "2025-06-03T09:00:00Z,A,150,100\n"
        "2025-06-03T09:00:00Z,A,-1,100\n"
        "2025-06-03T09:00:00Z,,50,100\n"
        "not-a-time,A,fifty,1.5\n"
        "2025-06-03T09:00:00Z,A,50\n"
    )
    with pytest.raises(ParseError) as excinfo:
        parse_usage_csv(text)
    assert lines_of(excinfo) == [3, 4, 5, 6, 6, 6, 7]
    assert "utilisation 150 is outside 0–100 %" in errors_of(excinfo)[0][1]

    with pytest.raises(ParseError) as excinfo:
        parse_usage_csv("timestamp,utilisation\n2025-06-03T09:00:00Z,5\n")
    assert lines_of(excinfo) == [1]
    assert "allocation_id or device_id" in str(excinfo.value)
