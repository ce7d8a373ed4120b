"""The GPU usage ingest engine (issue 7, item 4): matching, writing, idempotency, roll-up known
answers, atomicity, the management commands, and the PostgreSQL COPY path."""

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import connection

from core.models import AuditEvent
from inventory.finops.models import ChargebackLine, ChargebackMonth, Finding
from inventory.gpu.choices import PoolKind
from inventory.gpu.models import GPUType
from inventory.usage.choices import ExternalKeyKind, IngestKind
from inventory.usage.models import (
    CostRecord,
    ExternalKey,
    GPUDevice,
    IngestBatch,
    SlurmJobRecord,
    UsageDaily,
    UsageSample,
)
from inventory.usage.parsers import ParseError
from inventory.usage.services import batches as ingest_services
from inventory.usage.services import samples as usage_ingest
from inventory.usage.services.batches import detect_kind, ingest_file
from tests.factories import GPUAllocationFactory, GPUPoolFactory, InitiativeFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ingest"
UTC = dt.UTC
DAY = dt.date(2025, 6, 3)
SCRAPED_AT = dt.datetime(2025, 6, 3, 9, 0, tzinfo=UTC)
FINOPS_TABLES = (
    IngestBatch,
    GPUDevice,
    UsageSample,
    SlurmJobRecord,
    UsageDaily,
    CostRecord,
    Finding,
    ChargebackMonth,
    ChargebackLine,
    AuditEvent,
)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in FINOPS_TABLES}


def h100():
    return GPUType.objects.get(name="H100 80GB")  # seeded by the catalogue migration


@pytest.fixture
def fraud(unit_a):
    """Initiative "retail fraud" with one H100 allocation, matched by its namespace."""
    initiative = InitiativeFactory(business_unit=unit_a, title="Fraud LLM")
    pool = GPUPoolFactory(name="k8s-h100", gpu_type=h100(), kind=PoolKind.KUBERNETES)
    allocation = GPUAllocationFactory(
        pool=pool,
        initiative=initiative,
        business_unit=unit_a,
        gpu_count=Decimal("2"),
        starts_on=dt.date(2025, 6, 1),
    )
    ExternalKey.objects.create(
        kind=ExternalKeyKind.K8S_NAMESPACE, value="retail-fraud", initiative=initiative
    )
    return allocation


def ingest(user, kind, content, filename="file", **options):
    if isinstance(content, str):
        content = content.encode()
    return ingest_file(
        actor=user, kind=kind, filename=filename, content=content, options=options or None
    )


def query_range(*series) -> str:
    """A Prometheus query_range document; each series is (labels, [(epoch, value)…])."""
    return json.dumps(
        {
            "status": "success",
            "data": {
                "resultType": "matrix",
                "result": [
                    {"metric": labels, "values": [[t, str(v)] for t, v in values]}
                    for labels, values in series
                ],
            },
        }
    )


GPU0 = {
    "__name__": "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
    "gpu": "0",
    "UUID": "GPU-93ef0036-98de-4946-648a-eca7040afbeb",
    "modelName": "NVIDIA H100 80GB HBM3",
    "Hostname": "gpu-h100-07",
    "exported_namespace": "retail-fraud",
}
T0 = 1748941200  # 2025-06-03 09:00 UTC


# --- Prometheus query_range: matching and roll-up known answers --------------------------------


