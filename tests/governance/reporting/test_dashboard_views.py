"""The dashboard page, its definitions page and its CSV/XLSX exports, over a small real
dataset: who sees which figures (an executive every unit, a BU lead only theirs, never
another unit's through a filter or URL), refused filters, the htmx partial, every export
matching its panel's table, a query count that does not grow with the data, and markup that
is accessible and CSP-clean."""

import csv
import datetime
import io
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from core import svg
from core.choices import Role
from governance.approvals.models import ApprovalRequest
from governance.reporting.charts import CHART_KEYS
from governance.reporting.dashboard import dashboard_compute, definitions
from governance.reporting.panels import PANEL_KEYS, DashboardFilters
from inventory.finops.models import ChargebackLine, ChargebackMonth
from tests.factories import InitiativeFactory, UserFactory, member
from tests.governance.helpers import submitted

pytestmark = pytest.mark.django_db

INDEX = reverse("dashboard:index")
# Distinctive amounts, so a leak of another unit's spend would show in a page body.
RETAIL_SPEND = Decimal("4321.50")
INSURANCE_SPEND = Decimal("8765.25")
SVG_PATTERN = re.compile(r"<svg\b.*?</svg>", re.DOTALL)
# The page's queries for an executive, whatever the data: user and memberships (the session
# is read through the cache), the dashboard's fixed ten, the units of the filter bar, the
# navigation's unread count and the incident panel's one aggregate (issue 20).
PAGE_QUERY_LIMIT = 15


@pytest.fixture(autouse=True)
def no_dashboard_cache(settings):
    settings.KEEL_DASHBOARD_CACHE_SECONDS = 0


@pytest.fixture
def bu_lead(unit_a):
    return member(Role.BU_LEAD, unit_a, username="lena")


def overdue(request):
    ApprovalRequest.objects.filter(pk=request.pk).update(
        step_due_at=timezone.now() - datetime.timedelta(hours=3)
    )


def spend(unit, amount, *, month=None):
    month = month or timezone.localdate().replace(day=1)
    chargeback, _ = ChargebackMonth.objects.get_or_create(
        month=month, defaults={"currency": "EUR", "computed_at": timezone.now()}
    )
    ChargebackLine.objects.create(
        chargeback=chargeback,
        kind=ChargebackLine.Kind.DIRECT,
        source=ChargebackLine.Source.RATE,
        business_unit=unit,
        amount=amount,
    )


def build_dataset(unit_a, unit_b, *, extra=0):
    """Two units' initiatives, approvals (Retail's overdue) and this month's GPU spend;
    ``extra`` adds that many more initiatives, requests and spend lines per unit."""
    owner_a = member(Role.BU_MEMBER, unit_a)
    owner_b = member(Role.BU_MEMBER, unit_b)
    for stage in ("proposed", "pilot", "pilot", "production"):
        InitiativeFactory(business_unit=unit_a, accountable_owner=owner_a, stage=stage)
    for stage in ("proposed", "production", "scaled"):
        InitiativeFactory(business_unit=unit_b, accountable_owner=owner_b, stage=stage)
    overdue(submitted(unit_a, owner_a, title="Mortgage document triage"))
    submitted(unit_b, owner_b, title="Claims photo assessment")
    spend(unit_a, RETAIL_SPEND)
    spend(unit_b, INSURANCE_SPEND)
    for number in range(extra):
        for unit, owner in ((unit_a, owner_a), (unit_b, owner_b)):
            InitiativeFactory(business_unit=unit, accountable_owner=owner, stage="pilot")
            spend(unit, Decimal("10"))
            if number % 5 == 0:
                overdue(submitted(unit, owner, title=f"Extra {unit.code} {number}"))


@pytest.fixture
def dataset(unit_a, unit_b):
    build_dataset(unit_a, unit_b)


def get(client, user, params=None, **headers):
    client.force_login(user)
    return client.get(INDEX, params or {}, **headers)


def body(response) -> str:
    return response.content.decode()


# --------------------------------------------------------------------------------------------
# Who sees what
# --------------------------------------------------------------------------------------------


