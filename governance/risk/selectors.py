"""Governance reads, scoped through the portfolio's initiative scoping."""

import hashlib
from datetime import timedelta

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from governance.risk.choices import (
    ResultStatus,
)
from governance.risk.models import (
    Control,
    ControlRequirement,
    ControlResult,
    Questionnaire,
    RiskAssessment,
)
from governance.risk.residual import with_residual
from portfolio.initiatives.models import Initiative
from portfolio.initiatives.selectors import initiative_get, scope_initiatives


def current_assessment_value(field: str):
    """The current risk assessment's ``field`` for each initiative row (a correlated subquery)."""
    return Subquery(
        RiskAssessment.objects.filter(initiative=OuterRef("pk"), is_current=True).values(field)[:1]
    )


def _compliance_conditions(prefix: str = "control_results__"):
    """(required, satisfied, failing) conditions over an initiative's control results.

    The compliance score is satisfied / required: a result counts when it is required for
    the initiative now (its tier, the gates passed and the next one), and it is satisfied
    when passing, not applicable, or waived with an unexpired waiver.
    """
    today = timezone.localdate()
    required = Q(**{f"{prefix}is_required": True})
    satisfied = required & (
        Q(**{f"{prefix}status__in": [ResultStatus.PASSING, ResultStatus.NOT_APPLICABLE]})
        | Q(**{f"{prefix}status": ResultStatus.WAIVED, f"{prefix}waiver_expires_on__gte": today})
    )
    failing = required & (
        Q(**{f"{prefix}status": ResultStatus.FAILING})
        | Q(**{f"{prefix}status": ResultStatus.WAIVED, f"{prefix}waiver_expires_on__lt": today})
    )
    return required, satisfied, failing


def risk_register(*, user) -> QuerySet[Initiative]:
    """Visible initiatives annotated with their current tier (computed, override, effective),
    assessment date, inherent and residual risk score (``governance.risk.residual``) and
    compliance counts — a fixed number of queries for any row count."""
    required, satisfied, failing = _compliance_conditions()
    register = (
        scope_initiatives(
            Initiative.objects.select_related("business_unit", "accountable_owner"), user
        )
        .annotate(
            computed_tier=current_assessment_value("computed_tier"),
            override_tier=current_assessment_value("override_tier"),
            assessed_at=current_assessment_value("completed_at"),
            tier_provisional=current_assessment_value("provisional"),
            inherent_score=current_assessment_value("score"),
            controls_total=Count("control_results", filter=required, distinct=True),
            controls_satisfied=Count("control_results", filter=satisfied, distinct=True),
            controls_failing=Count("control_results", filter=failing, distinct=True),
        )
        .annotate(effective_tier=Coalesce(F("override_tier"), F("computed_tier")))
    )
    # Inherent (questionnaire) and residual (after passing required controls) risk scores.
    return with_residual(register, inherent="inherent_score")


def compliance_by_business_unit(*, user) -> list[dict]:
    """Per visible business unit: required controls, satisfied, failing and the score (%),
    aggregated in SQL over the initiatives the user may see."""
    required, satisfied, failing = _compliance_conditions(prefix="")
    visible = scope_initiatives(Initiative.objects.all(), user).values("pk")
    rows = (
        ControlResult.objects.filter(initiative__in=visible)
        .values("initiative__business_unit__code", "initiative__business_unit__name")
        .annotate(
            required=Count("pk", filter=required),
            satisfied=Count("pk", filter=satisfied),
            failing=Count("pk", filter=failing),
        )
        .filter(required__gt=0)
        .order_by("initiative__business_unit__name")
    )
    return [
        {
            "code": row["initiative__business_unit__code"],
            "name": row["initiative__business_unit__name"],
            "required": row["required"],
            "satisfied": row["satisfied"],
            "failing": row["failing"],
            "score": round(100 * row["satisfied"] / row["required"]),
        }
        for row in rows
    ]


