"""Kubernetes pod ingest (issue 17, item 10): the openb-style pod trace, pod lists in CSV and
JSON, OpenCost allocation exports; exact fractional GPU-hours, attribution through external
keys and the initiative label, pods not counted reported, re-imports, the roll-up, and the
upload page and API."""

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from rest_framework.test import APIClient

from inventory.gpu.choices import PoolKind, SharingMode
from inventory.gpu.models import GPUType
from inventory.usage.choices import ExternalKeyKind, IngestKind
from inventory.usage.models import ExternalKey, IngestBatch, PodRecord, UsageDaily
from inventory.usage.parsers import ParseError, parse_opencost_allocation, parse_pods
from inventory.usage.services.batches import detect_kind, ingest_file
from tests.factories import GPUAllocationFactory, GPUPoolFactory, InitiativeFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent.parent / "fixtures" / "pods"
UTC = dt.UTC
TRACE_START = dt.datetime(2025, 6, 3, tzinfo=UTC)
MILLI = Decimal("0.001")


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def ingest(user, kind, name, **options):
    return ingest_file(
        actor=user, kind=kind, filename=name, content=fixture_bytes(name), options=options
    )


def direct_gpu_hours(row: dict) -> Decimal:
    """num_gpu × gpu_milli / 1000 × (deletion − scheduled) / 3600, straight from the row."""
    return (
        Decimal(row["num_gpu"])
        * Decimal(row["gpu_milli"])
        / 1000
        * (Decimal(row["deletion_time"]) - Decimal(row["scheduled_time"]))
        / 3600
    )


@pytest.fixture
def estate(unit_a):
    """Fraud (namespace retail-fraud) on H100s, the AI-0042 notebook initiative and the
    search initiative (label team=search) on a MIG A100 pool."""
    h100 = GPUType.objects.get(name="H100 80GB")
    a100 = GPUType.objects.get(name="A100 40GB")
    fraud = InitiativeFactory(business_unit=unit_a, title="Fraud")
    notebook = InitiativeFactory(business_unit=unit_a, title="Notebooks", reference="AI-0042")
    search = InitiativeFactory(business_unit=unit_a, title="Search")
    h100_pool = GPUPoolFactory(name="k8s-h100", gpu_type=h100, kind=PoolKind.KUBERNETES)
    a100_pool = GPUPoolFactory(
        name="k8s-a100-mig",
        gpu_type=a100,
        kind=PoolKind.KUBERNETES,
        sharing_mode=SharingMode.MIG,
    )
    start = dt.date(2025, 6, 1)
    allocations = {
        "fraud": GPUAllocationFactory(
            pool=h100_pool, initiative=fraud, business_unit=unit_a, starts_on=start
        ),
        "notebook": GPUAllocationFactory(
            pool=a100_pool,
            initiative=notebook,
            business_unit=unit_a,
            starts_on=start,
            gpu_count=Decimal("0.143"),
        ),
        "search": GPUAllocationFactory(
            pool=a100_pool, initiative=search, business_unit=unit_a, starts_on=start
        ),
    }
    ExternalKey.objects.create(
        kind=ExternalKeyKind.K8S_NAMESPACE, value="retail-fraud", initiative=fraud
    )
    ExternalKey.objects.create(
        kind=ExternalKeyKind.K8S_LABEL, value="team=search", initiative=search
    )
    return allocations


def daily_hours(allocation) -> dict:
    return dict(UsageDaily.objects.filter(allocation=allocation).values_list("day", "gpu_hours"))


# --- The openb pod trace: exact fractional GPU-hours --------------------------------------------


