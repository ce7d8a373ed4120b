"""The governance dossier of one initiative: what it says, the PDF it makes, whose scope it
reads with, its query count, and the button that asks for it (governance/dossier.py)."""

import datetime
import io
import re
from decimal import Decimal

import pytest
import time_machine
import weasyprint
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from pypdf import PdfReader

from core.audit import object_type_of, record_event
from core.choices import Role
from core.models import AuditEvent
from governance.approvals import escalation
from governance.approvals import services as engine
from governance.approvals.models import ApprovalPolicy, ApprovalRequest, Decision, Escalation
from governance.reporting import services as reports
from governance.reporting.dossier import dossier_data, render_dossier_html
from governance.risk import controls
from governance.risk import services as risk
from governance.risk.models import Control, ControlResult, Questionnaire, RiskAssessment
from inventory.gpu.models import GPUAllocation
from inventory.gpu.services import allocation_create
from portfolio.initiatives import services as portfolio
from portfolio.initiatives.models import Deployment, StageChange
from portfolio.initiatives.selectors import initiative_get
from portfolio.scaling import services as barrier_services
from portfolio.scaling.models import BarrierAssessment
from tests.factories import (
    AIModelFactory,
    BusinessUnitFactory,
    GPUAllocationFactory,
    GPUPoolFactory,
    GPUTypeFactory,
    InitiativeFactory,
    UserFactory,
    member,
)
from tests.governance.helpers import LOW_RISK, assess, overflowing_tables, waive_controls
from tests.inventory.helpers import ModelVersionFactory

pytestmark = pytest.mark.django_db

FIRST_COMMENT = "Add the model card before the pilot starts."
RESUBMIT_COMMENT = "Model card added to the repository."
APPROVAL_COMMENT = "Pilot approved with weekly monitoring."
OVERRIDE_JUSTIFICATION = "Claimants are customers: treat it as limited risk at least."
WAIVER_REASON = "Evidence accepted offline for this scenario."


def named(role, unit, username, first, last):
    return member(role, unit, username=username, first_name=first, last_name=last)


@pytest.fixture
def people(unit_a, unit_b):
    return {
        "owner": named(Role.BU_MEMBER, unit_a, "olivia", "Olivia", "Owner"),
        "lead": named(Role.BU_MEMBER, unit_a, "tomas", "Tomas", "Techlead"),
        "sponsor": named(Role.EXECUTIVE, unit_a, "sasha", "Sasha", "Sponsor"),
        "reviewer": named(Role.COE_REVIEWER, unit_a, "rita", "Rita", "Reviewer"),
        "coe_lead": named(Role.COE_ADMIN, unit_a, "colin", "Colin", "Coelead"),
        "risk": named(Role.RISK_OFFICER, unit_a, "rory", "Rory", "Riskofficer"),
        "platform": named(Role.PLATFORM_ENGINEER, unit_a, "pat", "Pat", "Platform"),
        "adopter": named(Role.BU_MEMBER, unit_b, "bella", "Bella", "Adopter"),
        "outsider": named(
            Role.BU_LEAD, BusinessUnitFactory(name="Wealth", code="WEALTH"), "otto", "Otto", "Out"
        ),
    }


