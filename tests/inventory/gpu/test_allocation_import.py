"""Bulk allocation import (issue 17, item 11): dry run, all-or-nothing writes with one audit
event per allocation, row errors with row and field, capacity in file order through the same
rule as a single allocation, permissions, the upload page and the API."""

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from core.choices import Role
from core.models import AuditEvent
from inventory.gpu import allocation_import as bulk
from inventory.gpu.allocation_import import RowError, allocation_import
from inventory.gpu.choices import SharingMode
from inventory.gpu.models import GPUAllocation, GPUPool
from inventory.gpu.services import CapacityLedger, _committed_gpus, allocation_create
from tests.concurrency import run_at_once
from tests.factories import GPUAllocationFactory, GPUPoolFactory, InitiativeFactory, member

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).parent.parent / "fixtures" / "allocations" / "allocations.csv"
HEADER = "pool,gpu_count,business_unit,initiative,purpose,starts_on,ends_on,notes\n"


@pytest.fixture
def estate(unit_a):
    shared = GPUPoolFactory(
        name="k8s-a100-shared", sharing_mode=SharingMode.TIME_SLICED, gpu_count=4
    )
    slurm = GPUPoolFactory(name="slurm-h100", gpu_count=8)
    InitiativeFactory(business_unit=unit_a, reference="AI-0042")
    InitiativeFactory(business_unit=unit_a, reference="AI-0043")
    return {"shared": shared, "slurm": slurm}


def created_count() -> int:
    return AuditEvent.objects.filter(action="gpu_allocation.created").count()


def test_dry_run_checks_every_row_and_writes_nothing(platform_engineer, estate):
    result = allocation_import(actor=platform_engineer, content=FIXTURE.read_bytes(), dry_run=True)
    assert result.ok and result.rows == 3 and len(result.created) == 3
    assert result.gpu_total == Decimal("6.625")
    assert all(allocation.pk is None for allocation in result.created)
    assert not GPUAllocation.objects.exists() and created_count() == 0


def test_import_creates_every_row_with_one_audit_event_each(platform_engineer, estate, unit_a):
    result = allocation_import(actor=platform_engineer, content=FIXTURE.read_bytes())
    assert result.ok and len(result.created) == 3
    rows = GPUAllocation.objects.order_by("pk")
    assert [(a.pool.name, a.gpu_count, a.purpose) for a in rows] == [
        ("k8s-a100-shared", Decimal("0.125"), "inference"),
        ("k8s-a100-shared", Decimal("2.500"), "training"),
        ("slurm-h100", Decimal("4.000"), "fine_tuning"),
    ]
    first = rows[0]
    assert first.initiative.reference == "AI-0042" and first.business_unit == unit_a
    assert first.ends_on == dt.date(2025, 12, 31) and rows[1].ends_on is None
    assert rows[1].notes == "fine-tune, phase 1"
    assert {a.requested_by_id for a in rows} == {platform_engineer.pk}
    events = AuditEvent.objects.filter(action="gpu_allocation.created")
    assert events.count() == 3
    assert {int(event.object_id) for event in events} == {a.pk for a in rows}


def test_every_row_error_names_row_and_field_and_nothing_is_written(platform_engineer, estate):
    content = (
        HEADER
        + "k8s-a100-shared,1,RETAIL,,inference,2025-07-01,,\n"  # valid, yet not written
        + "no-such-pool,1,RETAIL,,inference,2025-07-01,,\n"
        + "k8s-a100-shared,lots,RETAIL,,inference,2025-07-01,,\n"
        + "k8s-a100-shared,1,NOWHERE,AI-9999,inference,2025-07-01,,\n"
        + "k8s-a100-shared,1,RETAIL,,gaming,2025-07-01,,\n"
        + "k8s-a100-shared,1,RETAIL,,inference,2025-07-10,2025-07-01,\n"
        + "k8s-a100-shared,0,RETAIL,,inference,,,\n"
        + "k8s-a100-shared,0.0005,RETAIL,,inference,2025-07-01,,\n"
        + "k8s-a100-shared,1,RETAIL\n"
    ).encode()
    result = allocation_import(actor=platform_engineer, content=content)
    found = {(error.row, error.field) for error in result.errors}
    assert {
        (3, "pool"),
        (4, "gpu_count"),
        (5, "business_unit"),
        (5, "initiative"),
        (6, "purpose"),
        (7, "ends_on"),
        (8, "starts_on"),
        (9, "gpu_count"),
        (10, "row"),
    } <= found
    assert all(error.row != 2 for error in result.errors)
    assert not GPUAllocation.objects.exists() and created_count() == 0


