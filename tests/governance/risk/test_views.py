"""HTML views of governance: the questionnaire, overrides, controls and evidence, the risk
register — as a matrix of personas, asserting that refused calls changed nothing."""

import csv
import datetime
import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.choices import Role
from core.models import AuditEvent
from governance.risk import controls, selectors, services
from governance.risk.choices import AssessmentStatus, ControlKind, ResultStatus
from governance.risk.models import Control, ControlRequirement, ControlResult, RiskAssessment
from portfolio.initiatives import services as portfolio_services
from tests.factories import InitiativeFactory, member
from tests.governance.helpers import CREDIT_SCORING as CREDIT_SCORING_ANSWERS
from tests.governance.helpers import LOW_RISK, assess
from tests.portfolio.helpers import approved_gate_request

pytestmark = pytest.mark.django_db

TITLE = "Customer credit-scoring assistant (LLM)"

# The credit-scoring LLM as the form posts it (text), also exposed to output leakage.
CREDIT_SCORING = {
    **CREDIT_SCORING_ANSWERS,
    "genai_exposure": ["untrusted_input", "output_leakage"],
    "scale": "250000",
}
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def risk_officer(unit_a):
    return member(Role.RISK_OFFICER, unit_a, username="rita", first_name="Rita", last_name="Ode")


@pytest.fixture
def initiative(unit_a, member_a):
    return InitiativeFactory(
        business_unit=unit_a, accountable_owner=member_a, stage="proposed", title=TITLE
    )


@pytest.fixture
def private_storage(settings, tmp_path):
    settings.KEEL_PRIVATE_STORAGE = tmp_path / "private"
    return settings.KEEL_PRIVATE_STORAGE


def url(name, initiative, *args):
    return reverse(f"governance:{name}", args=[initiative.pk, *args])


def stored_files(root) -> list:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


# --- Access -------------------------------------------------------------------------------


def test_anonymous_is_redirected_to_login(client, initiative):
    for page in (
        url("assessment", initiative),
        url("controls", initiative),
        url("risk_panel", initiative),
        url("control_evidence_file", initiative, "FAIR-01"),
        reverse("governance:risk_register"),
        reverse("governance:risk_register_csv"),
    ):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_other_unit_member_gets_404_everywhere(client, initiative, member_a, member_b):
    draft = services.assessment_start(actor=member_a, initiative=initiative)
    ControlResult.objects.create(
        initiative=initiative,
        control=Control.objects.get(code="FAIR-01"),
        evidence_link="https://evidence.example/fairness",
    )
    client.force_login(member_b)
    for page in (
        url("assessment", initiative),
        url("controls", initiative),
        url("risk_panel", initiative),
        url("control_evidence_file", initiative, "FAIR-01"),
    ):
        assert client.get(page).status_code == 404, page
    for action, data in (
        ("assessment_start", {}),
        ("assessment_answer", {"data_sensitivity": "public"}),
        ("assessment_complete", {}),
        ("assessment_override", {"tier": 1, "justification": "x" * 30}),
        ("controls_evaluate", {}),
    ):
        assert client.post(url(action, initiative), data).status_code == 404, action
    for action in ("control_evidence", "control_review", "control_waive"):
        response = client.post(url(action, initiative, "FAIR-01"), {"status": "passing"})
        assert response.status_code == 404, action
    draft.refresh_from_db()
    assert draft.answers == {}
    assert not AuditEvent.objects.exclude(action="risk_assessment.started").exists()


# --- The questionnaire ------------------------------------------------------------------------