def test_query_range_sample_is_matched_and_rolled_up(platform_engineer, fraud):
    batch = ingest(
        platform_engineer,
        IngestKind.PROMETHEUS_JSON,
        fixture_bytes("prometheus-query-range-dcgm.json"),
        filename="range.json",
    )
    assert batch.already_imported is False
    assert (batch.status, batch.rows_read, batch.rows_written) == ("imported", 3, 3)
    assert batch.uploaded_by == platform_engineer
    assert batch.summary["samples"] == 3
    assert batch.summary["devices"] == 1
    assert batch.summary["unattributed_devices"] == 0
    assert batch.summary["allocations_matched"] == 3
    assert batch.summary["activity_metric"] == "DCGM_FI_PROF_GR_ENGINE_ACTIVE"

    device = GPUDevice.objects.get()
    assert (device.hostname, device.gpu, device.mig_instance) == (
        "gpu-h100-07",
        "GPU-93ef0036-98de-4946-648a-eca7040afbeb",
        "",
    )
    assert device.gpu_type == h100()
    assert device.allocation == fraud and device.pool == fraud.pool
    assert device.first_seen_at == dt.datetime(2025, 6, 3, 9, 0, tzinfo=UTC)
    assert device.last_seen_at == dt.datetime(2025, 6, 3, 9, 10, tzinfo=UTC)
    assert UsageSample.objects.filter(allocation=fraud, batch=batch).count() == 3

    daily = UsageDaily.objects.get()
    assert (daily.allocation, daily.device, daily.day) == (fraud, None, DAY)
    assert daily.samples == 3
    # 0.861, 0.874, 0.012: mean by hand, nearest-rank p95 = the 3rd smallest of 3.
    assert daily.avg_activity == pytest.approx((0.861 + 0.874 + 0.012) / 3)
    assert daily.p95_activity == pytest.approx(0.874)
    # Two samples 300 s before the next (at the cap) + the last one's 60 s = 660 s.
    assert daily.gpu_hours == Decimal("0.1833")
    assert daily.sampled_gpu_hours == Decimal("0.1833")  # all of it sampled: no jobs or pods
    assert AuditEvent.objects.filter(action="gpu_ingest.imported").count() == 1


def test_same_file_twice_writes_nothing(platform_engineer, fraud):
    content = fixture_bytes("prometheus-query-range-dcgm.json")
    first = ingest(platform_engineer, IngestKind.PROMETHEUS_JSON, content)
    before = counts()
    again = ingest(platform_engineer, IngestKind.PROMETHEUS_JSON, content, filename="copy.json")
    assert again.pk == first.pk
    assert again.already_imported is True
    assert counts() == before


def test_overlapping_file_does_not_double_count(platform_engineer, fraud):
    ingest(
        platform_engineer,
        IngestKind.PROMETHEUS_JSON,
        query_range((GPU0, [(T0, 0.5), (T0 + 300, 0.7)])),
    )
    # The second file repeats 09:05 (with another value) and adds 09:10.
    second = ingest(
        platform_engineer,
        IngestKind.PROMETHEUS_JSON,
        query_range((GPU0, [(T0 + 300, 0.9), (T0 + 600, 0.1)])),
    )
    assert second.summary["duplicate_samples_skipped"] == 1
    assert second.rows_written == 1
    assert UsageSample.objects.count() == 3
    daily = UsageDaily.objects.get()
    assert daily.samples == 3
    assert daily.avg_activity == pytest.approx((0.5 + 0.7 + 0.1) / 3)
    assert daily.gpu_hours == Decimal("0.1833")  # 300 + 300 + 60 s, as in one file


def test_gaps_over_the_cap_and_days_split_at_midnight_utc(platform_engineer, fraud):
    midnight = 1748995200  # 2025-06-04 00:00 UTC
    ingest(
        platform_engineer,
        IngestKind.PROMETHEUS_JSON,
        # 23:50, then 10 minutes later (over the 5-minute cap), then 00:02 and 00:04.
        query_range((GPU0, [(midnight - 600, 0.2), (midnight, 0.4), (midnight + 120, 0.6)])),
    )
    first, second = UsageDaily.objects.order_by("day")
    assert (first.day, first.samples, first.gpu_hours) == (DAY, 1, Decimal("0.0167"))  # 60 s
    assert (second.day, second.samples) == (dt.date(2025, 6, 4), 2)
    assert second.gpu_hours == Decimal("0.0500")  # 120 s + 60 s
    # A later file adding 23:58 recomputes the 3rd: 23:50 → 60 s, 23:58 → 120 s to 00:00.
    ingest(
        platform_engineer, IngestKind.PROMETHEUS_JSON, query_range((GPU0, [(midnight - 120, 0.8)]))
    )
    first = UsageDaily.objects.get(day=DAY)
    assert (first.samples, first.gpu_hours) == (2, Decimal("0.0500"))
    assert first.p95_activity == pytest.approx(0.8)