def test_gpu_hours_of_each_fractional_trace_pod_equal_the_direct_computation():
    pods = parse_pods(fixture_bytes("openb-pod-trace.csv"), time_origin=TRACE_START)
    with (FIXTURES / "openb-pod-trace.csv").open(newline="") as handle:
        rows = {row["name"]: row for row in csv.DictReader(handle)}
    counted = {pod.pod: pod for pod in pods if not pod.not_counted}
    assert set(counted) == {
        "keel-pod-0001", "keel-pod-0002", "keel-pod-0003", "keel-pod-0004", "keel-pod-0008"
    }  # fmt: skip
    for name, pod in counted.items():
        assert abs(pod.gpu_hours - direct_gpu_hours(rows[name])) < MILLI, name
    # 0.35 GPU × 7261 s and 0.333 GPU × 3500 s, to the millionth
    assert counted["keel-pod-0002"].gpu_hours == Decimal("0.705931")
    assert counted["keel-pod-0008"].gpu_hours == Decimal("0.323750")
    assert counted["keel-pod-0004"].gpu_hours == Decimal("88.000000")
    assert counted["keel-pod-0001"].start == TRACE_START + dt.timedelta(seconds=10)
    not_counted = {pod.pod: pod.not_counted for pod in pods if pod.not_counted}
    assert not_counted == {
        "keel-pod-0005": "never scheduled",
        "keel-pod-0006": "no GPU requested",
        "keel-pod-0007": "failed before it was scheduled",
    }


def test_the_trace_imports_with_pods_not_counted_in_the_batch_result(platform_engineer):
    assert detect_kind("pods.csv", fixture_bytes("openb-pod-trace.csv")) == IngestKind.K8S_PODS
    batch = ingest(
        platform_engineer,
        IngestKind.K8S_PODS,
        "openb-pod-trace.csv",
        time_origin="2025-06-03T00:00:00Z",
    )
    summary = batch.summary
    assert summary["pods"] == 8 and summary["pods_counted"] == 5
    assert summary["pods_not_counted"] == 3 and summary["pods_unattributed"] == 5
    assert {row["pod"]: row["line"] for row in summary["not_counted"]} == {
        "keel-pod-0005": 6,
        "keel-pod-0006": 7,
        "keel-pod-0007": 8,
    }
    assert summary["not_counted_reasons"] == {
        "failed before it was scheduled": 1,
        "never scheduled": 1,
        "no GPU requested": 1,
    }
    assert batch.rows_written == 5 and PodRecord.objects.count() == 5
    total = PodRecord.objects.values_list("gpu_hours", flat=True)
    assert Decimal(summary["gpu_hours"]) == sum(total)
    p100 = PodRecord.objects.get(pod="keel-pod-0008")
    assert p100.gpu_type.name == "P100 16GB" and p100.gpu_count == Decimal("0.333")
    assert PodRecord.objects.get(pod="keel-pod-0003").gpu_type.name == "T4"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("p,1,1500,,0,10,20", "gpu_milli 1500 is more than 1000"),
        ("p,1,500,,0,20,10", "deletion_time is before scheduled_time"),
        ("p,1.5,500,,0,10,20", "num_gpu '1.5' is not a whole number"),
        ("p,1,,mig-9g.99gb,0,10,20", "is not a MIG profile"),
        ("p,1,500,,0,soon,10", "scheduled_time 'soon' is not an ISO 8601"),
    ],
)
def test_a_bad_row_is_a_line_error_and_nothing_is_imported(platform_engineer, row, message):
    text = (
        "name,num_gpu,gpu_milli,mig_profile,creation_time,scheduled_time,deletion_time\n"
        "good,1,100,,0,10,20\n" + row + "\n"
    )
    with pytest.raises(ParseError) as refused:
        ingest_file(
            actor=platform_engineer,
            kind=IngestKind.K8S_PODS,
            filename="x.csv",
            content=text.encode(),
        )
    assert refused.value.errors[0][0] == 3 and message in refused.value.errors[0][1]
    assert not IngestBatch.objects.exists() and not PodRecord.objects.exists()


# --- Pod lists with namespaces and labels: attribution and roll-up -------------------------------