@pytest.fixture
def built(people, unit_a, unit_b, settings, tmp_path):
    """An initiative with every section of the dossier filled through the services: two
    assessments (the second overridden), evidence reviewed and a waiver, a pilot request that
    was escalated by SLA, sent back, resubmitted and approved, a deployment, barrier scores,
    a model with a version, and GPU allocations of two units."""
    settings.KEEL_PRIVATE_STORAGE = tmp_path
    owner, reviewer = people["owner"], people["reviewer"]
    start = timezone.now() - datetime.timedelta(days=10)
    initiative = InitiativeFactory(
        business_unit=unit_a,
        accountable_owner=owner,
        technical_lead=people["lead"],
        executive_sponsor=people["sponsor"],
        stage="proposed",
        title="Claims triage assistant",
        problem_statement="Claims wait nine days for a first review.",
        purpose="Route simple claims to fast-track handlers.",
        outputs="A priority score and a suggested queue per claim.",
        data_sensitivity="confidential",
        uses_pii=True,
        sourcing="both",
        ai_type="nlp",
        autonomy_level="human_in_the_loop",
        eu_ai_act_role="deployer",
        jurisdictions="EU, UK, US-CA",
    )
    with time_machine.travel(start, tick=True):
        assess(initiative, owner, LOW_RISK)
        current = assess(initiative, owner, LOW_RISK, scale=40.0)
        risk.assessment_override(
            actor=people["risk"],
            assessment=current,
            tier=2,
            justification=OVERRIDE_JUSTIFICATION,
        )
        result = controls.control_evidence_submit(
            actor=owner,
            initiative=initiative,
            control=Control.objects.get(code="PRIV-01"),
            evidence_file=SimpleUploadedFile("privacy-impact-assessment.pdf", b"%PDF-1.4 DPIA"),
            note="Data protection impact assessment.",
        )
        controls.control_review(actor=reviewer, result=result, status="passing", note="Clean.")
        waive_controls(initiative, people["risk"], ["VEN-01"], days=60)
        request = engine.request_submit(actor=owner, initiative=initiative, gate="pilot")
    with time_machine.travel(start + datetime.timedelta(days=4), tick=True):
        assert escalation.escalate_overdue() == 1
        engine.request_decide(
            actor=reviewer, request=request, outcome="request_changes", comment=FIRST_COMMENT
        )
        engine.request_resubmit(actor=owner, request=request, comment=RESUBMIT_COMMENT)
        engine.request_decide(
            actor=reviewer, request=request, outcome="approve", comment=APPROVAL_COMMENT
        )
    initiative.refresh_from_db()
    assert initiative.stage == "pilot"
    portfolio.deployment_create(
        actor=owner, initiative=initiative, data={"business_unit": unit_b, "status": "planned"}
    )
    barrier_services.barriers_assess(
        actor=owner,
        initiative=initiative,
        scores={"data": (4, "Claims data sits in three systems."), "change": (2, "")},
    )
    model = AIModelFactory(name="claims-triage-gbm", business_unit=unit_a, owner=people["lead"])
    model.initiatives.add(initiative)
    ModelVersionFactory(model=model, version="2.1.0")
    three_days_ago = timezone.localdate() - datetime.timedelta(days=3)
    for unit, pool_name, count, rate in (
        (unit_a, "train-eu-west", "2", "3.50"),
        (unit_b, "adopters-pool", "1", "2.00"),
    ):
        allocation_create(
            actor=people["platform"],
            data={
                "pool": GPUPoolFactory(name=pool_name, hourly_rate=Decimal(rate)),
                "gpu_count": Decimal(count),
                "initiative": initiative,
                "business_unit": unit,
                "purpose": "training",
                "starts_on": three_days_ago,
            },
        )
    return initiative


def rate_cost(gpu_count, hourly_rate) -> Decimal:
    """Rate-based cost of an allocation that started three days ago: 4 days so far."""
    return Decimal(gpu_count) * 24 * 4 * Decimal(hourly_rate)


def events_about(initiative, units=None) -> list[AuditEvent]:
    """Every audit event whose object is the initiative or one of its rows, found from the
    rows themselves (not through the dossier's code), oldest first; GPU allocations only of
    ``units`` when given."""
    allocations = GPUAllocation.objects.filter(initiative=initiative)
    if units is not None:
        allocations = allocations.filter(business_unit__in=units)
    children = [
        (RiskAssessment, RiskAssessment.objects.filter(initiative=initiative)),
        (ControlResult, ControlResult.objects.filter(initiative=initiative)),
        (ApprovalRequest, ApprovalRequest.objects.filter(initiative=initiative)),
        (Deployment, Deployment.objects.filter(initiative=initiative)),
        (BarrierAssessment, BarrierAssessment.objects.filter(initiative=initiative)),
        (GPUAllocation, allocations),
    ]
    wanted = {(object_type_of(initiative), str(initiative.pk))}
    for model, rows in children:
        wanted |= {(object_type_of(model), str(row.pk)) for row in rows}
    return [
        event
        for event in AuditEvent.objects.order_by("sequence")
        if (event.object_type, event.object_id) in wanted
    ]