def test_executive_sees_every_unit_and_every_panel(client, executive, unit_a, unit_b, dataset):
    response = get(client, executive)

    assert response.status_code == 200
    page = body(response)
    assert "Executive dashboard" in page
    for key in PANEL_KEYS:
        assert f'id="panel-{key}"' in page
    assert ">Retail Banking</option>" in page and ">Insurance</option>" in page
    board = dashboard_compute(user=executive, filters=DashboardFilters())
    assert f'href="{board.approvals.overdue_url}"' in page.replace("&amp;", "&")
    overdue_figure = re.search(r'id="figure-overdue".*?figure-value">(.*?)<', page, re.DOTALL)
    assert overdue_figure.group(1).strip() == "1"
    in_flight = re.search(r'id="figure-in-flight".*?figure-value">(.*?)<', page, re.DOTALL)
    assert in_flight.group(1).strip() == "2"
    assert "13,087 EUR" in page  # 4,321.50 + 8,765.25 this month
    # Each unit's row of the spend table (written as the board pack writes it).
    assert re.search(r"4,321\.50?<", page) and "8,765.25<" in page


def test_unit_options_are_the_units_the_reader_may_choose(
    client, executive, bu_lead, unit_a, unit_b, dataset
):
    everyone = body(get(client, executive))
    choices = re.search(r'id="dashboard-unit".*?</select>', everyone, re.S).group(0)
    assert re.findall(r'<option value="(\d*)"', choices) == ["", str(unit_b.pk), str(unit_a.pk)]

    own = re.search(r'id="dashboard-unit".*?</select>', body(get(client, bu_lead)), re.S)
    assert re.findall(r'<option value="(\d*)"', own.group(0)) == [str(unit_a.pk)]


def test_bu_lead_sees_only_their_unit(client, bu_lead, unit_a, unit_b, dataset):
    response = get(client, bu_lead)

    assert response.status_code == 200
    page = body(response)
    assert "Retail Banking (RETAIL) · last 6 months" in page
    assert re.search(r"4,321\.50?<", page)
    assert "Insurance" not in page
    assert "8,765.25" not in page and "8,765" not in page and "13,087" not in page
    assert f'name="business_unit" value="{unit_a.pk}"' in page  # the board-pack form too
    # The organisation-wide roadmap is empty on purpose, and the panel says why.
    assert "organisation-wide figures, shown to executives and the AI CoE" in page


@pytest.mark.parametrize("which", ["other", "unknown", "garbage"])
def test_bu_lead_cannot_see_another_unit_through_the_filter(
    client, bu_lead, unit_b, dataset, which
):
    value = {"other": unit_b.pk, "unknown": unit_b.pk + 999, "garbage": "x1"}[which]

    response = get(client, bu_lead, {"business_unit": value})

    assert response.status_code == 403
    page = body(response)
    assert "Insurance" not in page and "INSURE" not in page
    assert "8,765" not in page and "8765" not in page


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_bu_lead_cannot_export_another_units_figures(client, bu_lead, unit_b, dataset, fmt):
    client.force_login(bu_lead)
    url = reverse("dashboard:export", kwargs={"key": "gpu-spend", "fmt": fmt})

    response = client.get(url, {"business_unit": unit_b.pk})

    assert response.status_code == 403
    assert b"8765" not in response.content and b"Insurance" not in response.content


def test_bu_member_sees_only_their_unit(client, member_a, unit_a, unit_b, dataset):
    response = get(client, member_a)

    assert response.status_code == 200
    page = body(response)
    assert "Retail Banking (RETAIL) · last 6 months" in page
    assert re.search(r"4,321\.50?<", page)
    assert "Insurance" not in page and "8,765" not in page and "13,087" not in page
    assert "organisation-wide figures, shown to executives and the AI CoE" in page
    own = re.search(r'id="dashboard-unit".*?</select>', page, re.S)
    assert re.findall(r'<option value="(\d*)"', own.group(0)) == [str(unit_a.pk)]
    assert get(client, member_a, {"business_unit": unit_b.pk}).status_code == 403
    client.force_login(member_a)
    export = reverse("dashboard:export", kwargs={"key": "gpu-spend", "fmt": "csv"})
    assert client.get(export, {"business_unit": unit_b.pk}).status_code == 403
    assert client.get(reverse("dashboard:definitions")).status_code == 200


def test_readers_without_the_dashboard_are_refused(client):
    client.force_login(UserFactory(username="no-role"))
    for url in (
        INDEX,
        reverse("dashboard:definitions"),
        reverse("dashboard:export", kwargs={"key": "funnel", "fmt": "csv"}),
    ):
        assert client.get(url).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(INDEX)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_coe_staff_see_the_dashboard(client, coe_reviewer, dataset):
    assert get(client, coe_reviewer).status_code == 200