def test_member_answers_and_completes_the_questionnaire(client, initiative, member_a):
    client.force_login(member_a)
    page = client.get(url("assessment", initiative)).content.decode()
    assert "not been assessed yet" in page
    assert "No completed risk assessment." in page  # reassessment_reasons
    assert "Start the risk assessment" in page

    response = client.post(url("assessment_start", initiative))
    assert response.status_code == 302 and response["Location"] == url("assessment", initiative)
    draft = RiskAssessment.objects.get(initiative=initiative, status=AssessmentStatus.DRAFT)

    page = client.get(url("assessment", initiative)).content.decode()
    # Each question is a fieldset named by its legend; inputs follow the answer type.
    assert page.count("<fieldset") == 11
    assert '<legend id="id_data_sensitivity_legend">What is the most sensitive data' in page
    assert 'type="radio" name="data_sensitivity"' in page
    assert 'type="checkbox" name="affected_people"' in page
    assert 'type="radio" name="rights_impacting" value="yes"' in page
    assert 'type="number" name="scale"' in page
    assert 'aria-labelledby="id_scale_legend"' in page
    assert f'hx-post="{url("assessment_answer", initiative)}"' in page
    assert 'name="csrfmiddlewaretoken"' in page

    # Answer part of it: the htmx response is only the live tier partial.
    partial = client.post(
        url("assessment_answer", initiative),
        {"answers_included": "1", "data_sensitivity": "personal", "scale": ""},
        **HTMX,
    )
    body = partial.content.decode()
    assert partial.status_code == 200
    assert "<html" not in body and "<form" not in body
    assert "Tier 2 · limited" in body and "It processes personal data." in body
    assert "10 questions still to answer" in body
    assert 'id="errors-scale" hx-swap-oob="true"' in body

    body = client.post(
        url("assessment_answer", initiative),
        {"answers_included": "1", **CREDIT_SCORING},
        **HTMX,
    ).content.decode()
    assert "Tier 3 · high" in body
    assert "EU AI Act Annex III high-risk area: essential private and public services" in body
    assert "Every question is answered" in body
    draft.refresh_from_db()
    assert draft.answers["affected_people"] == ["customers"]
    assert draft.answers["scale"] == 250000

    response = client.post(
        url("assessment_complete", initiative), {"answers_included": "1", **CREDIT_SCORING}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.is_current and draft.status == AssessmentStatus.COMPLETED
    assert draft.computed_tier == 3 and draft.assessed_by == member_a
    page = client.get(url("assessment", initiative)).content.decode()
    assert "Assessment completed: Tier 3 · high." in page
    assert "Computed: Tier 3 · high" in page
    assert "Annex III high-risk area" in page
    assert "Start a reassessment" in page
    assert AuditEvent.objects.filter(action="risk_assessment.completed", actor=member_a).exists()


def test_saved_answers_are_checked_when_the_page_is_reloaded(client, initiative, member_a):
    draft = services.assessment_start(actor=member_a, initiative=initiative)
    services.assessment_answer(actor=member_a, assessment=draft, answers=CREDIT_SCORING)
    client.force_login(member_a)
    page = client.get(url("assessment", initiative)).content.decode()

    def checked(name, value):
        pattern = rf'<input type="(radio|checkbox)" name="{name}" value="{value}"[^>]*\bchecked\b'
        return re.search(pattern, page) is not None

    assert checked("data_sensitivity", "personal")
    assert not checked("data_sensitivity", "public")
    assert checked("affected_people", "customers") and not checked("affected_people", "public")
    assert checked("annex_iii_domain", "essential_services")
    assert checked("genai_exposure", "untrusted_input") and checked(
        "genai_exposure", "output_leakage"
    )
    assert checked("rights_impacting", "yes") and not checked("rights_impacting", "no")
    assert re.search(r'type="number" name="scale" value="250000"', page)
    assert "Tier 3 · high" in page  # the live tier of the saved draft


def test_invalid_answers_are_shown_beside_their_questions_and_not_saved(
    client, initiative, member_a
):
    draft = services.assessment_start(actor=member_a, initiative=initiative)
    client.force_login(member_a)
    body = client.post(
        url("assessment_answer", initiative),
        {"answers_included": "1", "data_sensitivity": "personal", "scale": "-5"},
        **HTMX,
    ).content.decode()
    assert re.search(
        r'id="errors-scale" hx-swap-oob="true">\s*<ul class="errorlist"[^>]*><li>Enter a number '
        r"of zero or more.",
        body,
    )
    assert "Some answers were not saved" in body
    draft.refresh_from_db()
    assert draft.answers == {}

    # Without JavaScript, the same errors come back on the page.
    response = client.post(
        url("assessment_answer", initiative), {"answers_included": "1", "scale": "lots"}
    )
    assert response.status_code == 200
    assert response.context["questionnaire_form"].errors["scale"] == ["Enter a number."]


def test_completing_with_unanswered_questions_marks_them(client, initiative, member_a):
    draft = services.assessment_start(actor=member_a, initiative=initiative)
    client.force_login(member_a)
    response = client.post(
        url("assessment_complete", initiative),
        {"answers_included": "1", "data_sensitivity": "personal"},
    )
    assert response.status_code == 200
    errors = response.context["questionnaire_form"].errors
    assert "data_sensitivity" not in errors
    assert errors["annex_iii_domain"] == ["Answer this question."]
    assert re.search(
        r'id="errors-annex_iii_domain">\s*<ul class="errorlist"', response.content.decode()
    )
    draft.refresh_from_db()
    assert draft.status == AssessmentStatus.DRAFT
    assert draft.answers == {"data_sensitivity": "personal"}  # what was posted is kept
    assert not AuditEvent.objects.filter(action="risk_assessment.completed").exists()


def test_completing_without_posted_answers_uses_the_saved_ones(client, initiative, member_a):
    draft = services.assessment_start(actor=member_a, initiative=initiative)
    services.assessment_answer(actor=member_a, assessment=draft, answers=LOW_RISK)
    client.force_login(member_a)
    assert client.post(url("assessment_complete", initiative)).status_code == 302
    draft.refresh_from_db()
    assert draft.is_current and draft.computed_tier == 1


def test_reader_without_assess_right_sees_the_tier_but_cannot_answer(
    client, initiative, member_a, executive
):
    assess(initiative, member_a, CREDIT_SCORING)
    draft = services.assessment_start(actor=member_a, initiative=initiative)
    client.force_login(executive)
    response = client.get(url("assessment", initiative))
    page = response.content.decode()
    assert "Computed: Tier 3 · high" in page
    assert "<fieldset" not in page and "Start a reassessment" not in page
    assert "A reassessment is in progress." in page
    for action in ("assessment_start", "assessment_answer", "assessment_complete"):
        assert client.post(url(action, initiative), {"scale": "1"}).status_code == 403
    saved = draft.answers
    draft.refresh_from_db()
    assert draft.answers == saved and draft.answers["scale"] == 250000


# --- Overrides --------------------------------------------------------------------------------


def test_risk_officer_override_needs_a_justification(client, initiative, member_a, risk_officer):
    current = assess(initiative, member_a)
    client.force_login(risk_officer)
    page = client.get(url("assessment", initiative)).content.decode()
    assert "Override the tier" in page

    for justification, message in (
        ("", "This field is required."),
        ("Too short.", "at least 20 characters"),
    ):
        response = client.post(
            url("assessment_override", initiative),
            {"tier": 3, "justification": justification},
        )
        assert response.status_code == 200
        errors = response.context["override_form"].errors["justification"]
        assert message in errors[0]
        assert 'id="id_justification_error"' in response.content.decode()
    current.refresh_from_db()
    assert current.override_tier is None
    assert not AuditEvent.objects.filter(action="risk_assessment.overridden").exists()

    response = client.post(
        url("assessment_override", initiative),
        {"tier": 3, "justification": "Customer-facing credit decisions need Tier 3 controls."},
    )
    assert response.status_code == 302
    current.refresh_from_db()
    assert (current.computed_tier, current.override_tier) == (1, 3)
    page = client.get(url("assessment", initiative)).content.decode()
    assert (
        "Computed: Tier 1 · minimal · Override: Tier 3 · high by Rita Ode — Customer-facing "
        "credit decisions need Tier 3 controls." in " ".join(page.split())
    )
    assert AuditEvent.objects.filter(
        action="risk_assessment.overridden", actor=risk_officer
    ).exists()


@pytest.mark.parametrize("persona", ["member", "reviewer"])
def test_override_by_anyone_else_is_forbidden(client, persona, initiative, member_a, coe_reviewer):
    current = assess(initiative, member_a)
    client.force_login(member_a if persona == "member" else coe_reviewer)
    assert "Override the tier" not in client.get(url("assessment", initiative)).content.decode()
    response = client.post(
        url("assessment_override", initiative),
        {"tier": 4, "justification": "A sufficiently long justification text."},
    )
    assert response.status_code == 403
    current.refresh_from_db()
    assert current.override_tier is None
    assert not AuditEvent.objects.filter(action="risk_assessment.overridden").exists()


def test_tier_4_initiative_cannot_move_past_proposed(initiative, member_a):
    assess(initiative, member_a, {**LOW_RISK, "prohibited_practice": ["social_scoring"]})
    assert selectors.current_tier(initiative) == 4
    with pytest.raises(ValidationError) as caught:
        portfolio_services.initiative_change_stage(
            actor=member_a,
            initiative=initiative,
            to_stage="pilot",
            via_gate=approved_gate_request(initiative, "pilot"),
        )
    assert "Tier 4" in str(caught.value)
    initiative.refresh_from_db()
    assert initiative.stage == "proposed"


# --- Controls -------------------------------------------------------------------------------


def test_controls_checklist_and_gate_readiness(client, initiative, member_a):
    assess(initiative, member_a, CREDIT_SCORING)
    client.force_login(member_a)
    response = client.get(url("controls", initiative))
    page = response.content.decode()
    assert response.status_code == 200
    rows = {row["control"].code: row for row in response.context["rows"]}
    assert rows["FAIR-01"]["gate_labels"] == ["Pilot", "Production", "Scale"]
    assert rows["GOV-01"]["result"].status == ResultStatus.PASSING
    assert "EU AI Act Art. 10(2)(f)" in page and "NIST AI RMF Measure" in page
    assert "ISO/IEC 42001 A.7.4" in page
    # Tier 3 at the pilot gate: the manual controls without evidence block it.
    blockers = {blocker.code for blocker in response.context["blockers"]}
    assert {"FAIR-01", "HUM-01", "PRIV-01", "SEC-01", "VEN-01"} <= blockers
    assert "block the Pilot gate" in page
    assert 'enctype="multipart/form-data"' in page
    assert "Mark passing" not in page  # the owner does not review their own controls
    assert "Re-evaluate automated controls" in page


def test_ready_for_gate_when_nothing_blocks(client, initiative, member_a, coe_reviewer):
    assess(initiative, member_a)  # Tier 1, internal data: only automated controls at pilot
    client.force_login(member_a)
    assert "Ready for the Pilot gate." in client.get(url("controls", initiative)).content.decode()


def test_re_evaluate_controls(client, initiative, member_a, executive):
    client.force_login(executive)
    assert client.post(url("controls_evaluate", initiative)).status_code == 403
    assert not ControlResult.objects.exists()
    client.force_login(member_a)
    assert client.post(url("controls_evaluate", initiative)).status_code == 302
    assert ControlResult.objects.get(control__code="RISK-01").status == ResultStatus.FAILING


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("fairness.pdf", PDF + b"x" * 200, "the limit is"),
        ("tool.exe", b"MZ\x90\x00", "Files of type .exe are not accepted"),
        ("fairness.pdf", b"<html>not a pdf</html>", "does not look like a .pdf file"),
    ],
)
def test_rejected_evidence_is_a_field_error_and_writes_nothing(
    client, settings, private_storage, initiative, member_a, name, content, message
):
    settings.KEEL_EVIDENCE_MAX_BYTES = 100
    client.force_login(member_a)
    response = client.post(
        url("control_evidence", initiative, "FAIR-01"),
        {"evidence_file": SimpleUploadedFile(name, content), "note": "Bias report"},
    )
    assert response.status_code == 200
    form = next(
        row["evidence_form"] for row in response.context["rows"] if row["control"].code == "FAIR-01"
    )
    assert message in form.errors["evidence_file"][0]
    page = response.content.decode()
    assert 'id="id_evidence_FAIR-01_evidence_file_error"' in page
    assert "<details open>" in page
    assert stored_files(private_storage) == []
    assert not ControlResult.objects.filter(control__code="FAIR-01").exclude(evidence_file="")
    assert not AuditEvent.objects.filter(action="control.evidence_submitted").exists()