def test_initiative_key_prefers_the_allocation_of_the_devices_gpu_type(
    platform_engineer, fraud, unit_a
):
    l4_pool = GPUPoolFactory(name="k8s-l4", gpu_type=GPUType.objects.get(name="L4"))
    # Starts earlier than the H100 one: it would win the tie on start date alone.
    GPUAllocationFactory(
        pool=l4_pool,
        initiative=fraud.initiative,
        business_unit=unit_a,
        starts_on=dt.date(2025, 5, 1),
    )
    ingest(
        platform_engineer,
        IngestKind.PROMETHEUS_JSON,
        fixture_bytes("prometheus-query-range-dcgm.json"),
    )
    assert set(UsageSample.objects.values_list("allocation_id", flat=True)) == {fraud.pk}


def test_allocation_not_active_on_the_day_leaves_the_sample_unattributed(platform_engineer, fraud):
    fraud.starts_on = dt.date(2025, 6, 4)
    fraud.save()
    batch = ingest(
        platform_engineer,
        IngestKind.PROMETHEUS_JSON,
        fixture_bytes("prometheus-query-range-dcgm.json"),
    )
    assert batch.summary["allocations_matched"] == 0
    assert batch.summary["unattributed_devices"] == 1
    daily = UsageDaily.objects.get()
    assert daily.allocation is None and daily.device == GPUDevice.objects.get()


# --- dcgm-exporter text: unattributed devices, MIG, device keys --------------------------------


def test_scrape_records_the_unattributed_device_holding_memory(platform_engineer, fraud):
    batch = ingest(
        platform_engineer,
        IngestKind.DCGM_TEXT,
        fixture_bytes("dcgm-exporter-scrape.txt"),
        scraped_at=SCRAPED_AT,
    )
    assert batch.summary["devices"] == 2
    assert batch.summary["unattributed_devices"] == 1
    busy = GPUDevice.objects.get(gpu="GPU-93ef0036-98de-4946-648a-eca7040afbeb")
    idle = GPUDevice.objects.get(gpu="GPU-1f0c2b6e-0000-4a1b-9c1d-7e2f3a4b5c6d")
    assert busy.allocation == fraud
    assert idle.allocation is None and idle.last_memory_used_mib == 40211
    unattributed = UsageDaily.objects.get(allocation__isnull=True)
    assert (unattributed.device, unattributed.max_memory_used_mib) == (idle, 40211)
    assert unattributed.avg_activity == 0.0
    assert unattributed.gpu_hours == Decimal("0.0167")
    assert UsageDaily.objects.get(allocation=fraud).avg_activity == pytest.approx(0.873)


MIG_SCRAPE = """\
# TYPE DCGM_FI_PROF_GR_ENGINE_ACTIVE gauge
DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="2",UUID="GPU-c",GPU_I_PROFILE="3g.40gb",GPU_I_ID="1",modelName="NVIDIA H100 80GB HBM3",Hostname="node-b",pod="train-2",namespace="research"} 0.25 1748941200000
DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="2",UUID="GPU-c",GPU_I_PROFILE="3g.40gb",GPU_I_ID="1",modelName="NVIDIA H100 80GB HBM3",Hostname="node-b",pod="train-2",namespace="research"} 0.75 1748941260000
DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="2",UUID="GPU-c",GPU_I_PROFILE="1g.10gb",GPU_I_ID="7",modelName="NVIDIA H100 80GB HBM3",Hostname="node-b",pod="nb-1",namespace="research"} 0.5 1748941200000
DCGM_FI_DEV_FB_USED{gpu="3",UUID="GPU-d",modelName="NVIDIA H100 80GB HBM3",Hostname="node-b"} 0 1748941200000
DCGM_FI_DEV_GPU_UTIL{gpu="3",UUID="GPU-d",modelName="NVIDIA H100 80GB HBM3",Hostname="node-b"} 0 1748941200000
"""  # noqa: E501


