"""CSV and XLSX exports of the GPU pool, allocation and model lists: every row the list
shows for the same filters, scoped like the page, streamed, with a query count that does
not grow with the rows."""

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from inventory.gpu.choices import Provider
from inventory.gpu.exports import ALLOCATION_EXPORT_HEADER, POOL_EXPORT_HEADER
from portfolio.initiatives.choices import Stage
from tests.factories import (
    GPUAllocationFactory,
    GPUPoolFactory,
    GPUTypeFactory,
    InitiativeFactory,
    UserFactory,
)
from tests.inventory.helpers import make_allocations, make_models, make_pools

pytestmark = pytest.mark.django_db


def url(name: str) -> str:
    return reverse(f"inventory:{name}")


def csv_rows(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def xlsx_rows(response) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return list(workbook.active.iter_rows(values_only=True))


@pytest.fixture
def pools(unit_a, unit_b):
    h100 = GPUTypeFactory(name="H100 80GB")
    aws = GPUPoolFactory(name="aws-train", gpu_type=h100, gpu_count=16, owning_team="ML Ops")
    GPUPoolFactory(
        name="azure-infer",
        provider=Provider.AZURE,
        gpu_type=GPUTypeFactory(name="A100 40GB"),
        hourly_rate=Decimal("2.25"),
        region="westeurope",
    )
    GPUAllocationFactory(pool=aws, business_unit=unit_a, gpu_count=Decimal("2.5"))
    GPUAllocationFactory(pool=aws, business_unit=unit_b, gpu_count=Decimal("4"))
    return aws


# --- GPU pools ---------------------------------------------------------------------------------


def test_pool_csv_has_every_filtered_pool(client, member_a, pools, settings):
    settings.KEEL_PAGE_SIZE = 1  # the export is every row, not one page
    client.force_login(member_a)
    response = client.get(url("pool_list_csv"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="gpu-pools-')
    rows = csv_rows(response)
    assert tuple(rows[0]) == POOL_EXPORT_HEADER
    assert [row[0] for row in rows[1:]] == ["aws-train", "azure-infer"]
    aws = dict(zip(rows[0], rows[1], strict=True))
    assert aws["Provider"] == "AWS" and aws["GPU type"] == "H100 80GB"
    assert aws["Capacity (GPUs)"] == "16"
    assert Decimal(aws["Allocated today (GPUs)"]) == Decimal("6.5")  # SQLite drops the 0
    assert Decimal(aws["Rate per GPU-hour"]) == Decimal("3.5") and aws["Owning team"] == "ML Ops"

    filtered = csv_rows(client.get(url("pool_list_csv"), {"provider": Provider.AZURE}))
    assert [row[0] for row in filtered[1:]] == ["azure-infer"]
    searched = csv_rows(client.get(url("pool_list_csv"), {"q": "westeurope"}))
    assert [row[0] for row in searched[1:]] == ["azure-infer"]


def test_pool_export_matches_the_page_for_a_bu_member(client, member_a, pools):
    # Pools are shared infrastructure: every signed-in user sees the same list (no unit
    # scope), and the export lists exactly what the page does.
    client.force_login(member_a)
    page = client.get(url("pool_list"), {"ordering": "-capacity"})
    exported = csv_rows(client.get(url("pool_list_csv"), {"ordering": "-capacity"}))
    assert [row[0] for row in exported[1:]] == [pool.name for pool in page.context["rows"]]


def test_pool_xlsx_has_typed_cells(client, member_a, pools):
    client.force_login(member_a)
    response = client.get(url("pool_list_xlsx"), {"provider": Provider.AWS})
    assert response.status_code == 200
    rows = xlsx_rows(response)
    assert rows[0] == POOL_EXPORT_HEADER
    assert len(rows) == 2
    aws = dict(zip(rows[0], rows[1], strict=True))
    assert aws["Name"] == "aws-train" and aws["Capacity (GPUs)"] == 16
    assert aws["Allocated today (GPUs)"] == 6.5 and aws["Rate per GPU-hour"] == 3.5


def test_exports_need_a_login(client, pools):
    for name in ("pool_list_csv", "pool_list_xlsx", "allocation_list_csv", "allocation_list_xlsx"):
        response = client.get(url(name))
        assert response.status_code == 302 and "/login" in response["Location"]


def test_pool_export_defuses_formulas(client, member_a):
    GPUPoolFactory(name="=cmd|' /C calc'!A0", owning_team="@team")
    client.force_login(member_a)
    text = b"".join(client.get(url("pool_list_csv")).streaming_content).decode()
    assert "'=cmd|" in text and "'@team" in text
    rows = xlsx_rows(client.get(url("pool_list_xlsx")))
    assert rows[1][0] == "'=cmd|' /C calc'!A0"


# --- GPU allocations ---------------------------------------------------------------------------


@pytest.fixture
def allocations(unit_a, unit_b, pools):
    live = InitiativeFactory(business_unit=unit_a, reference="AI-0101", title="Fraud scoring")
    retired = InitiativeFactory(
        business_unit=unit_a, reference="AI-0102", title="Old chatbot", stage=Stage.RETIRED
    )
    requester = UserFactory(username="rita", first_name="Rita", last_name="Ng")
    GPUAllocationFactory(
        pool=pools,
        business_unit=unit_a,
        initiative=live,
        gpu_count=Decimal("8"),
        requested_by=requester,
        notes="+1 for the Q3 retrain",
    )
    GPUAllocationFactory(pool=pools, business_unit=unit_a, initiative=retired)
    return live, retired


def test_allocation_csv_is_scoped_and_filtered(client, member_a, unit_a, allocations):
    client.force_login(member_a)
    rows = csv_rows(client.get(url("allocation_list_csv")))
    assert tuple(rows[0]) == ALLOCATION_EXPORT_HEADER
    # unit_b's allocations (one from the pools fixture) are not the member's to export.
    assert {row[5] for row in rows[1:]} == {"Retail Banking"}
    assert len(rows) == 1 + 3  # two with initiatives, one without (pools fixture)
    fraud = next(dict(zip(rows[0], row, strict=True)) for row in rows if row[3] == "AI-0101")
    assert fraud["Pool"] == "aws-train" and fraud["GPUs"] == "8.000"
    assert fraud["Initiative title"] == "Fraud scoring" and fraud["Orphaned"] == "No"
    assert fraud["Requested by"] == "Rita Ng" and fraud["Purpose"] == "Training"
    assert fraud["Notes"] == "'+1 for the Q3 retrain"  # defused
    assert fraud["Ends on"] == ""

    orphaned = csv_rows(client.get(url("allocation_list_csv"), {"orphaned": "true"}))
    assert sorted(row[3] for row in orphaned[1:]) == ["", "AI-0102"]
    searched = csv_rows(client.get(url("allocation_list_csv"), {"q": "fraud"}))
    assert [row[3] for row in searched[1:]] == ["AI-0101"]
    invalid = csv_rows(client.get(url("allocation_list_csv"), {"purpose": "nonsense"}))
    assert invalid == [list(ALLOCATION_EXPORT_HEADER)]


def test_allocation_export_of_another_unit_filter_is_empty(client, member_a, unit_b, allocations):
    client.force_login(member_a)
    rows = csv_rows(client.get(url("allocation_list_csv"), {"business_unit": unit_b.pk}))
    assert rows[1:] == []


def test_allocation_xlsx_has_the_filtered_rows(client, member_a, allocations):
    client.force_login(member_a)
    response = client.get(url("allocation_list_xlsx"), {"q": "AI-0102"})
    assert response.status_code == 200
    rows = xlsx_rows(response)
    assert rows[0] == ALLOCATION_EXPORT_HEADER
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Initiative"] == "AI-0102" and row["Orphaned"] == "Yes" and row["GPUs"] == 1


# --- Query counts ------------------------------------------------------------------------------

EXPORTS = {
    "pools-csv": ("pool_list_csv", make_pools),
    "pools-xlsx": ("pool_list_xlsx", make_pools),
    "allocations-csv": ("allocation_list_csv", make_allocations),
    "allocations-xlsx": ("allocation_list_xlsx", make_allocations),
    "models-csv": ("model_list_csv", make_models),
    "models-xlsx": ("model_list_xlsx", make_models),
}
FEW = 4


@pytest.mark.parametrize("export", list(EXPORTS))
def test_export_query_count_does_not_grow_with_rows(
    client, member_a, unit_a, django_assert_max_num_queries, export
):
    name, make_rows = EXPORTS[export]
    client.force_login(member_a)
    make_rows(FEW, business_unit=unit_a)
    b"".join(client.get(url(name)).streaming_content)  # warm per-process caches

    def export_rows() -> int:
        response = client.get(url(name))
        assert response.status_code == 200
        content = b"".join(response.streaming_content)  # the CSV queries while streaming
        if name.endswith("csv"):
            return len(content.decode().splitlines()) - 1
        return len(xlsx_rows_of(content)) - 1

    with CaptureQueriesContext(connection) as few:
        assert export_rows() == FEW
    make_rows(2 * FEW, business_unit=unit_a, start=FEW)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert export_rows() == 3 * FEW
    assert len(few.captured_queries) <= 6


def xlsx_rows_of(content: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(content), read_only=True).active.values)