def test_evidence_needs_a_file_or_a_link(client, initiative, member_a):
    client.force_login(member_a)
    response = client.post(url("control_evidence", initiative, "FAIR-01"), {"note": "Later"})
    assert response.status_code == 200
    assert "Upload a file or give a link." in response.content.decode()
    assert not AuditEvent.objects.filter(action="control.evidence_submitted").exists()


def test_evidence_upload_is_stored_privately_and_downloadable_in_scope(
    client, private_storage, initiative, member_a, member_b, coe_reviewer
):
    client.force_login(member_a)
    response = client.post(
        url("control_evidence", initiative, "FAIR-01"),
        {"evidence_file": SimpleUploadedFile("fairness.pdf", PDF), "note": "Bias report v1"},
    )
    assert response.status_code == 302 and response["Location"] == url("controls", initiative)
    result = ControlResult.objects.get(initiative=initiative, control__code="FAIR-01")
    assert result.status == ResultStatus.PENDING and result.detail == "Bias report v1"
    files = stored_files(private_storage)
    assert len(files) == 1 and files[0].read_bytes() == PDF
    assert AuditEvent.objects.filter(action="control.evidence_submitted", actor=member_a).exists()
    download = url("control_evidence_file", initiative, "FAIR-01")
    assert download in client.get(url("controls", initiative)).content.decode()

    for user in (member_a, coe_reviewer):
        client.force_login(user)
        response = client.get(download)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;")
        assert "fairness.pdf" in response["Content-Disposition"]
        assert b"".join(response.streaming_content) == PDF

    client.force_login(member_b)
    assert client.get(download).status_code == 404
    # A control without a file has nothing to download.
    client.force_login(member_a)
    assert client.get(url("control_evidence_file", initiative, "HUM-01")).status_code == 404
    # A file removed from storage behind the row's back is a 404, not a 500.
    files[0].unlink()
    assert client.get(download).status_code == 404