def test_mig_instances_match_by_device_key_and_count_their_share(platform_engineer, unit_a):
    pool = GPUPoolFactory(name="mig-pool", gpu_type=h100())
    training = GPUAllocationFactory(pool=pool, business_unit=unit_a, starts_on=dt.date(2025, 6, 1))
    notebooks = GPUAllocationFactory(pool=pool, business_unit=unit_a, starts_on=dt.date(2025, 6, 1))
    # By index (host:gpu:mig) and by UUID (host:uuid:mig).
    ExternalKey.objects.create(kind=ExternalKeyKind.DEVICE, value="node-b:2:1", allocation=training)
    ExternalKey.objects.create(
        kind=ExternalKeyKind.DEVICE, value="node-b:GPU-c:7", allocation=notebooks
    )
    batch = ingest(platform_engineer, IngestKind.DCGM_TEXT, MIG_SCRAPE)
    assert batch.summary["devices"] == 3
    # GPU-d: no workload, no memory held, no activity: stored, but not "unattributed".
    assert batch.summary["unattributed_devices"] == 0
    mig = GPUDevice.objects.get(mig_instance="1")
    assert (mig.mig_profile, mig.gpu, mig.allocation) == ("3g.40gb", "GPU-c", training)
    daily = UsageDaily.objects.get(allocation=training)
    assert daily.samples == 2 and daily.avg_activity == pytest.approx(0.5)
    # (60 s + 60 s) × 3/7 of a GPU
    assert daily.gpu_hours == Decimal("0.0143")
    assert UsageDaily.objects.get(allocation=notebooks).gpu_hours == Decimal("0.0024")  # 60 × 1/7
    free = UsageDaily.objects.get(device__gpu="GPU-d")
    assert (free.allocation, free.max_memory_used_mib, free.avg_activity) == (None, 0, 0.0)


# --- usage CSV ---------------------------------------------------------------------------------


def test_usage_csv_allocation_and_device_rows(platform_engineer, fraud):
    ExternalKey.objects.create(kind=ExternalKeyKind.DEVICE, value="node-x:0", allocation=fraud)
    text = (
        f"timestamp,allocation_id,device_id,utilisation,memory_used_mib\n"
        f"2025-06-03T09:00:00Z,{fraud.pk},,50,\n"
        f"2025-06-03T09:01:00Z,{fraud.pk},,100,\n"
        "2025-06-03T09:00:00Z,,node-x/0,20,1000\n"
        "2025-06-03T09:00:00Z,,node-y:3,0,5000\n"
        # repeated within the file: skipped
        "2025-06-03T09:00:00Z,,node-y:3,10,5000\n"
    )
    batch = ingest(platform_engineer, IngestKind.USAGE_CSV, text)
    assert batch.summary["duplicate_samples_skipped"] == 1
    assert batch.summary["unattributed_devices"] == 1
    assert batch.summary["activity_metric"] == "usage CSV utilisation / 100"
    daily = UsageDaily.objects.get(allocation=fraud)
    assert daily.samples == 3
    assert daily.avg_activity == pytest.approx((0.5 + 1.0 + 0.2) / 3)
    assert daily.max_memory_used_mib == 1000
    # Allocation rows speak for its 2 GPUs: (60 + 60) s × 2; the device row 60 s × 1.
    assert daily.gpu_hours == Decimal("0.0833")
    orphan = UsageDaily.objects.get(allocation__isnull=True)
    assert orphan.device.hostname == "node-y" and orphan.max_memory_used_mib == 5000


def test_usage_csv_unknown_allocation_is_a_line_error_and_writes_nothing(platform_engineer, fraud):
    before = counts()
    text = (
        "timestamp,allocation_id,utilisation\n"
        f"2025-06-03T09:00:00Z,{fraud.pk},50\n"
        "2025-06-03T09:00:00Z,999999,50\n"
        "2025-06-03T09:00:00Z,ALLOC-1,50\n"
    )
    with pytest.raises(ParseError) as excinfo:
        ingest(platform_engineer, IngestKind.USAGE_CSV, text)
    assert [line for line, _ in excinfo.value.errors] == [3, 4]
    assert "allocation '999999' does not exist" in excinfo.value.errors[0][1]
    assert counts() == before


def test_malformed_file_reports_lines_and_leaves_every_table_unchanged(platform_engineer, fraud):
    before = counts()
    text = (
        "timestamp,device_id,utilisation\n"
        "2025-06-03T09:00:00Z,node-x:0,50\n"
        "2025-06-03T09:00:00Z,node-x:0,150\n"
        "soon,node-x:0,5\n"
    )
    with pytest.raises(ParseError) as excinfo:
        ingest(platform_engineer, IngestKind.USAGE_CSV, text)
    assert [line for line, _ in excinfo.value.errors] == [3, 4]
    assert counts() == before


