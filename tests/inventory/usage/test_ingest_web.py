"""The GPU ingest API (``/api/v1/gpu-ingest/``) and UI (``/inventory/ingest/``): both go through
the one engine; uploads, already-imported files, line errors, permissions, query counts."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from inventory.gpu.models import GPUType
from inventory.usage.choices import ExternalKeyKind, IngestKind
from inventory.usage.models import ExternalKey, IngestBatch, UsageDaily, UsageSample
from inventory.usage.services import batches as ingest_services
from inventory.usage.services.batches import ingest_file
from tests.factories import (
    GPUAllocationFactory,
    GPUPoolFactory,
    InitiativeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ingest"
RANGE = (FIXTURES / "prometheus-query-range-dcgm.json").read_bytes()
BAD_CSV = b"timestamp,device_id,utilisation\nsoon,a:0,5\n2025-06-03T09:00:00Z,a:0,500\n"


@pytest.fixture
def fraud(unit_a):
    initiative = InitiativeFactory(business_unit=unit_a)
    pool = GPUPoolFactory(gpu_type=GPUType.objects.get(name="H100 80GB"))
    allocation = GPUAllocationFactory(
        pool=pool, initiative=initiative, business_unit=unit_a, starts_on=dt.date(2025, 6, 1)
    )
    ExternalKey.objects.create(
        kind=ExternalKeyKind.K8S_NAMESPACE, value="retail-fraud", initiative=initiative
    )
    return allocation


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def upload(name, content):
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


# --- API ---------------------------------------------------------------------------------------


def test_api_upload_201_then_200_for_the_same_file(platform_engineer, fraud):
    client = api(platform_engineer)
    url = reverse("gpu-ingest-list")
    response = client.post(url, {"file": upload("range.json", RANGE), "kind": "auto"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == IngestKind.PROMETHEUS_JSON
    assert (body["rows_read"], body["rows_written"], body["already_imported"]) == (3, 3, False)
    assert body["uploaded_by"] == "pete"
    assert body["summary"]["allocations_matched"] == 3
    assert UsageDaily.objects.get().allocation == fraud

    again = client.post(url, {"file": upload("other-name.json", RANGE), "kind": "prometheus_json"})
    assert again.status_code == 200
    assert again.json()["id"] == body["id"] and again.json()["already_imported"] is True
    assert IngestBatch.objects.count() == 1 and UsageSample.objects.count() == 3

    listed = client.get(url).json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]
    detail = client.get(reverse("gpu-ingest-detail", args=[body["id"]]))
    assert detail.status_code == 200 and detail.json()["sha256"] == body["sha256"]


def test_api_line_errors_are_400_and_write_nothing(platform_engineer):
    response = api(platform_engineer).post(
        reverse("gpu-ingest-list"), {"file": upload("u.csv", BAD_CSV), "kind": "usage_csv"}
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [error["line"] for error in errors] == [2, 3]
    assert "outside 0–100" in errors[1]["message"]
    assert IngestBatch.objects.count() == 0


def test_api_refuses_others_and_oversized_files(member_a, platform_engineer, monkeypatch):
    url = reverse("gpu-ingest-list")
    response = api(member_a).post(url, {"file": upload("r.json", RANGE), "kind": "auto"})
    assert response.status_code == 403
    assert api(member_a).get(url).json()["results"] == []
    monkeypatch.setattr(ingest_services, "MAX_UPLOAD_BYTES", 100)
    response = api(platform_engineer).post(url, {"file": upload("r.json", RANGE)})
    assert response.status_code == 400 and "limit" in response.json()["file"][0]
    response = api(platform_engineer).post(url, {"file": upload("r.json", RANGE), "kind": "xml"})
    assert response.status_code == 400 and "kind" in response.json()
    assert IngestBatch.objects.count() == 0


def test_api_needs_authentication():
    assert APIClient().get(reverse("gpu-ingest-list")).status_code == 401


# --- UI ----------------------------------------------------------------------------------------


def test_upload_page_imports_and_redirects_to_the_batch(client, platform_engineer, fraud):
    client.force_login(platform_engineer)
    page = client.get(reverse("inventory:ingest_upload"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'enctype="multipart/form-data"' in html and "csrfmiddlewaretoken" in html
    assert 'value="focus"' in html  # FOCUS is one of the kinds

    response = client.post(
        reverse("inventory:ingest_upload"), {"kind": "auto", "file": upload("range.json", RANGE)}
    )
    batch = IngestBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("inventory:ingest_detail", args=[batch.pk])
    detail = client.get(response["Location"])
    assert detail.status_code == 200
    assert "range.json" in detail.content.decode() and batch.sha256 in detail.content.decode()
    assert "Allocations matched" in detail.content.decode()

    again = client.post(
        reverse("inventory:ingest_upload"),
        {"kind": "auto", "file": upload("range.json", RANGE)},
        follow=True,
    )
    assert "already imported on" in again.content.decode()
    assert IngestBatch.objects.count() == 1


def test_upload_page_shows_every_line_error(client, platform_engineer):
    client.force_login(platform_engineer)
    response = client.post(
        reverse("inventory:ingest_upload"), {"kind": "usage_csv", "file": upload("u.csv", BAD_CSV)}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Line 2:" in html and "Line 3:" in html
    assert "nothing was imported" in html
    assert IngestBatch.objects.count() == 0


def test_upload_page_refuses_an_oversized_file(client, platform_engineer, monkeypatch):
    client.force_login(platform_engineer)
    monkeypatch.setattr(ingest_services, "MAX_UPLOAD_BYTES", 100)
    response = client.post(
        reverse("inventory:ingest_upload"), {"kind": "auto", "file": upload("r.json", RANGE)}
    )
    assert response.status_code == 200 and "the limit is" in response.content.decode()
    assert IngestBatch.objects.count() == 0


def test_ingest_pages_are_the_platform_teams(client, member_a):
    client.force_login(member_a)
    assert client.get(reverse("inventory:ingest_upload")).status_code == 403
    assert client.get(reverse("inventory:ingest_list")).status_code == 403


def _make_batches(user, count, start):
    for n in range(start, start + count):
        uploader = UserFactory(username=f"uploader-{n}", first_name=f"Up{n}", last_name="Loader")
        uploader.memberships.create(
            business_unit=user.memberships.first().business_unit, role="platform_engineer"
        )
        text = f"timestamp,device_id,utilisation\n2025-06-03T09:{n:02d}:00Z,host-{n}:0,5\n"
        ingest_file(
            actor=uploader, kind=IngestKind.USAGE_CSV, filename=f"u{n}.csv", content=text.encode()
        )


def test_history_page_query_count_is_constant(
    client, platform_engineer, django_assert_max_num_queries
):
    client.force_login(platform_engineer)
    _make_batches(platform_engineer, 2, 0)
    with django_assert_max_num_queries(20) as few:
        response = client.get(reverse("inventory:ingest_list"))
    assert response.status_code == 200 and "u1.csv" in response.content.decode()
    assert "Up1 Loader" in response.content.decode()
    _make_batches(platform_engineer, 6, 2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("inventory:ingest_list"))
    assert "u7.csv" in response.content.decode()


def test_summary_sums_match_the_file(platform_engineer, fraud):
    batch = ingest_file(
        actor=platform_engineer, kind=IngestKind.PROMETHEUS_JSON, filename="r.json", content=RANGE
    )
    assert UsageDaily.objects.get().gpu_hours == Decimal("0.1833")
    assert batch.summary["samples_written"] == UsageSample.objects.count()