def test_evidence_by_a_reader_is_forbidden(client, initiative, executive, private_storage):
    client.force_login(executive)
    response = client.post(
        url("control_evidence", initiative, "FAIR-01"),
        {"evidence_link": "https://evidence.example/report"},
    )
    assert response.status_code == 403
    assert not ControlResult.objects.exists()


def test_reviewer_marks_evidence_passing_or_failing(client, initiative, member_a, coe_reviewer):
    controls.control_evidence_submit(
        actor=member_a,
        initiative=initiative,
        control=Control.objects.get(code="FAIR-01"),
        evidence_link="https://evidence.example/fairness",
    )
    review = url("control_review", initiative, "FAIR-01")
    client.force_login(member_a)
    assert client.post(review, {"status": "passing"}).status_code == 403
    result = ControlResult.objects.get(control__code="FAIR-01")
    assert result.status == ResultStatus.PENDING

    client.force_login(coe_reviewer)
    assert "Mark passing" in client.get(url("controls", initiative)).content.decode()
    assert client.post(review, {"status": "passing", "note": "Looks thorough."}).status_code == 302
    result.refresh_from_db()
    assert (result.status, result.reviewer) == (ResultStatus.PASSING, coe_reviewer)
    assert client.post(review, {"status": "failing"}).status_code == 302
    result.refresh_from_db()
    assert result.status == ResultStatus.FAILING
    assert AuditEvent.objects.filter(action="control.reviewed", actor=coe_reviewer).count() == 2
    page = client.get(url("controls", initiative)).content.decode()
    assert "FAIR-01 marked failing." in page


