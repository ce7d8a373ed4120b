"""Every portfolio model, gathered so Django finds them under the ``portfolio`` app label.

Each table lives in its context's ``models.py``; import models from there, not from here.
"""

from portfolio.duplicates.models import DuplicateCandidate
from portfolio.initiatives.models import Deployment, Initiative, StageChange, format_reference
from portfolio.roadmap.models import IndicatorValue, RoadmapActivity, RoadmapPhase, SuccessIndicator
from portfolio.scaling.models import BarrierAssessment

__all__ = [
    "BarrierAssessment",
    "Deployment",
    "DuplicateCandidate",
    "IndicatorValue",
    "Initiative",
    "RoadmapActivity",
    "RoadmapPhase",
    "StageChange",
    "SuccessIndicator",
    "format_reference",
]