def test_failure_midway_writes_nothing(platform_engineer, fraud, monkeypatch):
    before = counts()

    def broken(keys):
        raise RuntimeError("roll-up failed")

    monkeypatch.setattr(usage_ingest, "rollup_days", broken)
    with pytest.raises(RuntimeError):
        ingest(
            platform_engineer,
            IngestKind.PROMETHEUS_JSON,
            fixture_bytes("prometheus-query-range-dcgm.json"),
        )
    assert counts() == before
    monkeypatch.undo()
    # The file was never imported, so it imports now.
    batch = ingest(
        platform_engineer,
        IngestKind.PROMETHEUS_JSON,
        fixture_bytes("prometheus-query-range-dcgm.json"),
    )
    assert batch.already_imported is False and UsageSample.objects.count() == 3


def test_not_utf8_is_a_parse_error(platform_engineer):
    with pytest.raises(ParseError) as excinfo:
        ingest(platform_engineer, IngestKind.USAGE_CSV, b"timestamp,device_id,utilisation\n\xff\n")
    assert excinfo.value.errors[0][0] == 2


def test_only_the_platform_team_imports(member_a, coe_admin, fraud):
    before = counts()
    with pytest.raises(PermissionDenied):
        ingest(
            member_a, IngestKind.PROMETHEUS_JSON, fixture_bytes("prometheus-query-range-dcgm.json")
        )
    assert counts() == before
    batch = ingest(
        coe_admin, IngestKind.PROMETHEUS_JSON, fixture_bytes("prometheus-query-range-dcgm.json")
    )
    assert batch.pk


# --- Slurm -------------------------------------------------------------------------------------


@pytest.fixture
def slurm_allocation(unit_a, fraud):
    """The fraud initiative also holds a Slurm allocation on cluster hpc1 (preferred for jobs
    over its Kubernetes one); its WCKey is ai-0042."""
    pool = GPUPoolFactory(name="hpc1-h100", gpu_type=h100(), kind=PoolKind.SLURM, cluster="hpc1")
    allocation = GPUAllocationFactory(
        pool=pool, initiative=fraud.initiative, business_unit=unit_a, gpu_count=Decimal("8"),
        starts_on=dt.date(2025, 6, 2),
    )  # fmt: skip
    ExternalKey.objects.create(
        kind=ExternalKeyKind.SLURM_WCKEY, value="ai-0042", initiative=fraud.initiative
    )
    return allocation


def test_sacct_sample_maps_by_wckey_and_keeps_unmapped_jobs(platform_engineer, slurm_allocation):
    batch = ingest(
        platform_engineer, IngestKind.SLURM_SACCT, fixture_bytes("slurm-sacct-parsable2.txt")
    )
    assert batch.summary["jobs"] == 2
    assert batch.summary["jobs_new"] == 2
    assert batch.summary["jobs_unattributed"] == 1
    mapped = SlurmJobRecord.objects.get(job_id="81234")
    assert (mapped.allocation, mapped.gpus, mapped.cluster) == (slurm_allocation, 8, "hpc1")
    assert mapped.gpu_hours == Decimal("52.0933")  # 8 × 23442 s / 3600
    unmapped = SlurmJobRecord.objects.get(job_id="81240")
    assert unmapped.allocation is None and unmapped.gpus == 2
    daily = UsageDaily.objects.get()
    assert (daily.allocation, daily.day, daily.samples) == (slurm_allocation, DAY, 0)
    assert daily.gpu_hours == Decimal("52.0933")
    assert daily.avg_activity is None


SACCT_HEADER = (
    "JobIDRaw|JobName|Cluster|Partition|Account|User|WCKey|State|Start|End|ElapsedRaw|AllocTRES\n"
)