def test_capacity_counts_the_pools_allocations_and_the_files_earlier_rows(
    platform_engineer, estate, unit_a
):
    GPUAllocationFactory(
        pool=estate["shared"], gpu_count=Decimal("2"), business_unit=unit_a,
        starts_on=dt.date(2025, 7, 1), ends_on=dt.date(2025, 7, 31),
    )  # fmt: skip
    content = (
        HEADER
        + "k8s-a100-shared,1,RETAIL,,inference,2025-07-01,2025-07-31,\n"
        + "k8s-a100-shared,1,RETAIL,,inference,2025-07-15,,\n"
        + "k8s-a100-shared,0.001,RETAIL,,inference,2025-07-20,2025-07-20,\n"  # one too many
        + "k8s-a100-shared,2,RETAIL,,inference,2025-08-01,2025-08-31,\n"  # ok: after July
    ).encode()
    result = allocation_import(actor=platform_engineer, content=content)
    assert [(e.row, e.field) for e in result.errors] == [(4, "gpu_count")]
    assert "free for that period" in result.errors[0].message
    assert GPUAllocation.objects.count() == 1


def test_the_ledger_agrees_with_the_single_allocation_rule(estate, unit_a):
    pool = estate["slurm"]
    randomiser = random.Random(17)
    base = dt.date(2025, 1, 1)
    ledger_rows = []
    for _ in range(40):
        start = base + dt.timedelta(days=randomiser.randrange(0, 200))
        length = randomiser.randrange(0, 60)
        end = None if randomiser.random() < 0.3 else start + dt.timedelta(days=length)
        count = Decimal(randomiser.randrange(1, 4000)) / 1000
        GPUAllocation.objects.create(
            pool=pool, gpu_count=count, business_unit=unit_a, purpose="training",
            starts_on=start, ends_on=end,
        )  # fmt: skip
        ledger_rows.append((start, end, count))
    probes = [
        (base + dt.timedelta(days=d), None if d % 5 == 0 else base + dt.timedelta(days=d + w))
        for d, w in ((0, 0), (10, 30), (50, 1), (120, 90), (199, 5), (250, 10), (5, 300))
    ]
    dates = {d for s, e, _ in ledger_rows for d in (s, e) if d} | {
        d for s, e in probes for d in (s, e) if d
    }
    ledger = CapacityLedger(dates)
    for start, end, count in ledger_rows:
        ledger.add(starts_on=start, ends_on=end, gpu_count=count)
    for start, end in probes:
        assert ledger.committed(starts_on=start, ends_on=end) == _committed_gpus(
            pool, starts_on=start, ends_on=end
        ), (start, end)