# --------------------------------------------------------------------------------------------
# Filters and htmx
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("months", ["5", "abc", "-3", "120"])
def test_a_bad_period_is_a_400_with_the_field_error(client, executive, dataset, months):
    response = get(client, executive, {"months": months})

    assert response.status_code == 400
    page = body(response)
    assert 'id="dashboard-months-error"' in page
    assert "Choose a period of 3, 6, 12 months." in page
    assert 'aria-invalid="true"' in page
    assert 'id="panel-funnel"' not in page  # no figures for a refused filter
    assert "HX-Request" in response["Vary"]


def test_filtering_by_unit_narrows_every_figure(client, executive, unit_a, dataset):
    response = get(client, executive, {"business_unit": unit_a.pk, "months": 3})

    page = body(response)
    assert "Retail Banking (RETAIL) · last 3 months" in page
    assert re.search(r"4,321\.50?<", page) and "8,765" not in page
    assert re.search(rf'<option value="{unit_a.pk}" selected>', page)
    assert re.search(r'<option value="3" selected>', page)
    assert f"business_unit={unit_a.pk}" in page  # exports carry the filters
    board_pack = re.search(r'<form[^>]*id="board-pack-form".*?</form>', page, re.S).group(0)
    assert "csrfmiddlewaretoken" in board_pack
    assert f'name="business_unit" value="{unit_a.pk}"' in board_pack
    assert 'name="months" value="3"' in board_pack
    assert f'action="{reverse("dashboard:board_pack_request")}"' in board_pack