def test_the_dossier_holds_every_section_an_auditor_asks_for(built, people):
    auditor = people["risk"]
    html = render_dossier_html(user=auditor, initiative=built)

    def shows(*texts):
        for text in texts:
            assert escape(text) in html, text

    def fact(label, value):
        assert f"<tr><td>{escape(label)}</td><td>{escape(value)}</td></tr>" in html, label

    # Cover and owners.
    shows(f"{built.reference} · Claims triage assistant", "Retail Banking (RETAIL)")
    fact("Stage", "Pilot")
    fact("Accountable owner", "Olivia Owner")
    fact("Technical lead", "Tomas Techlead")
    fact("Executive sponsor", "Sasha Sponsor")
    fact("Prepared for", "Rory Riskofficer (what they may see)")
    # Purpose, data and AI facts.
    shows(built.problem_statement, built.purpose, built.outputs)
    fact("Data sensitivity", "Confidential")
    fact("Uses personal data (PII)", "Yes")
    fact("Developed", "Both")
    fact("AI type", "NLP")
    fact("Autonomy and human involvement", "Human in the loop")
    fact("EU AI Act operator role", "Deployer")
    fact("Jurisdictions", "EU, UK, US-CA")
    # Risk: the answers in words, the tiers, the score, the override.
    current = RiskAssessment.objects.get(initiative=built, is_current=True)
    shows("What is the most sensitive data the system uses?", "Advisory: people decide")
    shows("Internal staff")  # a multiple-choice answer's label
    assert "<td>How many people does it affect per year (approximately)?</td><td>40</td>" in html
    shows("Tier 2 · limited", current.get_computed_tier_display(), OVERRIDE_JUSTIFICATION)
    fact("Risk score", str(current.score))
    for line in current.rationale:
        shows(line)
    # The history: both assessments, the first superseded.
    assert RiskAssessment.objects.filter(initiative=built).exclude(status="draft").count() == 2
    shows("Superseded", "(current)")
    # Controls: status, evidence file, reviewer, waiver expiry.
    priv = ControlResult.objects.get(initiative=built, control__code="PRIV-01")
    ven = ControlResult.objects.get(initiative=built, control__code="VEN-01")
    shows("PRIV-01", "privacy-impact-assessment.pdf", "Rita Reviewer", priv.get_status_display())
    shows("VEN-01", f"waiver until {ven.waiver_expires_on:%-d %b %Y}")
    # Approvals: policy, gate, tier, status; every decision and the escalation.
    shows("Pilot gate · Tier 2 · limited · Approved", "CoE review (CoE reviewer)")
    shows(RESUBMIT_COMMENT)
    for outcome, round_number, comment in (
        ("Request changes", 1, FIRST_COMMENT),
        ("Approve", 2, APPROVAL_COMMENT),
    ):
        assert re.search(
            rf"<td>{outcome} · step 1, round {round_number}</td>\s*<td>Rita Reviewer</td>"
            rf"\s*<td>{re.escape(comment)}</td>",
            html,
        ), outcome
    shows("Escalated to level 1 (CoE admin)", "SLA breached")
    assert Decision.objects.filter(request__initiative=built).count() == 2
    # Models, GPUs with cost, deployments, stage history, barriers.
    shows("claims-triage-gbm", "2.1.0", "Development")
    shows("train-eu-west", "adopters-pool")
    total = rate_cost(2, "3.50") + rate_cost(1, "2.00")
    assert f'id="gpu-total">USD {total:,.2f}<' in html
    shows("Insurance", "Planned")  # the deployment to unit_b
    shows("Proposed", "Claims data sits in three systems.", "Data fragmentation")
    assert re.search(r"Data fragmentation</td><td class=\"num\">4<", html)
    # Audit history: every event about the initiative and its children, oldest first.
    expected = events_about(built)
    assert {event.action for event in expected} >= {
        "risk_assessment.completed",
        "risk_assessment.overridden",
        "control.evidence_submitted",
        "control.reviewed",
        "control.waived",
        "approval_request.submitted",
        "approval_request.escalated",
        "approval_request.resubmitted",
        "initiative.stage_changed",
        "deployment.created",
        "barrier.assessed",
        "gpu_allocation.created",
    }
    data = dossier_data(user=auditor, initiative=built)
    assert [event.pk for event in data["audit_events"]] == [event.pk for event in expected]
    positions = [html.index(f'id="audit-{event.sequence}"') for event in expected]
    assert positions == sorted(positions)
    for event in expected:
        shows(event.action)


