"""Governance rules other apps enforce through their extension points."""

from django.core.exceptions import ValidationError

from governance.risk.choices import Tier
from governance.risk.models import RiskAssessment
from portfolio.initiatives.choices import Stage

BEYOND_PROPOSED = frozenset({Stage.PILOT, Stage.PRODUCTION, Stage.SCALED})


def refuse_tier_4_beyond_proposed(initiative, to_stage: str) -> None:
    """A Tier 4 (unacceptable) initiative never moves past proposed."""
    if to_stage not in BEYOND_PROPOSED:
        return
    assessment = RiskAssessment.objects.filter(initiative=initiative, is_current=True).first()
    if assessment is not None and assessment.effective_tier == Tier.UNACCEPTABLE:
        raise ValidationError(
            {
                "stage": f"{initiative.reference} is Tier 4 (unacceptable risk: a prohibited "
                "practice) and cannot move past proposed."
            }
        )