def test_control_without_evidence_cannot_pass(client, initiative, member_a, coe_reviewer):
    ControlResult.objects.create(initiative=initiative, control=Control.objects.get(code="HUM-01"))
    client.force_login(coe_reviewer)
    response = client.post(url("control_review", initiative, "HUM-01"), {"status": "passing"})
    assert response.status_code == 302
    assert "cannot pass without evidence" in client.get(response["Location"]).content.decode()
    assert ControlResult.objects.get(control__code="HUM-01").status == ResultStatus.PENDING


def test_waiver_needs_expiry_and_reason(client, initiative, member_a, risk_officer):
    waive = url("control_waive", initiative, "FAIR-01")
    client.force_login(member_a)
    assert client.post(waive, {"reason": "x" * 30}).status_code == 403

    client.force_login(risk_officer)
    response = client.post(waive, {"expires_on": "", "reason": ""})
    assert response.status_code == 200
    form = next(row["waiver_form"] for row in response.context["rows"] if row["open"])
    assert set(form.errors) == {"expires_on", "reason"}
    assert not ControlResult.objects.filter(status=ResultStatus.WAIVED).exists()
    assert not AuditEvent.objects.filter(action="control.waived").exists()

    expires = timezone.localdate() + datetime.timedelta(days=90)
    response = client.post(
        waive,
        {"expires_on": expires.isoformat(), "reason": "Fairness study scheduled for Q3 launch."},
    )
    assert response.status_code == 302
    result = ControlResult.objects.get(control__code="FAIR-01")
    assert (result.status, result.waiver_expires_on) == (ResultStatus.WAIVED, expires)
    assert f"until {expires:%-d %b %Y}" in client.get(url("controls", initiative)).content.decode()


