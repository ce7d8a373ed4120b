"""Inherent and residual risk (issue 19, item 4).

The **inherent** score is the questionnaire's score of the current assessment
(``RiskAssessment.score``, computed by ``governance.risk.scoring``); it alone, with the
questionnaire's floors and an officer's override, drives the tier, as before.

The **residual** score is what remains after the controls that work. The rule
(``RESIDUAL_DEFINITION``, shown on the dashboard's definitions page and in
docs/architecture.md):

    residual = max(inherent − Σ mitigation weights, ⌈inherent ÷ 2⌉)

where the sum runs over the initiative's control results that are *required now* and
*passing* (not pending, failing, waived or not applicable: a waiver or "not applicable"
removes no risk), each contributing its control's ``mitigation_weight`` (points; 1 unless the
library says otherwise). The floor keeps at least half the inherent risk (rounded up): controls
reduce risk, they never remove it. No current assessment: neither score.

Residual scores are computed when read (SQL for the register, one query for a page), never
stored, so a control changing status is reflected at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, F, IntegerField, OuterRef, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest

from governance.risk.choices import ResultStatus
from governance.risk.models import ControlResult, RiskAssessment

RESIDUAL_DEFINITION = (
    "Inherent risk score: the current risk assessment's questionnaire score (the sum of its "
    "answers' weights); with the questionnaire's floors and any override it sets the tier, "
    "and the residual score never changes the tier. Residual risk score = the larger of "
    "(inherent score − the mitigation weights of the controls that are required now and "
    "passing) and half the inherent score rounded up. Each control has a mitigation weight "
    "in points (1 unless the control library says otherwise); pending, failing, waived and "
    "not-applicable controls remove nothing. No current assessment: no scores."
)


def residual_score(inherent: int | None, mitigation: int) -> int | None:
    """The rule above, for one initiative: ``mitigation`` is the sum of the weights of its
    required, passing controls."""
    if inherent is None:
        return None
    return max(inherent - mitigation, (inherent + 1) // 2)


def passing_mitigation(initiative_ref: str = "pk"):
    """Σ mitigation weights of the initiative's required, passing control results, 0 for
    none (a correlated subquery; ``initiative_ref`` names the initiative's id column)."""
    weights = (
        ControlResult.objects.filter(
            initiative=OuterRef(initiative_ref),
            is_required=True,
            status=ResultStatus.PASSING,
        )
        .order_by()
        .values("initiative")
        .annotate(total=Sum("control__mitigation_weight"))
        .values("total")
    )
    return Coalesce(Subquery(weights, output_field=IntegerField()), Value(0))


def residual_expression(inherent: str, mitigation: str):
    """SQL of ``residual_score`` over two annotated columns (NULL without an inherent score)."""
    return Case(
        When(**{f"{inherent}__isnull": True}, then=Value(None)),
        default=Greatest(F(inherent) - F(mitigation), (F(inherent) + Value(1)) / Value(2)),
        output_field=IntegerField(),
    )


def with_residual(queryset, *, inherent: str, initiative_ref: str = "pk"):
    """``queryset`` annotated with ``mitigation`` and ``residual_score`` from the
    ``inherent`` column already on it."""
    return queryset.annotate(mitigation=passing_mitigation(initiative_ref)).annotate(
        residual_score=residual_expression(inherent, "mitigation")
    )


@dataclass(frozen=True)
class RiskScores:
    inherent: int | None
    mitigation: int
    residual: int | None


def initiative_scores(initiative, assessment: RiskAssessment | None) -> RiskScores:
    """Inherent and residual score of one initiative with its current ``assessment`` (one
    query for the mitigation)."""
    if assessment is None:
        return RiskScores(None, 0, None)
    mitigation = (
        ControlResult.objects.filter(
            initiative=initiative, is_required=True, status=ResultStatus.PASSING
        ).aggregate(total=Sum("control__mitigation_weight"))["total"]
        or 0
    )
    return RiskScores(assessment.score, mitigation, residual_score(assessment.score, mitigation))
