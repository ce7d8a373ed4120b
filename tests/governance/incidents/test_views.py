"""Incident pages and API: scoping (list, detail, API, export, dashboard counts), the report
form, the countdown, query counts that do not grow with rows."""

import datetime
import io

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from core.choices import Role
from governance.incidents import services
from governance.incidents.models import Incident
from tests.factories import member
from tests.governance.incidents.helpers import at, high_risk_provider, report, triaged

LIST = reverse("governance:incident_list")


@pytest.fixture(autouse=True)
def amsterdam(settings):
    settings.TIME_ZONE = "Europe/Amsterdam"


@pytest.fixture
def two_units(unit_a, unit_b, coe_admin):
    """One GDPR incident in each unit (reported by the CoE), triaged."""
    mine = high_risk_provider(unit_a, member(username="own-a", business_unit=unit_a))
    theirs = high_risk_provider(unit_b, member(username="own-b", business_unit=unit_b))
    with time_machine.travel(at(2026, 10, 24, 13, 0), tick=False):
        in_a = triaged(
            coe_admin,
            [mine],
            title="Chatbot leaked an IBAN",
            category="privacy",
            personal_data_breach=True,
            severity="sev2",
            became_aware_at=at(2026, 10, 24, 12),
        )
        in_b = triaged(
            coe_admin,
            [theirs],
            title="Claims model leaked addresses",
            category="privacy",
            personal_data_breach=True,
            severity="sev2",
            became_aware_at=at(2026, 10, 24, 12),
        )
    return in_a, in_b


def test_a_member_sees_only_incidents_of_initiatives_in_scope(client, member_a, two_units):
    in_a, in_b = two_units
    client.force_login(member_a)
    page = client.get(LIST).content.decode()
    assert in_a.reference in page and in_b.reference not in page
    assert client.get(in_a.get_absolute_url()).status_code == 200
    assert client.get(in_b.get_absolute_url()).status_code == 404
    assert client.get(reverse("governance:incident_edit", args=[in_b.pk])).status_code == 404
    csv = b"".join(client.get(reverse("governance:incident_list_csv")).streaming_content).decode()
    assert in_a.reference in csv and in_b.reference not in csv
    xlsx = client.get(reverse("governance:incident_list_xlsx"))
    assert xlsx.status_code == 200
    content = b"".join(xlsx.streaming_content) if xlsx.streaming else xlsx.content
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    cells = {str(value) for row in sheet.values for value in row if value is not None}
    assert in_a.reference in cells and in_b.reference not in cells


def test_the_api_is_scoped_too(member_a, two_units):
    in_a, in_b = two_units
    api = APIClient()
    api.force_authenticate(member_a)
    listed = api.get("/api/v1/incidents/").json()
    references = (
        [row["reference"] for row in listed["results"]]
        if "results" in listed
        else [row["reference"] for row in listed]
    )
    assert references == [in_a.reference]
    assert api.get(f"/api/v1/incidents/{in_b.pk}/").status_code == 404
    assert (
        api.post(f"/api/v1/incidents/{in_b.pk}/transition/", {"status": "closed"}).status_code
        == 404
    )


def test_dashboard_counts_are_scoped_and_show_missed_deadlines(client, unit_a, two_units):
    lead = member(Role.BU_LEAD, unit_a, username="lead-a")
    executive = member(Role.EXECUTIVE, unit_a, username="exec")
    # GDPR's 72 hours ran out on 27 Oct 11:00.
    with time_machine.travel(at(2026, 10, 28, 9, 0), tick=True):
        client.force_login(lead)
        page = client.get(reverse("dashboard:index")).content.decode()
        assert (
            '<dd data-testid="incident-missed"><a href="/governance/incidents/?missed=true">1</a>'
            in page
        )
        client.force_login(executive)
        page = client.get(reverse("dashboard:index")).content.decode()
        assert (
            '<dd data-testid="incident-missed"><a href="/governance/incidents/?missed=true">2</a>'
            in page
        )


def test_due_soon_counts_reports_in_the_next_seven_days(unit_a, two_units, coe_admin):
    from governance.incidents.selectors import incident_panel

    with time_machine.travel(at(2026, 10, 25, 9, 0), tick=False):
        panel = incident_panel(user=coe_admin)
    assert panel["due_soon"] == 2 and panel["missed"] == 0
    assert dict((value, count) for value, _, count in panel["by_severity"])["sev2"] == 2
    in_a = two_units[0]
    services.incident_report_record(actor=coe_admin, report=in_a.reports.get())
    with time_machine.travel(at(2026, 10, 28, 9, 0), tick=False):
        panel = incident_panel(user=coe_admin)
    assert panel["missed"] == 1


def test_the_detail_page_shows_a_countdown_and_the_timeline(client, coe_admin, two_units):
    in_a = two_units[0]
    client.force_login(coe_admin)
    with time_machine.travel(at(2026, 10, 25, 9, 0), tick=False):
        page = client.get(in_a.get_absolute_url()).content.decode()
    # Due 27 Oct 11:00 CET; 25 Oct 09:00 CET is 2 days 2 hours before.
    assert "2 d 2 h left" in page
    assert "Art. 33(1): 72 hours after becoming aware" in page
    assert "Status → triaged" in page and "Became aware" in page
    with time_machine.travel(at(2026, 10, 28, 9, 0), tick=False):
        page = client.get(in_a.get_absolute_url()).content.decode()
    assert "missed by" in page and "Missed" in page