def test_weasyprint_renders_the_dossier_to_a_multi_page_pdf(built, people):
    html = render_dossier_html(user=people["risk"], initiative=built)
    pdf = PdfReader(io.BytesIO(weasyprint.HTML(string=html).write_pdf()))
    assert len(pdf.pages) > 1
    text = "\n".join(page.extract_text() for page in pdf.pages)
    flat = " ".join(text.split())
    assert built.reference in flat
    assert "Tier 2 · limited" in flat
    assert APPROVAL_COMMENT in flat
    assert "initiative.stage_changed" in flat
    assert f"Page {len(pdf.pages)} of {len(pdf.pages)}" in flat


def test_every_table_of_the_dossier_fits_the_page_width(built, people):
    document = reports.pdf_layout(render_dossier_html(user=people["risk"], initiative=built))
    assert len(document.pages) > 1
    assert overflowing_tables(document) == []


def test_the_pdf_opens_on_its_cover(built, people):
    """Nothing of the templates leaks into the PDF: its first page is the cover. (Django's
    ``{# #}`` comments are one line only; a longer one is printed as text.)"""
    html = render_dossier_html(user=people["risk"], initiative=built)
    assert "{#" not in html and "#}" not in html
    first = PdfReader(io.BytesIO(weasyprint.HTML(string=html).write_pdf())).pages[0]
    assert "Keel · governance dossier" in first.extract_text()


def test_a_user_who_cannot_see_the_initiative_gets_no_dossier(built, people):
    outsider = people["outsider"]
    with pytest.raises(Http404):
        initiative_get(user=outsider, pk=built.pk)
    with pytest.raises(Http404):
        dossier_data(user=outsider, initiative=built)
    with pytest.raises(Http404):
        render_dossier_html(user=outsider, initiative=built)


def test_a_unit_the_initiative_is_deployed_to_sees_only_its_own_gpus(built, people, unit_b):
    adopter = people["adopter"]
    data = dossier_data(user=adopter, initiative=built)
    assert [a.pool.name for a in data["gpu"].allocations] == ["adopters-pool"]
    assert data["gpu_total_cost"] == rate_cost(1, "2.00")
    html = render_dossier_html(user=adopter, initiative=built)
    assert "adopters-pool" in html and "train-eu-west" not in html
    # The audit history names no allocation of another unit.
    expected = events_about(built, units=[unit_b])
    assert [event.pk for event in data["audit_events"]] == [event.pk for event in expected]
    other_unit = GPUAllocation.objects.get(pool__name="train-eu-west")
    assert str(other_unit.pk) not in {
        event.object_id
        for event in data["audit_events"]
        if event.object_type == object_type_of(GPUAllocation)
    }