def test_running_job_reimported_finished_is_updated(platform_engineer, slurm_allocation, unit_a):
    ExternalKey.objects.create(
        kind=ExternalKeyKind.SLURM_ACCOUNT, value="retail", business_unit=unit_a
    )
    running = SACCT_HEADER + (
        "900|train|hpc1|gpu-h100|retail|asmith||RUNNING|2025-06-03T23:00:00|Unknown|3600|"
        "cpu=8,gres/gpu:h100=4\n"
        "900.0|python|hpc1|gpu-h100|retail|asmith||RUNNING|2025-06-03T23:00:00|Unknown|3600|"
        "cpu=8,gres/gpu:h100=4\n"
    )
    first = ingest(platform_engineer, IngestKind.SLURM_SACCT, running)
    assert (first.summary["jobs_new"], first.summary["jobs_running"]) == (1, 1)
    record = SlurmJobRecord.objects.get()
    # Account "retail" → the BU → its allocation active that day, preferring the Slurm pool.
    assert record.allocation == slurm_allocation and record.end is None
    assert UsageDaily.objects.get().gpu_hours == Decimal("4.0000")  # 4 GPUs × 1 h, 23:00–24:00

    finished = SACCT_HEADER + (
        "900|train|hpc1|gpu-h100|retail|asmith||COMPLETED|2025-06-03T23:00:00|"
        "2025-06-04T02:00:00|10800|cpu=8,gres/gpu:h100=4\n"
    )
    second = ingest(platform_engineer, IngestKind.SLURM_SACCT, finished)
    assert (second.summary["jobs_new"], second.summary["jobs_updated"]) == (0, 1)
    record = SlurmJobRecord.objects.get()
    assert (record.state, record.elapsed_seconds, record.batch) == ("COMPLETED", 10800, second)
    assert record.gpu_hours == Decimal("12.0000")
    # Split over the UTC days the job ran: 1 h on the 3rd, 2 h on the 4th.
    assert list(UsageDaily.objects.order_by("day").values_list("day", "gpu_hours")) == [
        (DAY, Decimal("4.0000")),
        (dt.date(2025, 6, 4), Decimal("8.0000")),
    ]


def test_job_known_only_through_steps_keeps_the_largest_step(platform_engineer, slurm_allocation):
    text = SACCT_HEADER + (
        "77.batch|batch|hpc1|gpu-h100|x|u|ai-0042|COMPLETED|2025-06-03T10:00:00|"
        "2025-06-03T11:00:00|3600|cpu=2,gres/gpu=1\n"
        "77.0|train|hpc1|gpu-h100|x|u|ai-0042|COMPLETED|2025-06-03T10:00:00|"
        "2025-06-03T11:00:00|3600|cpu=8,gres/gpu=4\n"
    )
    ingest(platform_engineer, IngestKind.SLURM_SACCT, text)
    record = SlurmJobRecord.objects.get()
    assert (record.job_id, record.gpus) == ("77.0", 4)
    assert UsageDaily.objects.get().gpu_hours == Decimal("4.0000")


# --- FOCUS goes through the same engine ----------------------------------------------------------


def test_focus_file_goes_to_the_cost_importer(platform_engineer):
    pytest.importorskip("inventory.usage.services.costs", reason="written by another helper")
    batch = ingest(platform_engineer, IngestKind.FOCUS, fixture_bytes("focus-1.2-gpu.csv"))
    assert batch.kind == IngestKind.FOCUS and batch.already_imported is False
    assert CostRecord.objects.filter(batch=batch).exists()
    again = ingest(platform_engineer, IngestKind.FOCUS, fixture_bytes("focus-1.2-gpu.csv"))
    assert again.already_imported is True


def test_detect_kind():
    assert detect_kind("x.json", b"{}") == IngestKind.PROMETHEUS_JSON
    assert (
        detect_kind("scrape.txt", fixture_bytes("dcgm-exporter-scrape.txt")) == IngestKind.DCGM_TEXT
    )
    assert (
        detect_kind("s.txt", fixture_bytes("slurm-sacct-parsable2.txt")) == IngestKind.SLURM_SACCT
    )
    assert detect_kind("c.csv", fixture_bytes("focus-1.2-gpu.csv")) == IngestKind.FOCUS
    assert detect_kind("u.csv", b"timestamp,device_id,utilisation\n") == IngestKind.USAGE_CSV


# --- Management command --------------------------------------------------------------------------