def test_a_failure_while_writing_leaves_nothing(platform_engineer, estate, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("audit chain unavailable")

    monkeypatch.setattr(bulk, "record_events", broken)
    with pytest.raises(RuntimeError):
        allocation_import(actor=platform_engineer, content=FIXTURE.read_bytes())
    assert not GPUAllocation.objects.exists()


@pytest.mark.parametrize("persona", ["member_a", "executive", "coe_reviewer"])
def test_others_may_not_import(client, request, persona, estate):
    user = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        allocation_import(actor=user, content=FIXTURE.read_bytes())
    client.force_login(user)
    address = reverse("inventory:allocation_import")
    assert client.get(address).status_code == 403
    with FIXTURE.open("rb") as handle:
        assert client.post(address, {"file": handle}).status_code == 403
    api = APIClient()
    api.force_authenticate(user)
    with FIXTURE.open("rb") as handle:
        response = api.post("/api/v1/gpu-allocations/import/", {"file": handle}, format="multipart")
    assert response.status_code == 403
    assert not GPUAllocation.objects.exists() and created_count() == 0


def test_upload_page_dry_run_errors_and_import(platform_engineer, estate):
    client = Client(enforce_csrf_checks=True)
    client.force_login(platform_engineer)
    address = reverse("inventory:allocation_import")
    page = client.get(address)
    assert page.status_code == 200 and "csrfmiddlewaretoken" in page.content.decode()
    token = page.cookies["csrftoken"].value
    with FIXTURE.open("rb") as handle:
        assert client.post(address, {"file": handle, "dry_run": "on"}).status_code == 403
    with FIXTURE.open("rb") as handle:
        dry = client.post(address, {"file": handle, "dry_run": "on", "csrfmiddlewaretoken": token})
    assert dry.status_code == 200 and "Dry run: all 3 rows are valid" in dry.content.decode()
    assert not GPUAllocation.objects.exists()
    bad = HEADER + "no-such-pool,1,RETAIL,,inference,2025-07-01,,\n"
    refused = client.post(
        address,
        {"file": SimpleUploadedFile("a.csv", bad.encode()), "csrfmiddlewaretoken": token},
    )
    body = refused.content.decode()
    assert refused.status_code == 200 and "nothing was imported" in body and "no GPU pool" in body
    with FIXTURE.open("rb") as handle:
        done = client.post(address, {"file": handle, "csrfmiddlewaretoken": token})
    assert done.status_code == 302 and done["Location"] == reverse("inventory:allocation_list")
    assert GPUAllocation.objects.count() == 3
    listing = client.get(reverse("inventory:allocation_list")).content.decode()
    assert reverse("inventory:allocation_import") in listing


def test_api_dry_run_errors_and_import(platform_engineer, estate):
    api = APIClient()
    api.force_authenticate(platform_engineer)
    address = "/api/v1/gpu-allocations/import/"
    with FIXTURE.open("rb") as handle:
        dry = api.post(address, {"file": handle, "dry_run": "true"}, format="multipart")
    assert dry.status_code == 200
    assert dry.json()["created"] == 3 and dry.json()["ids"] == [] and dry.json()["errors"] == []
    bad = HEADER + "k8s-a100-shared,9,RETAIL,,inference,2025-07-01,,\n"
    refused = api.post(
        address, {"file": SimpleUploadedFile("a.csv", bad.encode())}, format="multipart"
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["row"] == 2
    assert refused.json()["errors"][0]["field"] == "gpu_count"
    with FIXTURE.open("rb") as handle:
        done = api.post(address, {"file": handle}, format="multipart")
    assert done.status_code == 201 and len(done.json()["ids"]) == 3
    assert done.json()["gpu_total"] == "6.625"
    assert sorted(done.json()["ids"]) == sorted(GPUAllocation.objects.values_list("pk", flat=True))


def test_an_empty_or_headerless_file_is_one_file_error(platform_engineer):
    for content in (b"", b"pool,gpu_count\n", HEADER.encode()):
        result = allocation_import(actor=platform_engineer, content=content)
        assert len(result.errors) == 1 and isinstance(result.errors[0], RowError)
        assert result.errors[0].field == "file"


def test_references_are_case_insensitive_and_pools_may_be_named_by_id(
    platform_engineer, estate, unit_a
):
    content = (
        HEADER
        + f"{estate['slurm'].pk},1,retail,ai-0042,INFERENCE,2025-07-01,,\n"
        + "K8S-A100-SHARED,1,Retail,,inference,2025-07-01,,\n"
    ).encode()
    result = allocation_import(actor=platform_engineer, content=content)
    assert result.ok, result.errors
    pools = sorted(GPUAllocation.objects.values_list("pool__name", flat=True))
    assert pools == ["k8s-a100-shared", "slurm-h100"]
    assert GPUAllocation.objects.filter(initiative__reference="AI-0042").count() == 1


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_imports_and_single_allocations_racing_never_over_commit_a_pool(unit_a):
    """Four bulk imports of 2 × 1 GPU and four single 1-GPU allocations at once into a
    4-GPU pool: the pool ends full, never over, and each import is whole or absent."""
    engineer = member(Role.PLATFORM_ENGINEER, unit_a, username="pete")
    pool = GPUPoolFactory(name="last-gpus", gpu_count=4)
    content = (
        HEADER
        + "last-gpus,1,RETAIL,,training,2025-07-01,2025-07-31,a\n"
        + "last-gpus,1,RETAIL,,training,2025-07-01,2025-07-31,b\n"
    ).encode()

    class Work:
        def prepare(self, i):
            return i, get_user_model().objects.get(pk=engineer.pk)

        def __call__(self, prepared):
            i, user = prepared
            if i < 4:
                return len(allocation_import(actor=user, content=content).created)
            allocation_create(
                actor=user,
                data={
                    "pool": GPUPool.objects.get(pk=pool.pk),
                    "gpu_count": Decimal("1"),
                    "business_unit": unit_a,
                    "purpose": "training",
                    "starts_on": dt.date(2025, 7, 10),
                    "ends_on": dt.date(2025, 7, 20),
                },
            )
            return 1

    results = run_at_once(8, Work())
    errors = [value for status, value in results if status == "error"]
    assert all(isinstance(error, ValidationError) for error in errors), errors
    assert all(value in (0, 1, 2) for status, value in results if status == "ok")
    allocated = sum(GPUAllocation.objects.filter(pool=pool).values_list("gpu_count", flat=True))
    assert allocated == Decimal("4")
    # An import's two rows go in together or not at all.
    rows = GPUAllocation.objects.filter(pool=pool)
    assert rows.filter(notes="a").count() == rows.filter(notes="b").count()
