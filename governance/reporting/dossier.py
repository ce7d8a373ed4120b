"""An initiative's governance dossier: everything an auditor asks for, in one read.

Contract:

- ``dossier_data(*, user, initiative) -> dict``: the context of
  ``templates/governance/dossier_pdf.html``, read with the user's scope (the caller got the
  initiative through ``initiative_get``): owners (accountable owner, technical lead,
  executive sponsor), purpose and outputs, data and AI facts, the current risk assessment's
  answers (question text → answer text) with the computed tier, its rationale and any
  override (tier, justification, who, when), the assessment history, controls with status,
  evidence file names and reviewer, approval requests with every decision and escalation,
  linked models with versions and status, GPU allocations with their cost
  (``inventory.usage.selectors.initiative_gpu_summary``), deployments, stage history, and the
  initiative's audit history (``core.audit`` events about it, oldest first). A fixed number
  of queries whatever the number of rows.
- ``render_dossier_html(*, user, initiative) -> str``: the rendered template.

The initiative is resolved again through ``initiative_get`` here, so no caller (a view, the
report task, a command) can render the dossier of an initiative the user may not see: that
is a 404, as on the initiative's page. Everything else is read through the scoped initiative;
GPU allocations and costs are further limited to the user's units exactly as on the
initiative's GPU panel, and the audit history only names rows the dossier shows.
"""

from decimal import Decimal
from pathlib import PurePosixPath

from django.db.models import Prefetch, Q
from django.template.loader import render_to_string
from django.utils import timezone

from core.audit import object_type_of
from core.customfields import detail_rows
from core.models import AuditEvent
from governance.approvals.models import ApprovalRequest
from governance.approvals.selectors import timeline_of, timeline_prefetches
from governance.incidents.selectors import initiative_incidents
from governance.risk import scoring
from governance.risk.choices import Gate, ResultStatus
from governance.risk.models import ControlResult, RiskAssessment
from governance.risk.residual import initiative_scores
from governance.risk.selectors import assessment_history, controls_checklist
from governance.risk.services import questionnaire_specs
from inventory.capacity.models import GPURequest
from inventory.capacity.selectors import requests_list
from inventory.finops.value import COST_MONTHS, initiative_value
from inventory.gpu.models import GPUAllocation
from inventory.registry.models import ModelVersion
from inventory.registry.selectors import scope_models
from inventory.usage.selectors import initiative_gpu_summary
from portfolio.initiatives.models import Deployment, Initiative
from portfolio.initiatives.selectors import (
    initiative_deployments,
    initiative_get,
    initiative_stage_history,
)
from portfolio.scaling.models import BarrierAssessment
from portfolio.scaling.selectors import initiative_barrier_rows

TEMPLATE = "governance/reporting/dossier_pdf.html"
NOT_ANSWERED = "Not answered"


def dossier_data(*, user, initiative: Initiative) -> dict:
    """The dossier's context (see the module docstring); about 20 queries for any size."""
    initiative = initiative_get(user=user, pk=initiative.pk)
    today = timezone.localdate()
    # Completed and superseded assessments, newest first (a draft is work in progress).
    assessments = list(assessment_history(initiative=initiative))
    current = next((a for a in assessments if a.is_current), None)
    tier = current.effective_tier if current else None
    controls = _control_rows(initiative, tier, today)
    requests = _approval_requests(initiative)
    gpu = initiative_gpu_summary(initiative, user=user, today=today)
    deployments = list(initiative_deployments(initiative=initiative))
    barriers = initiative_barrier_rows(initiative=initiative)
    audit_events = _audit_events(
        initiative,
        user=user,
        assessments=assessments,
        controls=controls,
        requests=requests,
        deployments=deployments,
        allocations=gpu.allocations,
        barriers=[row.assessment for row in barriers if row.assessment is not None],
    )
    return {
        "initiative": initiative,
        "generated_at": timezone.now(),
        # Whose scope the dossier was read with (a BU user sees only their units' GPUs).
        "prepared_for": user,
        "tier": tier,
        "tier_label": scoring.TIER_LABELS.get(tier, "Not assessed"),
        "assessment": current,
        "risk_scores": initiative_scores(initiative, current),
        "value": initiative_value(initiative, user=user, today=today),
        "value_months": COST_MONTHS,
        "answers": _answer_rows(current),
        "assessment_history": assessments,
        "controls": controls,
        "requests": requests,
        "models": _models(initiative, user),
        "gpu": gpu,
        "gpu_total_cost": sum((month["cost"] for month in gpu.monthly_cost), Decimal("0.00")),
        "deployments": deployments,
        "stage_history": list(initiative_stage_history(initiative=initiative)),
        "barriers": barriers,
        "incidents": initiative_incidents(user=user, initiative=initiative),
        "audit_events": audit_events,
        # The custom fields the reader sees, then retired values (core.customfields).
        "custom_fields": detail_rows(initiative, user=user),
    }


