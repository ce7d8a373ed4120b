"""Scaling-barrier assessments: the write (``barrier_assess``), the reads behind the
per-initiative form and the BU × barrier heatmap, and the coverage indicator.

Each initiative scores each of the six barriers 1–5 (5 = severe) with a note. The heatmap
averages the scores per owning business unit and barrier in one aggregate query, over the
initiatives the reader may see.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from core.audit import record_event
from core.choices import Role
from core.permissions import has_any_role
from portfolio.initiatives.models import Initiative
from portfolio.initiatives.permissions import can_edit_initiative
from portfolio.scaling.choices import Barrier
from portfolio.scaling.models import BarrierAssessment

SCORES = range(1, 6)

SCORE_LABELS = {1: "minor", 2: "low", 3: "moderate", 4: "high", 5: "severe"}

# Besides the initiative's own editors, CoE staff assess barriers across business units.
BARRIER_ASSESSOR_ROLES = frozenset({Role.COE_REVIEWER, Role.COE_ADMIN, Role.ADMIN})

HEATMAP_DEFINITION = (
    "Average barrier score (1 = minor, 5 = severe) of the assessed initiatives each business "
    "unit owns, per barrier. Retired, rejected and merged initiatives are left out; an empty "
    "cell means no initiative of that unit has been assessed on that barrier."
)

COVERAGE_DEFINITION = (
    "Share of active initiatives past draft (not retired, rejected or merged) with a score "
    "on all six scaling barriers."
)


def can_assess_barriers(user, initiative: Initiative) -> bool:
    return can_edit_initiative(user, initiative) or has_any_role(user, BARRIER_ASSESSOR_ROLES)


def _validated(barrier, score) -> tuple[str, int]:
    if barrier not in Barrier.values:
        raise ValidationError({"barrier": f"Unknown barrier {barrier!r}."})
    if isinstance(score, bool) or not isinstance(score, int) or score not in SCORES:
        raise ValidationError({"score": "Score the barrier from 1 (minor) to 5 (severe)."})
    return barrier, score


def barrier_assess(
    *, actor, initiative: Initiative, barrier: str, score: int, note: str = ""
) -> BarrierAssessment:
    """Record (or change) the initiative's score and note on one barrier.

    Allowed to the initiative's editors and CoE staff. Writes one ``barrier.assessed`` audit
    event when something changed, none when the score and note are the same.
    """
    barrier, score = _validated(barrier, score)
    if not can_assess_barriers(actor, initiative):
        raise PermissionDenied("You cannot assess this initiative's scaling barriers.")
    note = (note or "").strip()
    with transaction.atomic():
        locked = _locked(initiative, barrier)
        if locked is None:
            try:
                with transaction.atomic():
                    created = BarrierAssessment.objects.create(
                        initiative=initiative,
                        barrier=barrier,
                        score=score,
                        note=note,
                        assessed_by=actor,
                    )
            except IntegrityError:
                # Someone assessed the same barrier meanwhile: change theirs instead.
                locked = _locked(initiative, barrier)
            else:
                _record(actor, created, before={}, after={"score": score, "note": note})
                return created
        if (locked.score, locked.note) == (score, note):
            return locked
        before = {"score": locked.score, "note": locked.note}
        locked.score, locked.note, locked.assessed_by = score, note, actor
        locked.save(update_fields=["score", "note", "assessed_by", "assessed_at"])
        _record(actor, locked, before=before, after={"score": score, "note": note})
        return locked


def barriers_assess(*, actor, initiative: Initiative, scores: dict) -> list[BarrierAssessment]:
    """Assess several barriers at once (the form's six rows), all or nothing.

    ``scores`` maps a barrier to ``(score, note)``; barriers left out are not touched.
    """
    with transaction.atomic():
        return [
            barrier_assess(actor=actor, initiative=initiative, barrier=barrier, score=s, note=n)
            for barrier, (s, n) in scores.items()
        ]


def _locked(initiative, barrier) -> BarrierAssessment | None:
    return (
        BarrierAssessment.objects.select_for_update()
        .filter(initiative=initiative, barrier=barrier)
        .first()
    )


def _record(actor, assessment: BarrierAssessment, *, before: dict, after: dict) -> None:
    record_event(
        actor=actor,
        action="barrier.assessed",
        target=assessment,
        before=before,
        after={"initiative": assessment.initiative_id, "barrier": assessment.barrier, **after},
    )


HEATMAP_TITLE = "Average scaling-barrier score by business unit"