# --- Risk panel and register ------------------------------------------------------------------


def test_initiative_page_lazy_loads_the_risk_panel(client, initiative, member_a, risk_officer):
    current = assess(initiative, member_a, CREDIT_SCORING)
    services.assessment_override(
        actor=risk_officer,
        assessment=current,
        tier=4,
        justification="Escalated after the model-risk committee review.",
    )
    client.force_login(member_a)
    page = client.get(initiative.get_absolute_url()).content.decode()
    assert f'hx-get="{url("risk_panel", initiative)}" hx-trigger="load"' in page
    assert f'href="{url("assessment", initiative)}"' in page  # for browsers without JS

    panel = client.get(url("risk_panel", initiative), **HTMX).content.decode()
    assert "<html" not in panel
    assert 'class="badge tier tier-4"' in panel
    assert "Computed: Tier 3 · Override: Tier 4" in panel
    assert url("controls", initiative) in panel


def make_register(unit_a, unit_b, member_a):
    """Four initiatives: high (3), overridden (2→4), failing low (1), unassessed; one hidden."""
    high = InitiativeFactory(business_unit=unit_a, title="Credit scoring", reference="AI-0001")
    overridden = InitiativeFactory(business_unit=unit_a, title="Chat helper", reference="AI-0002")
    failing = InitiativeFactory(business_unit=unit_a, title="Invoice OCR", reference="AI-0003")
    InitiativeFactory(business_unit=unit_a, title="Forecasting", reference="AI-0004")
    InitiativeFactory(business_unit=unit_b, title="Claims triage", reference="AI-0005")
    questionnaire = services.active_questionnaire()
    now = timezone.now()
    for initiative, computed, override in ((high, 3, None), (overridden, 2, 4), (failing, 1, None)):
        RiskAssessment.objects.create(
            initiative=initiative,
            questionnaire=questionnaire,
            status=AssessmentStatus.COMPLETED,
            is_current=True,
            computed_tier=computed,
            override_tier=override,
            override_justification="Committee decision, see minutes." if override else "",
            completed_at=now,
        )
    controls = {control.code: control for control in Control.objects.all()}
    # Results as controls_evaluate would mark them: required for these initiatives now.
    ControlResult.objects.bulk_create(
        [
            ControlResult(
                initiative=failing, control=controls["GOV-01"], status="passing", is_required=True
            ),
            ControlResult(
                initiative=failing, control=controls["FAIR-01"], status="failing", is_required=True
            ),
            ControlResult(
                initiative=high, control=controls["GOV-01"], status="passing", is_required=True
            ),
        ]
    )
    return high, overridden, failing


def test_risk_register_columns_and_filters(client, unit_a, unit_b, member_a):
    make_register(unit_a, unit_b, member_a)
    client.force_login(member_a)
    register = reverse("governance:risk_register")

    def titles(**params):
        return [row.title for row in client.get(register, params).context["rows"]]

    assert titles() == ["Credit scoring", "Chat helper", "Invoice OCR", "Forecasting"]
    assert titles(tier="3") == ["Credit scoring"]
    assert titles(tier="4") == ["Chat helper"]
    assert titles(tier="2") == []  # the override decides the effective tier
    assert titles(tier="unassessed") == ["Forecasting"]
    assert titles(has_override="true") == ["Chat helper"]
    assert titles(has_failing="true") == ["Invoice OCR"]
    assert titles(has_failing="false", q="c") == ["Credit scoring", "Chat helper", "Forecasting"]
    assert titles(q="ocr") == ["Invoice OCR"]
    assert titles(business_unit=unit_b.pk) == []  # not a unit the member may see
    assert titles(ordering="-tier") == [
        "Chat helper",
        "Credit scoring",
        "Invoice OCR",
        "Forecasting",
    ]
    assert titles(ordering="tier") == [
        "Invoice OCR",
        "Credit scoring",
        "Chat helper",
        "Forecasting",
    ]

    page = client.get(register).content.decode()
    assert "Claims triage" not in page and "Insurance" not in page
    assert 'class="badge tier tier-4"' in page and 'class="badge tier tier-none"' in page
    assert "1 / 2" in page  # controls satisfied / total of "Invoice OCR"
    partial = client.get(register, {"tier": "3"}, **HTMX)
    assert "<html" not in partial.content.decode() and "Credit scoring" in partial.content.decode()