def test_pods_are_attributed_by_label_initiative_label_and_namespace(platform_engineer, estate):
    batch = ingest(platform_engineer, IngestKind.K8S_PODS, "k8s-pods.csv")
    pods = {pod.pod: pod for pod in PodRecord.objects.all()}
    assert pods["fraud-train-0"].allocation == estate["fraud"]  # namespace
    assert pods["fraud-serve-0"].allocation == estate["fraud"]
    assert pods["notebook-ana"].allocation == estate["notebook"]  # keel-initiative label
    assert pods["batch-embed-7"].allocation == estate["search"]  # k8s_label key
    assert pods["orphan-job"].allocation is None
    assert "fraud-queue-1" not in pods
    # MIG: 1/7 of an A100 for 1.5 h; 2 × 3/7 for 1 h
    assert pods["notebook-ana"].gpu_hours == Decimal("0.214286")
    assert pods["notebook-ana"].gpu_count == Decimal("0.143")
    assert pods["notebook-ana"].mig_profile == "1g.5gb"
    assert pods["batch-embed-7"].gpu_hours == Decimal("0.857143")
    assert pods["fraud-train-0"].utilisation == pytest.approx(0.815)
    assert pods["fraud-train-0"].labels == {"app": "fraud", "team": "risk"}
    assert batch.summary["pods_unattributed"] == 1 and batch.summary["pods_not_counted"] == 1
    assert batch.summary["not_counted"] == [
        {
            "line": 7,
            "pod": "fraud-queue-1",
            "namespace": "retail-fraud",
            "reason": "never scheduled",
        }
    ]
    # 4 h of two GPUs on the 3rd, and the 0.25-GPU pod across midnight: 0.25 h each side
    assert daily_hours(estate["fraud"]) == {
        dt.date(2025, 6, 3): Decimal("4.2500"),
        dt.date(2025, 6, 4): Decimal("0.2500"),
    }
    assert daily_hours(estate["notebook"]) == {dt.date(2025, 6, 3): Decimal("0.2143")}
    # Pods are GPU-hours used but no samples: none of it is sampled (the sample coverage).
    assert set(
        UsageDaily.objects.filter(allocation=estate["fraud"]).values_list(
            "sampled_gpu_hours", flat=True
        )
    ) == {Decimal("0")}


def test_json_pod_list_and_a_running_pod_updated_later_count_once(platform_engineer, estate):
    assert detect_kind("pods.json", fixture_bytes("k8s-pods.json")) == IngestKind.K8S_PODS
    batch = ingest(platform_engineer, IngestKind.K8S_PODS, "k8s-pods.json")
    assert batch.summary["pods_counted"] == 1 and batch.summary["pods_not_counted"] == 1
    pod = PodRecord.objects.get()
    assert pod.gpu_hours == Decimal("0.500000") and pod.allocation == estate["fraud"]

    running = (
        "namespace,name,num_gpu,gpu_milli,scheduled_time,deletion_time\n"
        "retail-fraud,live-0,1,500,2025-06-03T10:00:00Z,\n"
    )
    first = ingest_file(
        actor=platform_engineer,
        kind=IngestKind.K8S_PODS,
        filename="live.csv",
        content=running.encode(),
        options={"observed_at": "2025-06-03T12:00:00Z"},
    )
    assert first.summary["pods_running"] == 1
    live = PodRecord.objects.get(pod="live-0")
    assert live.end is None and live.gpu_hours == Decimal("1.000000")
    ended = running.replace(",\n", ",2025-06-03T16:00:00Z\n")
    second = ingest_file(
        actor=platform_engineer,
        kind=IngestKind.K8S_PODS,
        filename="live.csv",
        content=ended.encode(),
    )
    assert second.summary["pods_updated"] == 1 and second.summary["pods_new"] == 0
    live.refresh_from_db()
    assert live.end is not None and live.gpu_hours == Decimal("3.000000")
    assert PodRecord.objects.filter(pod="live-0").count() == 1
    # 0.5 (JSON pod) + 3 (live-0), never 0.5 + 1 + 3
    assert daily_hours(estate["fraud"]) == {dt.date(2025, 6, 3): Decimal("3.5000")}


# --- OpenCost allocation export ---------------------------------------------------------------


def test_opencost_export_keeps_its_gpu_hours_and_skips_idle_and_cpu_rows(platform_engineer, estate):
    content = fixture_bytes("opencost-allocation.json")
    assert detect_kind("allocation.json", content) == IngestKind.OPENCOST
    parsed = parse_opencost_allocation(content)
    assert {pod.pod: pod.not_counted for pod in parsed} == {
        "fraud-train-0": "",
        "__idle__": "OpenCost's __idle__ row",
        "frontend-5d9c": "no GPU-hours",
        "notebook-ana": "",
    }
    batch = ingest(platform_engineer, IngestKind.OPENCOST, "opencost-allocation.json")
    assert batch.summary["pods_counted"] == 2 and batch.summary["pods_not_counted"] == 2
    train = PodRecord.objects.get(pod="fraud-train-0")
    assert train.source == IngestKind.OPENCOST and train.allocation == estate["fraud"]
    assert train.gpu_hours == Decimal("4.000000") and train.gpu_count == Decimal("2.000")
    assert train.cost == Decimal("24.000000") and train.utilisation == pytest.approx(0.8)
    assert train.gpu_type.name == "H100 80GB"  # DCGM model name in the catalogue
    notebook = PodRecord.objects.get(pod="notebook-ana")
    assert notebook.allocation == estate["notebook"] and notebook.gpu_count == Decimal("0.500")
    assert daily_hours(estate["notebook"]) == {dt.date(2025, 6, 4): Decimal("1.2500")}


