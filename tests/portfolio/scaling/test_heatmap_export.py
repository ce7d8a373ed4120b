"""The barrier heatmap's CSV and XLSX export (issue 19, item 7): the same figures as the page,
scoped to the reader, text defused against formula injection, constant queries."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from core.exports import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE
from portfolio.scaling.choices import Barrier
from tests.factories import BusinessUnitFactory
from tests.portfolio.scaling.test_barriers import add_units_with_scores, scored

pytestmark = pytest.mark.django_db


def csv_rows(response):
    assert response["Content-Type"] == CSV_CONTENT_TYPE
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def xlsx_rows(response):
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def test_the_export_holds_the_pages_figures(
    client, unit_a, unit_b, member_a, member_b, coe_reviewer
):
    scored(unit_a, member_a, {Barrier.DATA: 4, Barrier.CHANGE: 1})
    scored(unit_a, member_a, {Barrier.DATA: 5})
    scored(unit_b, member_b, {Barrier.DATA: 2})
    client.force_login(coe_reviewer)
    page = client.get(reverse("roadmap:barrier_heatmap")).content.decode()
    assert reverse("roadmap:barrier_heatmap_csv") in page
    assert reverse("roadmap:barrier_heatmap_xlsx") in page

    header, *rows = csv_rows(client.get(reverse("roadmap:barrier_heatmap_csv")))
    assert header[:2] == ["Business unit", "Code"]
    assert len(header) == 2 + 2 * len(Barrier.choices)
    data = header.index(f"{Barrier.DATA.label}: average score")
    assert header[data + 1] == f"{Barrier.DATA.label}: assessments"
    by_code = {row[1]: row for row in rows}
    assert list(by_code) == ["INSURE", "RETAIL", "ALL"]  # units by name, then all units
    assert (by_code["RETAIL"][data], by_code["RETAIL"][data + 1]) == ("4.50", "2")
    assert (by_code["ALL"][data], by_code["ALL"][data + 1]) == ("3.67", "3")
    governance = header.index(f"{Barrier.GOVERNANCE.label}: average score")
    assert by_code["RETAIL"][governance] == ""  # no assessment: empty, not zero

    sheet = xlsx_rows(client.get(reverse("roadmap:barrier_heatmap_xlsx")))
    assert [str(cell) for cell in sheet[0]] == header
    retail = next(row for row in sheet if row[1] == "RETAIL")
    assert retail[data] == 4.5  # a number, not text
    assert retail[data + 1] == 2


def test_the_export_is_scoped_to_the_reader(client, unit_a, unit_b, member_a, member_b):
    scored(unit_a, member_a, {Barrier.DATA: 4})
    scored(unit_b, member_b, {Barrier.DATA: 2})
    client.force_login(member_a)
    _, *rows = csv_rows(client.get(reverse("roadmap:barrier_heatmap_csv")))
    assert [row[1] for row in rows] == ["RETAIL", "ALL"]


def test_unit_names_cannot_run_as_formulas(client, member_a, coe_reviewer):
    unit = BusinessUnitFactory(name="=HYPERLINK(1)", code="EVIL")
    scored(unit, member_a, {Barrier.DATA: 3})
    client.force_login(coe_reviewer)
    _, *rows = csv_rows(client.get(reverse("roadmap:barrier_heatmap_csv")))
    assert rows[0][0] == "'=HYPERLINK(1)"
    sheet = xlsx_rows(client.get(reverse("roadmap:barrier_heatmap_xlsx")))
    assert sheet[1][0] == "'=HYPERLINK(1)"


def test_the_export_costs_the_same_queries_however_many_units(
    client, coe_reviewer, django_assert_max_num_queries, django_assert_num_queries
):
    address = reverse("roadmap:barrier_heatmap_csv")
    add_units_with_scores(3, 0, coe_reviewer)
    client.force_login(coe_reviewer)
    b"".join(client.get(address).streaming_content)
    with django_assert_max_num_queries(6) as few:
        assert len(csv_rows(client.get(address))) == 5  # header, 3 units, all units
    add_units_with_scores(15, 3, coe_reviewer)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(csv_rows(client.get(address))) == 20