def render_dossier_html(*, user, initiative: Initiative) -> str:
    """The dossier as HTML for WeasyPrint (``reports.render_dossier`` makes the PDF)."""
    return render_to_string(TEMPLATE, dossier_data(user=user, initiative=initiative))


def _answer_rows(assessment: RiskAssessment | None) -> list[dict]:
    """(question text, answer in words) for every question of the assessment's
    questionnaire version, in questionnaire order."""
    if assessment is None:
        return []
    return [
        {
            "key": question.key,
            "question": question.text,
            "answer": answer_text(question, assessment.answers.get(question.key)),
        }
        for question in questionnaire_specs(assessment.questionnaire)
    ]


def answer_text(question: scoring.QuestionSpec, answer) -> str:
    """An answer as the person chose it: the choice labels, or the number as entered."""
    if not scoring.is_answered(question, answer):
        return NOT_ANSWERED
    if question.answer_type == scoring.NUMBER:
        return _number_text(answer)
    labels = [choice.label for choice in scoring.selected_choices(question, answer)]
    if labels:
        return "; ".join(labels)
    # A choice key the questionnaire no longer knows: show what was stored, not nothing.
    return ", ".join(map(str, answer)) if isinstance(answer, list) else str(answer)


def _number_text(value) -> str:
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    return f"{number.normalize():f}" if number == number.to_integral_value() else str(value)


def _control_rows(initiative: Initiative, tier: int | None, today) -> list[dict]:
    """The controls checklist (``governance.risk.selectors.controls_checklist``) with what the
    dossier prints for each: gate labels, required now, the evidence file's name and whether
    a waiver has lapsed."""
    rows = controls_checklist(initiative=initiative, tier=tier)
    for row in rows:
        result: ControlResult | None = row["result"]
        row["gate_labels"] = [Gate(value).label for value in row["gates"]]
        row["is_required"] = bool(result and result.is_required)
        row["evidence_name"] = (
            PurePosixPath(result.evidence_file.name).name
            if result is not None and result.evidence_file
            else ""
        )
        row["waiver_expired"] = bool(
            result
            and result.status == ResultStatus.WAIVED
            and result.waiver_expires_on
            and result.waiver_expires_on < today
        )
    return rows


def _approval_requests(initiative: Initiative) -> list[dict]:
    """The initiative's approval requests, oldest first, each with its timeline
    (``approval_selectors.timeline_of``) from prefetched rows: three queries for any number
    of requests. The requests of a visible initiative are all visible
    (``approval_selectors.request_list``)."""
    requests = (
        ApprovalRequest.objects.filter(initiative=initiative)
        .select_related("submitted_by")
        .prefetch_related(*timeline_prefetches())
        .order_by("submitted_at", "pk")
    )
    return [
        {
            "request": request,
            "timeline": timeline_of(request.decisions.all(), request.escalations.all()),
        }
        for request in requests
    ]


def _models(initiative: Initiative, user) -> list:
    """Linked models the user may see (all of them, since they serve a visible initiative;
    scoped anyway), with their versions newest first."""
    models = scope_models(
        initiative.ai_models.select_related("business_unit", "owner", "vendor"), user
    ).prefetch_related(
        Prefetch("versions", queryset=ModelVersion.objects.order_by("-created_at", "-pk"))
    )
    return list(models.order_by("name", "pk"))


def _audit_events(
    initiative: Initiative,
    *,
    user,
    assessments,
    controls,
    requests,
    deployments,
    allocations,
    barriers,
) -> list[AuditEvent]:
    """Audit events about the initiative and the rows of it the dossier shows (assessments,
    control results, approval requests, deployments, barrier scores, and the GPU allocations
    and GPU requests the user may see), oldest first: two queries. Models are left out:
    they are shared, and their events concern every initiative they serve."""
    gpu_requests = requests_list(user=user).filter(initiative=initiative)
    about = {
        Initiative: [initiative.pk],
        RiskAssessment: [assessment.pk for assessment in assessments],
        ControlResult: [row["result"].pk for row in controls if row["result"] is not None],
        ApprovalRequest: [row["request"].pk for row in requests],
        Deployment: [deployment.pk for deployment in deployments],
        BarrierAssessment: [barrier.pk for barrier in barriers],
        GPUAllocation: [allocation.pk for allocation in allocations],
        GPURequest: list(gpu_requests.order_by().values_list("pk", flat=True)),
    }
    condition = Q()
    for model, ids in about.items():
        if ids:
            condition |= Q(object_type=object_type_of(model), object_id__in=[str(pk) for pk in ids])
    return list(AuditEvent.objects.filter(condition).select_related("actor").order_by("sequence"))