def test_opencost_problems_name_their_json_path():
    document = {
        "code": 200,
        "data": [{"pod-a": {"properties": {}, "start": "nope", "end": "2025-06-03T00:00:00Z"}}],
    }
    with pytest.raises(ParseError) as refused:
        parse_opencost_allocation(json.dumps(document))
    assert refused.value.errors[0][0] is None
    assert "$.data[0]['pod-a'].start" in refused.value.errors[0][1]
    with pytest.raises(ParseError):
        parse_opencost_allocation(json.dumps({"code": 500, "data": []}))


# --- Upload page and API ----------------------------------------------------------------------


def test_upload_page_and_api_import_pod_files(client, platform_engineer, estate):
    client.force_login(platform_engineer)
    with (FIXTURES / "openb-pod-trace.csv").open("rb") as handle:
        response = client.post(
            reverse("inventory:ingest_upload"),
            {"kind": "auto", "file": handle, "time_origin": "2025-06-03T00:00"},
        )
    assert response.status_code == 302
    batch = IngestBatch.objects.get()
    assert batch.kind == IngestKind.K8S_PODS and batch.rows_written == 5
    assert PodRecord.objects.get(pod="keel-pod-0001").start == TRACE_START + dt.timedelta(
        seconds=10
    )
    page = client.get(reverse("inventory:ingest_detail", args=[batch.pk])).content.decode()
    assert "Pods not counted" in page and "keel-pod-0007" in page

    api = APIClient()
    api.force_authenticate(platform_engineer)
    with (FIXTURES / "opencost-allocation.json").open("rb") as handle:
        created = api.post("/api/v1/gpu-ingest/", {"file": handle}, format="multipart")
    assert created.status_code == 201, created.json()
    assert created.json()["kind"] == IngestKind.OPENCOST
    assert created.json()["summary"]["pods_counted"] == 2


def test_members_cannot_import_pods(member_a):
    with pytest.raises(PermissionDenied):
        ingest(member_a, IngestKind.K8S_PODS, "k8s-pods.csv")
    assert not PodRecord.objects.exists()


def test_a_kubectl_pod_list_is_read_from_its_specs_and_conditions(platform_engineer, estate):
    content = fixture_bytes("kubectl-get-pods.json")
    assert detect_kind("pods.json", content) == IngestKind.K8S_PODS
    batch = ingest(
        platform_engineer,
        IngestKind.K8S_PODS,
        "kubectl-get-pods.json",
        observed_at="2025-06-03T12:00:00Z",
    )
    assert batch.summary["pods_counted"] == 2 and batch.summary["pods_running"] == 1
    assert batch.summary["not_counted"] == [
        {
            "line": None,
            "pod": "fraud-queue-2",
            "namespace": "retail-fraud",
            "reason": "never scheduled",
        }
    ]
    train = PodRecord.objects.get(pod="fraud-train-7f9c")
    # limits of 2 GPUs from PodScheduled (08:00) to the last container's finish (09:30)
    assert train.num_gpu == 2 and train.gpu_hours == Decimal("3.000000")
    assert train.allocation == estate["notebook"]  # the keel-initiative label wins
    assert train.gpu_model == "NVIDIA-H100-80GB-HBM3" and train.node == "gpu-h100-07"
    notebook = PodRecord.objects.get(pod="notebook-ana-0")
    # one 3g.20gb instance (3/7 GPU), running from 10:00 to the list's time (12:00)
    assert notebook.mig_profile == "3g.20gb" and notebook.end is None
    assert notebook.gpu_hours == Decimal("0.857143") and notebook.allocation == estate["search"]