def test_import_command_prints_the_summary(platform_engineer, fraud, tmp_path):
    path = tmp_path / "range.json"
    path.write_bytes(fixture_bytes("prometheus-query-range-dcgm.json"))
    out = io.StringIO()
    call_command("import_gpu_usage", str(path), "--user", "pete", stdout=out)
    assert "Imported" in out.getvalue() and "samples: 3" in out.getvalue()
    out = io.StringIO()
    call_command("import_gpu_usage", str(path), "--user", "pete", stdout=out)
    assert "already imported" in out.getvalue()
    assert IngestBatch.objects.count() == 1


def test_import_command_lists_every_line_error(platform_engineer, tmp_path):
    path = tmp_path / "usage.csv"
    path.write_text("timestamp,device_id,utilisation\nsoon,a:0,5\n2025-06-03T09:00:00Z,a:0,500\n")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_gpu_usage", str(path), "--user", "pete", stderr=err)
    assert "line 2:" in err.getvalue() and "line 3:" in err.getvalue()
    assert IngestBatch.objects.count() == 0


def test_import_command_needs_a_permitted_user(member_a, tmp_path):
    path = tmp_path / "usage.csv"
    path.write_text("timestamp,device_id,utilisation\n2025-06-03T09:00:00Z,a:0,5\n")
    with pytest.raises(CommandError, match="platform"):
        call_command("import_gpu_usage", str(path), "--user", "alice")
    with pytest.raises(CommandError, match="nobody"):
        call_command("import_gpu_usage", str(path), "--user", "nobody")


# --- PostgreSQL COPY ---------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY exists on PostgreSQL only")
def test_postgresql_copy_path(platform_engineer, fraud, django_assert_max_num_queries):
    ExternalKey.objects.create(kind=ExternalKeyKind.DEVICE, value="node-x:0", allocation=fraud)
    rows = [f"{T0 + 60 * n},node-{'x' if n % 2 else 'y'}:0,{n % 100},{n}" for n in range(400)]
    text = "timestamp,device_id,utilisation,memory_used_mib\n" + "\n".join(rows) + "\n"
    with django_assert_max_num_queries(40):
        batch = ingest(platform_engineer, IngestKind.USAGE_CSV, text)
    assert batch.rows_written == 400
    stored = UsageSample.objects.filter(device__hostname="node-x").order_by("timestamp")
    assert stored.count() == 200 and stored[0].allocation == fraud
    assert stored[0].activity == pytest.approx(0.01) and stored[0].memory_used_mib == 1
    assert stored[0].timestamp == dt.datetime.fromtimestamp(T0 + 60, tz=UTC)
    # An overlapping file on PostgreSQL skips the stored pairs too.
    more = ingest(
        platform_engineer,
        IngestKind.USAGE_CSV,
        text.replace(",1,1\n", ",2,1\n") + f"{T0 + 60 * 400},node-y:0,5,5\n",
    )
    assert more.rows_written == 1
    assert UsageSample.objects.count() == 401
    assert UsageDaily.objects.get(allocation=fraud).samples == 200


def test_query_count_does_not_grow_with_samples(
    platform_engineer, fraud, django_assert_max_num_queries
):
    def scrape(n_devices, n_times, start):
        series = []
        for d in range(n_devices):
            labels = {
                **GPU0,
                "gpu": str(d),
                "UUID": f"GPU-{start}-{d}",
                "Hostname": f"h{start}-{d % 3}",
            }
            series.append((labels, [(T0 + 60 * t, 0.5) for t in range(n_times)]))
        return query_range(*series)

    with django_assert_max_num_queries(40) as small:
        ingest(platform_engineer, IngestKind.PROMETHEUS_JSON, scrape(2, 3, 1))
    with django_assert_max_num_queries(len(small.captured_queries)):
        ingest(platform_engineer, IngestKind.PROMETHEUS_JSON, scrape(6, 9, 2))


def test_ingest_services_module_constants():
    assert ingest_services.MAX_UPLOAD_BYTES == 50_000_000


def test_import_focus_costs_command(platform_engineer, tmp_path):
    pytest.importorskip("inventory.usage.services.costs", reason="written by another helper")
    path = tmp_path / "focus.csv"
    path.write_bytes(fixture_bytes("focus-1.2-gpu.csv"))
    out = io.StringIO()
    call_command("import_focus_costs", str(path), "--user", "pete", stdout=out)
    assert "Imported as FOCUS cost export" in out.getvalue()
    assert IngestBatch.objects.get().kind == IngestKind.FOCUS
