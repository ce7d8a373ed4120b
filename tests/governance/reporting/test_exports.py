"""Exports of the governance registers (issue 8): the initiative register in Keel's own
format and in the US federal AI use-case inventory format, the approvals queue and the risk
register, as CSV (streamed) and XLSX, with the list's filters, scoped like the page, and a
query count that does not grow with the rows."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from core.choices import Role
from governance.approvals import services as engine
from governance.approvals.models import ApprovalRequest
from governance.imports import export_rows, federal
from governance.reporting.views import APPROVAL_EXPORT_HEADER, RISK_REGISTER_HEADER
from governance.risk import services as risk
from governance.risk.choices import AssessmentStatus
from governance.risk.models import RiskAssessment
from portfolio.initiatives.choices import Stage
from tests.factories import BusinessUnitFactory, InitiativeFactory, UserFactory, member
from tests.governance.helpers import TIER_3, assess, submitted

pytestmark = pytest.mark.django_db

FEDERAL = "us-federal-2024"


def url(name: str) -> str:
    return reverse(f"governance:{name}")


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.content[:500]
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def xlsx_rows(response) -> list[tuple]:
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    return list(load_workbook(io.BytesIO(content), read_only=True).active.values)


def as_dicts(rows) -> list[dict]:
    header, *body = rows
    return [dict(zip(header, row, strict=True)) for row in body]


# --- The initiative register -------------------------------------------------------------------


@pytest.fixture
def register(unit_a, unit_b, member_a):
    fraud = InitiativeFactory(
        business_unit=unit_a,
        accountable_owner=member_a,
        reference="AI-0201",
        title="Fraud scoring",
        purpose="Flag card fraud for analysts.",
        stage=Stage.PRODUCTION,
        uses_pii=True,
    )
    chat = InitiativeFactory(
        business_unit=unit_a,
        accountable_owner=member_a,
        reference="AI-0202",
        title='=HYPERLINK("http://evil")',
        stage=Stage.PROPOSED,
    )
    hidden = InitiativeFactory(business_unit=unit_b, reference="AI-0203", title="Claims triage")
    return fraud, chat, hidden


def test_initiative_csv_is_keel_format_scoped_and_defused(client, member_a, register):
    client.force_login(member_a)
    response = client.get(url("initiative_export_csv"))
    assert response["Content-Disposition"].startswith('attachment; filename="initiatives-')
    rows = csv_rows(response)
    assert rows[0] == list(export_rows.keel_header())
    text = "\n".join(",".join(row) for row in rows)
    assert "Fraud scoring" in text and "AI-0201" in text
    assert "Claims triage" not in text and "AI-0203" not in text  # another unit's
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    assert len(rows) == 3
    explicit = csv_rows(client.get(url("initiative_export_csv"), {"format": "keel"}))
    assert explicit == rows


def test_initiative_export_applies_the_list_filters(client, member_a, register):
    client.force_login(member_a)
    rows = csv_rows(client.get(url("initiative_export_csv"), {"stage": Stage.PRODUCTION}))
    assert len(rows) == 2 and "Fraud scoring" in rows[1]
    rows = csv_rows(client.get(url("initiative_export_csv"), {"q": "fraud", "format": FEDERAL}))
    assert len(rows) == 2 and rows[1][0] == "Fraud scoring"
    rows = csv_rows(client.get(url("initiative_export_csv"), {"uses_pii": "false"}))
    assert len(rows) == 2 and "AI-0202" in rows[1]
    rows = csv_rows(client.get(url("initiative_export_csv"), {"stage": "nonsense"}))
    assert len(rows) == 1  # an invalid filter exports nothing, never everything


def test_initiative_export_of_another_units_filter_is_empty(client, member_a, unit_b, register):
    client.force_login(member_a)
    rows = csv_rows(client.get(url("initiative_export_csv"), {"business_unit": unit_b.pk}))
    assert len(rows) == 1


def test_federal_csv_has_the_omb_columns_and_the_rows(client, member_a, unit_a, register):
    client.force_login(member_a)
    response = client.get(url("initiative_export_csv"), {"format": FEDERAL})
    assert 'filename="ai-use-case-inventory-' in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0] == list(federal.COLUMNS) == list(export_rows.federal_header())
    by_name = {row[federal.USE_CASE_NAME]: row for row in as_dicts(rows)}
    assert set(by_name) == {"Fraud scoring", '\'=HYPERLINK("http://evil")'}
    fraud = by_name["Fraud scoring"]
    assert unit_a.name in (fraud[federal.AGENCY], fraud[federal.BUREAU])
    assert fraud[federal.STAGE] == "Operation and Maintenance"
    assert fraud[federal.PURPOSE] == "Flag card fraud for analysts."


def test_federal_xlsx_has_the_omb_columns(client, member_a, register):
    client.force_login(member_a)
    response = client.get(url("initiative_export_xlsx"), {"format": FEDERAL})
    rows = xlsx_rows(response)
    assert rows[0] == federal.COLUMNS
    names = {row[federal.USE_CASE_NAME] for row in as_dicts(rows)}
    assert names == {"Fraud scoring", '\'=HYPERLINK("http://evil")'}  # defused, not a formula


def test_keel_xlsx_has_the_keel_header_and_rows(client, member_a, register):
    client.force_login(member_a)
    rows = xlsx_rows(client.get(url("initiative_export_xlsx"), {"stage": Stage.PROPOSED}))
    assert list(rows[0]) == list(export_rows.keel_header())
    assert len(rows) == 2 and "AI-0202" in rows[1]


def test_unknown_initiative_format_is_a_bad_request(client, member_a, register):
    client.force_login(member_a)
    response = client.get(url("initiative_export_csv"), {"format": "pdf"})
    assert response.status_code == 400


def test_initiative_list_links_to_its_exports_with_its_filters(client, member_a, register):
    client.force_login(member_a)
    page = client.get(reverse("portfolio:initiative_list"), {"stage": "production"})
    body = page.content.decode()
    assert f'{url("initiative_export_csv")}?stage=production"' in body
    assert f'{url("initiative_export_xlsx")}?format=us-federal-2024&amp;stage=production"' in body


def make_initiatives(count, unit, start=0):
    """Initiatives each with their own owner and technical lead (a per-row query for a person
    would show in the count)."""
    for n in range(start, start + count):
        InitiativeFactory(
            business_unit=unit,
            reference=f"AI-{5000 + n}",
            title=f"Counted {n}",
            technical_lead=UserFactory(),
            executive_sponsor=UserFactory(),
            initiated_on=datetime.date(2024, 1, 1),
        )


# --- The approvals queue -----------------------------------------------------------------------


def test_approvals_csv_has_the_queue_tab_and_filters(
    client, unit_a, unit_b, member_a, coe_reviewer
):
    pilot = submitted(unit_a, member_a, title="Pilot one")
    intake = submitted(unit_a, member_a, gate="intake", stage="draft", title="Intake one")
    ApprovalRequest.objects.filter(pk=pilot.pk).update(
        step_due_at=timezone.now() - datetime.timedelta(hours=2)
    )
    client.force_login(coe_reviewer)
    response = client.get(url("queue_csv"))
    assert response["Content-Disposition"].startswith('attachment; filename="approvals-')
    rows = csv_rows(response)
    assert tuple(rows[0]) == APPROVAL_EXPORT_HEADER
    listed = as_dicts(rows)
    assert [row["Initiative title"] for row in listed] == ["Pilot one", "Intake one"]  # due first
    first = listed[0]
    assert first["Initiative"] == pilot.initiative.reference
    assert first["Business unit"] == unit_a.name and first["Gate"] == "Pilot"
    assert first["Tier"] == "2" and first["Status"] == "Pending" and first["Overdue"] == "Yes"
    assert first["Current step"] == "CoE review" and first["Current step role"] == "CoE reviewer"
    assert first["Submitted by"] == member_a.get_full_name() and first["Decisions"] == "0"
    assert listed[1]["Overdue"] == "No"

    gate = as_dicts(csv_rows(client.get(url("queue_csv"), {"gate": "intake"})))
    assert [row["Initiative"] for row in gate] == [intake.initiative.reference]


def test_approvals_export_follows_the_scope_tab_and_is_scoped(
    client, unit_a, unit_b, member_a, member_b
):
    mine = submitted(unit_a, member_a, title="Retail request")
    theirs = submitted(unit_b, member_b, title="Insurance request")
    engine.request_withdraw(actor=member_b, request=theirs)
    client.force_login(member_a)
    # A BU member holds no approving role: nothing awaits them; "all" lists their unit's only.
    assert csv_rows(client.get(url("queue_csv")))[1:] == []
    listed = as_dicts(csv_rows(client.get(url("queue_csv"), {"scope": "all"})))
    assert [row["Initiative"] for row in listed] == [mine.initiative.reference]
    client.force_login(member_b)
    withdrawn = as_dicts(
        csv_rows(client.get(url("queue_csv"), {"scope": "all", "status": "withdrawn"}))
    )
    assert [row["Initiative title"] for row in withdrawn] == ["Insurance request"]
    assert withdrawn[0]["Current step"] == ""  # a closed request has no current step


def test_approvals_xlsx_has_typed_rows(client, unit_a, member_a, coe_reviewer):
    approval = submitted(unit_a, member_a, title="Pilot one")
    client.force_login(coe_reviewer)
    rows = xlsx_rows(client.get(url("queue_xlsx"), {"scope": "role"}))
    assert rows[0] == APPROVAL_EXPORT_HEADER
    (row,) = as_dicts(rows)
    assert row["Tier"] == 2 and row["Initiative"] == approval.initiative.reference
    assert isinstance(row["Submitted at"], datetime.datetime)


def test_queue_page_links_to_its_exports(client, unit_a, member_a, coe_reviewer):
    submitted(unit_a, member_a)
    client.force_login(coe_reviewer)
    body = client.get(reverse("governance:queue"), {"scope": "all", "gate": "pilot"}).content
    assert f'{url("queue_csv")}?scope=all&amp;gate=pilot"' in body.decode()


# --- The risk register -------------------------------------------------------------------------


@pytest.fixture
def assessed_register(unit_a, unit_b, member_a):
    high = InitiativeFactory(
        business_unit=unit_a, accountable_owner=member_a, title="Credit scoring", stage="proposed"
    )
    InitiativeFactory(business_unit=unit_a, title="Forecasting")
    InitiativeFactory(business_unit=unit_b, title="Claims triage")
    assess(high, member_a, TIER_3)
    return high


def test_risk_register_xlsx_has_the_filtered_scoped_rows(client, member_a, assessed_register):
    client.force_login(member_a)
    response = client.get(url("risk_register_xlsx"))
    assert 'filename="risk-register-' in response["Content-Disposition"]
    rows = xlsx_rows(response)
    assert rows[0] == RISK_REGISTER_HEADER
    listed = {row["Title"]: row for row in as_dicts(rows)}
    assert set(listed) == {"Credit scoring", "Forecasting"}  # not the other unit's
    high = listed["Credit scoring"]
    assert high["Computed tier"] == 3 and high["Effective tier"] == 3
    assert high["Assessed on"].date() == timezone.localdate()
    assert listed["Forecasting"]["Effective tier"] is None

    filtered = as_dicts(xlsx_rows(client.get(url("risk_register_xlsx"), {"tier": "3"})))
    assert [row["Title"] for row in filtered] == ["Credit scoring"]


def test_risk_register_csv_keeps_its_address_and_matches_the_xlsx(
    client, member_a, assessed_register
):
    client.force_login(member_a)
    params = {"tier": "unassessed"}
    as_csv = csv_rows(client.get(url("risk_register_csv"), params))
    as_xlsx = xlsx_rows(client.get(url("risk_register_xlsx"), params))
    assert as_csv[0] == list(RISK_REGISTER_HEADER)
    assert [row[1] for row in as_csv[1:]] == [row[1] for row in as_xlsx[1:]] == ["Forecasting"]


def test_risk_register_links_to_both_exports(client, member_a, assessed_register):
    client.force_login(member_a)
    body = client.get(reverse("governance:risk_register"), {"tier": "3"}).content.decode()
    assert f'{url("risk_register_csv")}?tier=3"' in body
    assert f'{url("risk_register_xlsx")}?tier=3"' in body


def test_governance_exports_need_a_login(client):
    for name in (
        "initiative_export_csv",
        "initiative_export_xlsx",
        "queue_csv",
        "queue_xlsx",
        "risk_register_xlsx",
    ):
        response = client.get(url(name))
        assert response.status_code == 302 and "/login" in response["Location"]


# --- Query counts ------------------------------------------------------------------------------


def make_requests(count, unit, start=0):
    owner = member(Role.BU_MEMBER, unit, username=f"counted-owner-{start}")
    for n in range(start, start + count):
        submitted(unit, owner, title=f"Counted {n}", reference=f"AI-{6000 + n}")


def make_assessed(count, unit, start=0):
    questionnaire = risk.active_questionnaire()
    for n in range(start, start + count):
        initiative = InitiativeFactory(
            business_unit=BusinessUnitFactory(name=f"Counted unit {n}", code=f"CU{n}")
            if unit is None
            else unit,
            reference=f"AI-{7000 + n}",
        )
        RiskAssessment.objects.create(
            initiative=initiative,
            questionnaire=questionnaire,
            status=AssessmentStatus.COMPLETED,
            is_current=True,
            computed_tier=1 + n % 3,
            completed_at=timezone.now(),
        )


EXPORTS = {
    "initiatives-keel-csv": ("initiative_export_csv", {}, make_initiatives, "member"),
    "initiatives-keel-xlsx": ("initiative_export_xlsx", {}, make_initiatives, "member"),
    "initiatives-federal-csv": (
        "initiative_export_csv",
        {"format": FEDERAL},
        make_initiatives,
        "member",
    ),
    "initiatives-federal-xlsx": (
        "initiative_export_xlsx",
        {"format": FEDERAL},
        make_initiatives,
        "member",
    ),
    "approvals-csv": ("queue_csv", {"scope": "all"}, make_requests, "reviewer"),
    "approvals-xlsx": ("queue_xlsx", {"scope": "role"}, make_requests, "reviewer"),
    "risk-register-csv": ("risk_register_csv", {}, make_assessed, "member"),
    "risk-register-xlsx": ("risk_register_xlsx", {}, make_assessed, "member"),
}
FEW = 3


@pytest.mark.parametrize("export", list(EXPORTS))
def test_export_query_count_does_not_grow_with_rows(
    client, unit_a, member_a, coe_reviewer, django_assert_max_num_queries, export
):
    name, params, make_rows, who = EXPORTS[export]
    client.force_login(member_a if who == "member" else coe_reviewer)
    make_rows(FEW, unit_a)
    b"".join(client.get(url(name), params).streaming_content)  # warm per-process caches

    def exported_rows() -> int:
        response = client.get(url(name), params)
        assert response.status_code == 200
        content = b"".join(response.streaming_content)  # the CSV queries while streaming
        if name.endswith("xlsx"):
            return len(list(load_workbook(io.BytesIO(content), read_only=True).active.values)) - 1
        return len(list(csv.reader(io.StringIO(content.decode())))) - 1

    with CaptureQueriesContext(connection) as few:
        assert exported_rows() == FEW
    make_rows(2 * FEW, unit_a, start=FEW)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert exported_rows() == 3 * FEW