def test_htmx_gets_only_the_panels_and_a_tidy_pushed_url(client, executive, unit_a, dataset):
    response = get(
        client, executive, {"business_unit": unit_a.pk, "months": "6"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    page = body(response)
    assert "<html" not in page and 'id="dashboard-filters"' not in page
    assert 'id="panel-funnel"' in page and 'id="board-pack-form"' in page
    assert response["HX-Push-Url"] == f"{INDEX}?business_unit={unit_a.pk}&months=6"
    assert "HX-Request" in response["Vary"]
    full = get(client, executive)
    assert "HX-Request" in full["Vary"]
    assert 'hx-get="/dashboard/"' in body(full) and 'hx-target="#dashboard-panels"' in body(full)
    assert 'hx-push-url="true"' in body(full)


# --------------------------------------------------------------------------------------------
# Exports
# --------------------------------------------------------------------------------------------


def csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def xlsx_value(cell, expected):
    """An XLSX cell read back, in the type of the value that was written."""
    if expected is None or expected == "":  # an empty cell reads back as None
        return expected if cell is None else cell
    if isinstance(expected, Decimal):
        return Decimal(str(cell)).quantize(expected) if cell is not None else None
    if isinstance(expected, datetime.datetime):
        return cell
    if isinstance(expected, datetime.date):
        return cell.date() if isinstance(cell, datetime.datetime) else cell
    if isinstance(expected, float):
        return pytest.approx(cell)
    return cell


@pytest.mark.parametrize("key", PANEL_KEYS)
def test_every_panel_exports_csv_and_xlsx_with_the_tables_numbers(
    client, executive, unit_a, dataset, key
):
    client.force_login(executive)
    params = {"business_unit": unit_a.pk, "months": 3}
    table = (
        dashboard_compute(user=executive, filters=DashboardFilters(business_unit=unit_a, months=3))
        .panel(key)
        .table()
    )
    today = timezone.localdate()

    response = client.get(reverse("dashboard:export", kwargs={"key": key, "fmt": "csv"}), params)
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="dashboard-{key}-retail-{today:%Y-%m-%d}.csv"'
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == table.columns
    assert rows[1:] == [[csv_text(value) for value in row] for row in table.rows]

    response = client.get(reverse("dashboard:export", kwargs={"key": key, "fmt": "xlsx"}), params)
    assert response.status_code == 200
    assert f"dashboard-{key}-retail-{today:%Y-%m-%d}.xlsx" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    sheet_rows = list(workbook.active.iter_rows(values_only=True))
    assert list(sheet_rows[0]) == table.columns
    assert len(sheet_rows) == len(table.rows) + 1
    for written, expected in zip(sheet_rows[1:], table.rows, strict=True):
        assert [
            xlsx_value(cell, value) for cell, value in zip(written, expected, strict=True)
        ] == list(expected)


def test_the_spend_export_holds_the_figures_of_the_page(client, executive, dataset):
    client.force_login(executive)
    response = client.get(reverse("dashboard:export", kwargs={"key": "gpu-spend", "fmt": "csv"}))
    exported = b"".join(response.streaming_content).decode()
    assert "4321.5" in exported and "8765.25" in exported


@pytest.mark.parametrize(
    ("key", "fmt"), [("nonsense", "csv"), ("funnel", "pdf"), ("funnel", "json")]
)
def test_unknown_exports_are_404(client, executive, key, fmt):
    client.force_login(executive)
    assert (
        client.get(reverse("dashboard:export", kwargs={"key": key, "fmt": fmt})).status_code == 404
    )


def test_an_export_with_a_bad_period_is_a_400(client, executive):
    client.force_login(executive)
    url = reverse("dashboard:export", kwargs={"key": "funnel", "fmt": "csv"})
    assert client.get(url, {"months": "7"}).status_code == 400


# --------------------------------------------------------------------------------------------
# Query count, markup, definitions
# --------------------------------------------------------------------------------------------


def page_queries(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(INDEX).status_code == 200
    return len(queries)


def test_the_page_query_count_does_not_grow_with_the_data(
    client, executive, unit_a, unit_b, django_assert_max_num_queries
):
    build_dataset(unit_a, unit_b)
    small = page_queries(client, executive)

    build_dataset(unit_a, unit_b, extra=30)
    larger = page_queries(client, executive)

    assert larger == small
    client.force_login(executive)
    with django_assert_max_num_queries(PAGE_QUERY_LIMIT):
        client.get(INDEX)


def test_every_chart_has_an_accessible_name_and_the_page_is_csp_clean(client, executive, dataset):
    page = body(get(client, executive))

    svgs = SVG_PATTERN.findall(page)
    assert len(svgs) >= len(CHART_KEYS)
    for markup in svgs:
        root = ET.fromstring(markup)  # noqa: S314 - our own output
        if root.get("class") != "chart":
            continue  # an icon of the page chrome (aria-hidden)
        # A chart with links is a figure, so its links stay reachable; others are images.
        linked = root.find(f".//{{{svg.SVG_NAMESPACE}}}a") is not None
        assert root.get("role") == ("figure" if linked else "img")
        first = list(root)[0]
        assert first.tag == f"{{{svg.SVG_NAMESPACE}}}title" and first.text
    assert sum(1 for markup in svgs if 'class="chart"' in markup) == len(CHART_KEYS)
    assert not re.search(r"\sstyle=", page)
    assert "<style" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # only external scripts
    assert not re.search(r"\son[a-z]+=", page)  # no inline event handlers


def test_each_panel_links_its_definition_drilldown_table_and_exports(client, executive, dataset):
    page = body(get(client, executive))
    board = dashboard_compute(user=executive, filters=DashboardFilters())

    cards = dict(re.findall(r'<section [^>]*id="panel-([a-z-]+)"(.*?)</section>', page, re.S))
    assert set(cards) == set(PANEL_KEYS)
    for panel in board.panels:
        card = cards[panel.key].replace("&amp;", "&")
        assert f'href="{reverse("dashboard:definitions")}#{panel.key}"' in card
        assert f'href="{panel.drilldown_url}"' in card
        for fmt in ("csv", "xlsx"):
            assert f'href="{reverse("dashboard:export", args=[panel.key, fmt])}?months=6"' in card
        if panel.table().rows:
            assert "<summary>Show the data table</summary>" in card
        if not panel.has_data:
            assert "no data" in card.lower()


def test_the_definitions_page_anchors_every_definition(client, executive, bu_lead):
    for user in (executive, bu_lead):
        client.force_login(user)
        response = client.get(reverse("dashboard:definitions"))
        assert response.status_code == 200
        page = body(response)
        for key, title, _definition in definitions():
            assert f'id="{key}"' in page
            assert title in page


def test_an_empty_organisation_says_no_data_rather_than_zero(client, executive):
    page = body(get(client, executive))

    assert page.count("no data") >= len(CHART_KEYS)
    for figure in ("gpu-spend", "unused-commitments", "orphaned", "scaling-gap", "conversion"):
        shown = re.search(rf'id="figure-{figure}".*?figure-value">(.*?)<', page, re.S).group(1)
        assert shown.strip() == "no data", figure


def test_the_member_page_query_count_does_not_grow_with_the_data(
    client, member_a, unit_a, unit_b, django_assert_max_num_queries
):
    # A BU member's dashboard costs no more than an executive's (it has no roadmap).
    build_dataset(unit_a, unit_b)
    small = page_queries(client, member_a)

    build_dataset(unit_a, unit_b, extra=30)
    larger = page_queries(client, member_a)

    assert larger == small <= PAGE_QUERY_LIMIT
    client.force_login(member_a)
    with django_assert_max_num_queries(PAGE_QUERY_LIMIT):
        client.get(INDEX)
