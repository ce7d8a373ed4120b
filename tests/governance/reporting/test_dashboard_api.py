"""GET /api/v1/dashboard/: the dashboard's panels as JSON, same figures, scope and refusals as
the page, a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from governance.reporting.dashboard import dashboard
from governance.reporting.panels import PANEL_KEYS, DashboardFilters
from tests.factories import UserFactory
from tests.governance.reporting.dashboard_data import build_dataset
from tests.governance.reporting.test_dashboard_figures import add_initiatives

pytestmark = pytest.mark.django_db
URL = "/api/v1/dashboard/"


@pytest.fixture
def data():
    return build_dataset()


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def panel(body, key):
    return next(item for item in body["panels"] if item["key"] == key)


def test_the_executive_gets_every_panel_with_the_figures_of_the_page(data):
    response = api(data.executive).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert [item["key"] for item in body["panels"]] == list(PANEL_KEYS)
    expected = data.expected()
    approvals = panel(body, "approvals")
    assert approvals["has_data"] is True
    rows = {row[0]: row[3] for row in approvals["rows"][:2]}
    assert rows["In flight"] == expected.in_flight
    assert rows["Overdue"] == expected.overdue
    funnel = panel(body, "funnel")
    counts = {row[0]: row[1] for row in funnel["rows"]}
    assert sum(value for label, value in counts.items() if label != "Total") == expected.total
    assert funnel["drilldown_url"].startswith("http://testserver/initiatives/")
    # Every table is the page's table, cell for cell (decimals as exact strings).
    board = dashboard(user=data.executive, filters=DashboardFilters())
    for item in body["panels"]:
        table = board.panel(item["key"]).table()
        assert item["columns"] == table.columns
        assert len(item["rows"]) == len(table.rows)


@pytest.mark.parametrize("reader", ["lead", "member"])
def test_a_unit_reader_gets_their_unit_and_is_refused_another(data, reader):
    lead = data.leads["ALPHA"] if reader == "lead" else data.member_alpha
    body = api(lead).get(URL).json()
    assert "Alpha Bank" in body["filters"]
    other = data.units["BETA"]
    response = api(lead).get(URL, {"business_unit": other.pk})
    assert response.status_code == 403
    assert "business unit" in response.json()["detail"]
    assert other.name not in response.content.decode()


def test_bad_input_and_readers_without_the_dashboard_are_refused(data):
    response = api(data.executive).get(URL, {"months": "5"})
    assert response.status_code == 400
    assert "months" in response.json()
    assert api(UserFactory(username="dash-nobody")).get(URL).status_code == 403
    assert APIClient().get(URL).status_code in (401, 403)


def test_the_query_count_does_not_grow_with_the_rows(data, settings):
    settings.KEEL_DASHBOARD_CACHE_SECONDS = 0
    client = api(data.executive)
    client.get(URL)  # memberships are then cached on the (force-authenticated) user object
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL).status_code == 200
    add_initiatives(300, units=list(data.units.values()), owner=data.executive, start=300_000)
    with CaptureQueriesContext(connection) as large:
        assert client.get(URL).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries) <= 10