def test_any_member_reports_an_incident_for_an_initiative_they_see(client, unit_a, member_a):
    initiative = high_risk_provider(unit_a, member(username="own", business_unit=unit_a))
    client.force_login(member_a)
    form = client.get(reverse("governance:incident_new") + f"?initiative={initiative.pk}")
    assert form.status_code == 200 and "csrfmiddlewaretoken" in form.content.decode()
    response = client.post(
        reverse("governance:incident_new"),
        {
            "title": "Wrong credit decision",
            "description": "A customer was declined on a stale income figure.",
            "initiatives": [initiative.pk],
            "category": "performance",
            "severity": "sev3",
            "detected_at": "2026-10-20T09:00",
            "became_aware_at": "2026-10-20T10:00",
        },
    )
    incident = Incident.objects.get()
    assert response.status_code == 302 and response.url == incident.get_absolute_url()
    assert incident.reporter == member_a
    # Awareness before detection is a field error, nothing written.
    response = client.post(
        reverse("governance:incident_new"),
        {
            "title": "Backwards",
            "description": "x",
            "initiatives": [initiative.pk],
            "category": "other",
            "severity": "sev4",
            "detected_at": "2026-10-20T09:00",
            "became_aware_at": "2026-10-19T10:00",
        },
    )
    assert response.status_code == 200 and Incident.objects.count() == 1
    assert "became_aware_at" in response.context["form"].errors


def test_api_create_transition_and_record_a_report(unit_a, coe_admin):
    initiative = high_risk_provider(unit_a, coe_admin)
    api = APIClient()
    api.force_authenticate(coe_admin)
    created = api.post(
        "/api/v1/incidents/",
        {
            "title": "Address leak",
            "description": "The assistant quoted another customer's address.",
            "initiatives": [initiative.pk],
            "category": "privacy",
            "severity": "sev2",
            "personal_data_breach": True,
            "detected_at": "2026-10-20T09:00:00+02:00",
            "became_aware_at": "2026-10-20T10:00:00+02:00",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    triage = api.post(f"/api/v1/incidents/{pk}/transition/", {"status": "triaged"}, format="json")
    assert triage.status_code == 200
    reports = triage.json()["reports"]
    assert [r["regime"] for r in reports] == ["gdpr-art-33"]
    recorded = api.post(
        f"/api/v1/incidents/{pk}/reports/",
        {"report": reports[0]["id"], "reference": "AP-2026-1"},
        format="json",
    )
    assert recorded.status_code == 200
    assert recorded.json()["reports"][0]["submitted_reference"] == "AP-2026-1"
    again = api.post(
        f"/api/v1/incidents/{pk}/reports/", {"report": reports[0]["id"]}, format="json"
    )
    assert again.status_code == 409
    bad = api.post(f"/api/v1/incidents/{pk}/transition/", {"status": "reported"}, format="json")
    assert bad.status_code == 400 and "status" in bad.json()


def test_api_refuses_an_initiative_out_of_scope(unit_b, member_a):
    theirs = high_risk_provider(unit_b, member(username="own-b", business_unit=unit_b))
    api = APIClient()
    api.force_authenticate(member_a)
    response = api.post(
        "/api/v1/incidents/",
        {
            "title": "x",
            "description": "x",
            "initiatives": [theirs.pk],
            "category": "other",
            "severity": "sev4",
            "detected_at": "2026-10-20T09:00:00Z",
            "became_aware_at": "2026-10-20T10:00:00Z",
        },
        format="json",
    )
    assert response.status_code == 400 and "initiatives" in response.json()
    assert not Incident.objects.exists()


def _incidents(actor, unit, count):
    initiative = high_risk_provider(unit, actor)
    for n in range(count):
        report(
            actor,
            [initiative],
            title=f"Incident {n}",
            became_aware_at=at(2026, 10, 1, 12) + datetime.timedelta(hours=n),
        )


def _body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


@pytest.mark.parametrize(
    "path",
    [
        LIST,
        "/api/v1/incidents/",
        reverse("governance:incident_list_csv"),
        reverse("governance:incident_list_xlsx"),
    ],
)
def test_list_queries_do_not_grow_with_rows(
    client, unit_a, coe_admin, path, django_assert_max_num_queries
):
    client.force_login(coe_admin)
    _incidents(coe_admin, unit_a, 3)
    with django_assert_max_num_queries(12) as few:
        response = client.get(path)
        assert response.status_code == 200
        _body(response)
    _incidents(coe_admin, unit_a, 12)
    with django_assert_max_num_queries(12) as many:
        response = client.get(path)
        assert response.status_code == 200
        _body(response)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_an_incident_has_a_discussion_for_whoever_sees_it(client, member_a, member_b, two_units):
    in_a, _ = two_units
    url = reverse("core:discussion", args=["governance.incident", in_a.pk])
    client.force_login(member_a)
    assert 'id="discussion-heading"' in client.get(in_a.get_absolute_url()).content.decode()
    response = client.post(url, {"body": "Customer called back."}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Customer called back." in client.get(in_a.get_absolute_url()).content.decode()
    client.force_login(member_b)
    assert client.get(url).status_code == 404
    assert client.post(url, {"body": "Not mine."}).status_code == 404


def test_the_list_and_its_export_filter_by_missed_deadline_and_severity(
    client, coe_admin, two_units
):
    in_a, in_b = two_units
    services.incident_report_record(actor=coe_admin, report=in_a.reports.get())
    client.force_login(coe_admin)
    with time_machine.travel(at(2026, 10, 28, 9, 0), tick=True):
        page = client.get(LIST + "?missed=true").content.decode()
        assert in_b.reference in page and in_a.reference not in page
        export = client.get(reverse("governance:incident_list_csv") + "?missed=false")
        csv = b"".join(export.streaming_content).decode()
        assert in_a.reference in csv and in_b.reference not in csv
    page = client.get(LIST + "?severity=sev1").content.decode()
    assert in_a.reference not in page and "No incident matches these filters." in page