def test_risk_register_csv_exports_every_filtered_row(client, settings, unit_a, unit_b, member_a):
    settings.KEEL_PAGE_SIZE = 2
    make_register(unit_a, unit_b, member_a)
    client.force_login(member_a)
    response = client.get(reverse("governance:risk_register_csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="risk-register-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["Reference", "Title", "Business unit"]
    assert [row[0] for row in rows[1:]] == ["AI-0001", "AI-0002", "AI-0003", "AI-0004"]
    overridden = rows[2]
    assert overridden[1] == "Chat helper" and overridden[4:7] == ["2", "4", "4"]
    assert rows[3][-3:] == ["1", "2", "1"]  # satisfied, total, failing

    filtered = client.get(reverse("governance:risk_register_csv"), {"tier": "unassessed"})
    rows = list(csv.reader(io.StringIO(b"".join(filtered.streaming_content).decode())))
    assert [row[1] for row in rows[1:]] == ["Forecasting"]
    assert rows[1][4:8] == ["", "", "", ""]


def test_csv_cells_cannot_start_a_formula(client, unit_a, member_a):
    InitiativeFactory(business_unit=unit_a, title='=HYPERLINK("http://x")')
    client.force_login(member_a)
    content = b"".join(
        client.get(reverse("governance:risk_register_csv")).streaming_content
    ).decode()
    assert "'=HYPERLINK" in content


# --- Query counts -------------------------------------------------------------------------------


def assessed_batch(count, unit, questionnaire):
    initiatives = InitiativeFactory.create_batch(count, business_unit=unit)
    now = timezone.now()
    RiskAssessment.objects.bulk_create(
        RiskAssessment(
            initiative=initiative,
            questionnaire=questionnaire,
            status=AssessmentStatus.COMPLETED,
            is_current=True,
            computed_tier=1 + index % 3,
            completed_at=now,
        )
        for index, initiative in enumerate(initiatives)
    )
    gov = Control.objects.get(code="GOV-01")
    ControlResult.objects.bulk_create(
        ControlResult(initiative=initiative, control=gov, status="passing")
        for initiative in initiatives
    )


@pytest.mark.parametrize("persona", ["member", "executive"])
def test_risk_register_query_count_does_not_grow_with_rows(
    client, persona, member_a, executive, unit_a, django_assert_num_queries
):
    questionnaire = services.active_questionnaire()
    client.force_login(member_a if persona == "member" else executive)
    register = reverse("governance:risk_register")
    assessed_batch(5, unit_a, questionnaire)
    with CaptureQueriesContext(connection) as five:
        assert len(client.get(register).context["rows"]) == 5
    assessed_batch(45, unit_a, questionnaire)
    with django_assert_num_queries(len(five.captured_queries)):
        response = client.get(register, {"ordering": "-tier"})
    assert len(response.context["rows"]) == 25


def add_controls(count, start):
    controls = Control.objects.bulk_create(
        Control(code=f"EXTRA-{start + index:03}", title="Extra control", kind=ControlKind.MANUAL)
        for index in range(count)
    )
    ControlRequirement.objects.bulk_create(
        ControlRequirement(control=control, gate="pilot", minimum_tier=1) for control in controls
    )


def test_controls_checklist_query_count_does_not_grow_with_controls(
    client, initiative, member_a, coe_reviewer, django_assert_num_queries
):
    assess(initiative, member_a, CREDIT_SCORING)
    client.force_login(coe_reviewer)
    checklist = url("controls", initiative)
    add_controls(5, 0)
    # The first view creates the new controls' results (gate_blockers evaluates them); the
    # page's own cost is what must stay constant.
    client.get(checklist)
    with CaptureQueriesContext(connection) as few:
        assert client.get(checklist).status_code == 200
    add_controls(45, 5)
    services.controls_evaluate(initiative=initiative)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(checklist)
    assert len(response.context["rows"]) == Control.objects.count()