def assessment_for(
    *, user, initiative_pk
) -> tuple[Initiative, RiskAssessment | None, RiskAssessment | None]:
    """(initiative, current assessment, draft assessment) for a visible initiative."""
    initiative = initiative_get(user=user, pk=initiative_pk)
    assessments = list(
        RiskAssessment.objects.filter(initiative=initiative)
        .filter(Q(is_current=True) | Q(status="draft"))
        .select_related("questionnaire", "assessed_by", "overridden_by")
    )
    current = next((a for a in assessments if a.is_current), None)
    draft = next((a for a in assessments if a.status == "draft"), None)
    return initiative, current, draft


def questionnaire_with_questions(questionnaire: Questionnaire):
    return questionnaire.questions.prefetch_related("choices")


def assessment_history(*, initiative: Initiative):
    return (
        RiskAssessment.objects.filter(initiative=initiative)
        .exclude(status="draft")
        .select_related("questionnaire", "assessed_by", "overridden_by")
    )


def controls_checklist(*, initiative: Initiative, tier: int | None):
    """Every active control with this initiative's result and the gates requiring it at its
    tier: a fixed number of queries whatever the number of controls."""
    controls = (
        Control.objects.filter(is_active=True).prefetch_related("requirements").order_by("code")
    )
    by_control = {
        result.control_id: result
        for result in ControlResult.objects.filter(initiative=initiative).select_related("reviewer")
    }
    rows = []
    for control in controls:
        gates = [
            requirement.gate
            for requirement in control.requirements.all()
            if requirement.minimum_tier <= (tier or 1)
        ]
        rows.append({"control": control, "result": by_control.get(control.pk), "gates": gates})
    return rows


def control_result_get(*, user, initiative_pk, control_code) -> ControlResult:
    """A control result of a visible initiative, or 404."""
    initiative = initiative_get(user=user, pk=initiative_pk)
    return get_object_or_404(
        ControlResult.objects.select_related("control", "initiative"),
        initiative=initiative,
        control__code=control_code,
    )


def control_list() -> QuerySet[Control]:
    return Control.objects.prefetch_related("requirements").order_by("code")


def requirements_for_gate(gate: str) -> QuerySet[ControlRequirement]:
    return ControlRequirement.objects.filter(gate=gate).select_related("control")


REASSESS_AFTER = timedelta(days=365)


def subject_fingerprint(initiative: Initiative) -> str:
    """What an assessment depends on: purpose, outputs, data and linked models."""
    model_ids = sorted(initiative.ai_models.values_list("pk", flat=True))
    subject = "|".join(
        [
            initiative.purpose.strip(),
            initiative.outputs.strip(),
            initiative.data_sensitivity,
            str(initiative.uses_pii),
            initiative.ai_type,
            ",".join(map(str, model_ids)),
        ]
    )
    return hashlib.sha256(subject.encode()).hexdigest()


def reassessment_reasons(assessment: RiskAssessment | None, initiative: Initiative) -> list[str]:
    """Why an initiative needs a (new) assessment; empty when its current one holds."""
    if assessment is None:
        return ["No completed risk assessment."]
    reasons = []
    if assessment.completed_at and timezone.now() - assessment.completed_at > REASSESS_AFTER:
        reasons.append("The assessment is more than 12 months old.")
    if assessment.subject_fingerprint != subject_fingerprint(initiative):
        reasons.append("The purpose, data or models changed since the assessment.")
    return reasons


def current_tier(initiative: Initiative) -> int | None:
    assessment = RiskAssessment.objects.filter(initiative=initiative, is_current=True).first()
    return assessment.effective_tier if assessment else None


def current_tiers(initiative_ids) -> dict[int, int | None]:
    """{initiative id: effective tier of its current assessment} in one query (the tier
    source the inventory uses for models' effective tiers)."""
    rows = RiskAssessment.objects.filter(initiative_id__in=list(initiative_ids), is_current=True)
    return dict(
        rows.annotate(tier=Coalesce("override_tier", "computed_tier")).values_list(
            "initiative_id", "tier"
        )
    )