def make_rows(initiative, count: int) -> None:
    """``count`` rows of every kind the dossier lists, each with its own related rows (users,
    pools, GPU types, units), so any per-row query shows up as a growing count."""
    questionnaire = Questionnaire.objects.get(is_active=True)
    for n in range(count):
        RiskAssessment.objects.create(
            initiative=initiative,
            questionnaire=questionnaire,
            answers=LOW_RISK,
            status="completed" if n == count - 1 else "superseded",
            is_current=n == count - 1,
            computed_tier=1,
            override_tier=2,
            override_justification=OVERRIDE_JUSTIFICATION,
            overridden_by=UserFactory(),
            assessed_by=UserFactory(),
            completed_at=timezone.now() - datetime.timedelta(days=count - n),
        )
    policy = ApprovalPolicy.objects.get(tier=2, gate="pilot", is_active=True)
    for n in range(count):
        request = ApprovalRequest.objects.create(
            initiative=initiative,
            gate="pilot",
            tier=2,
            policy=policy,
            policy_snapshot=policy.snapshot(),
            status="rejected",
            submitted_by=UserFactory(),
            submitted_at=timezone.now(),
            subject_type="counted",
            subject_id=str(n),
        )
        for step in range(count):
            Decision.objects.create(
                request=request,
                round=1,
                step_index=step,
                approver=UserFactory(),
                on_behalf_of=UserFactory(),
                outcome="reject",
                comment=f"Decision {n}.{step}",
                created_at=timezone.now(),
            )
            Escalation.objects.create(
                request=request,
                round=1,
                step_index=step,
                level=1,
                to_role=Role.COE_ADMIN,
                reason="sla",
                raised_by=UserFactory(),
                created_at=timezone.now(),
            )
    for n, control in enumerate(Control.objects.filter(kind="manual")[:count]):
        ControlResult.objects.create(
            initiative=initiative,
            control=control,
            status="failing",
            evidence_file=f"evidence/{initiative.pk}/{control.code}/file-{n}.pdf",
            reviewer=UserFactory(),
            reviewed_at=timezone.now(),
        )
    for n in range(count):
        model = AIModelFactory(business_unit=BusinessUnitFactory(), owner=UserFactory())
        model.initiatives.add(initiative)
        for _ in range(count):
            ModelVersionFactory(model=model)
        GPUAllocationFactory(
            pool=GPUPoolFactory(gpu_type=GPUTypeFactory(name=f"Counted GPU {initiative.pk}-{n}")),
            business_unit=BusinessUnitFactory(),
            initiative=initiative,
        )
        Deployment.objects.create(initiative=initiative, business_unit=BusinessUnitFactory())
        StageChange.objects.create(
            initiative=initiative,
            from_stage="draft",
            to_stage="proposed",
            changed_at=timezone.now(),
            changed_by=UserFactory(),
        )
        record_event(actor=UserFactory(), action="initiative.updated", target=initiative)
    for barrier in ("data", "change", "governance")[:count]:
        BarrierAssessment.objects.create(
            initiative=initiative, barrier=barrier, score=3, assessed_by=UserFactory()
        )


def test_the_dossier_takes_a_fixed_number_of_queries(
    unit_a, coe_reviewer, django_assert_max_num_queries
):
    one = InitiativeFactory(business_unit=unit_a)
    many = InitiativeFactory(business_unit=unit_a)
    make_rows(one, 1)
    make_rows(many, 6)
    with CaptureQueriesContext(connection) as baseline:
        data = dossier_data(user=coe_reviewer, initiative=one)
    assert len(data["audit_events"]) == 1 and len(data["requests"]) == 1
    # 25 before issue 20; + the incidents section and the custom-field definitions (one each).
    assert len(baseline) <= 27
    with django_assert_max_num_queries(len(baseline)):
        data = dossier_data(user=coe_reviewer, initiative=many)
    assert len(data["requests"]) == 6
    assert sum(len(row["timeline"]) for row in data["requests"]) == 6 * 6 * 2
    assert len(data["audit_events"]) == 6 and len(data["models"]) == 6
    assert len(data["gpu"].allocations) == 6 and len(data["assessment_history"]) == 6
    # The template reads only what was fetched: rendering adds no query either.
    with django_assert_max_num_queries(len(baseline)):
        render_dossier_html(user=coe_reviewer, initiative=many)


def test_the_dossier_button_is_on_the_initiative_and_request_pages(client, built, people):
    action = reverse("dashboard:dossier_request", args=[built.pk])
    request = ApprovalRequest.objects.get(initiative=built)
    pages = [built.get_absolute_url(), request.get_absolute_url()]
    client.force_login(people["reviewer"])
    for url in pages:
        page = client.get(url).content.decode()
        form = re.search(rf'<form method="post" action="{action}"[^>]*>(.*?)</form>', page, re.S)
        assert form, url
        assert 'name="csrfmiddlewaretoken"' in form.group(1)
        assert "Governance dossier (PDF)" in form.group(1)
    client.force_login(people["owner"])
    assert action in client.get(pages[0]).content.decode()
    client.force_login(people["outsider"])
    for url in pages:
        assert client.get(url).status_code == 404
