"""Risk assessments for the demo organisation, made through the governance services.

Answers are derived from each initiative's own fields (data, autonomy, AI type, sourcing) plus
a deterministic sprinkle of Annex III and rights-impacting uses, so the risk register shows
every tier, a few overrides and some unassessed drafts.
"""

import random

from django.contrib.auth import get_user_model

from governance.risk import services
from governance.risk.models import RiskAssessment
from portfolio.initiatives.choices import Stage
from portfolio.initiatives.models import Initiative

SEED = "keel-demo-risk"
DATA = {
    "public": "public",
    "internal": "internal",
    "confidential": "confidential",
    "personal": "personal",
    "special_category": "special_category",
}
AUTONOMY = {
    "advisory": "advisory",
    "human_in_the_loop": "human_in_the_loop",
    "human_on_the_loop": "human_on_the_loop",
    "fully_automated": "fully_automated",
}
ANNEX_III_BY_UNIT = {
    "RETAIL": "essential_services",
    "COMM": "essential_services",
    "INSURE": "essential_services",
    "OPS": "employment",
    "TECH": "critical_infrastructure",
}


def demo_answers(initiative: Initiative, rng: random.Random) -> dict:
    generative = initiative.ai_type in ("generative", "agentic")
    customer_facing = initiative.category in ("high_volume_decisions", "generation")
    high_risk_use = rng.random() < 0.18 and initiative.business_unit.code in ANNEX_III_BY_UNIT
    return {
        "data_sensitivity": DATA.get(initiative.data_sensitivity, "internal"),
        "decision_autonomy": AUTONOMY.get(initiative.autonomy_level, "advisory"),
        "affected_people": ["customers"] if customer_facing else ["internal_staff"],
        "rights_impacting": "yes" if high_risk_use else "no",
        "safety_impacting": "no",
        "annex_iii_domain": [ANNEX_III_BY_UNIT[initiative.business_unit.code]]
        if high_risk_use
        else ["none"],
        "prohibited_practice": ["none"],
        "generative_ai": ("customer_facing" if customer_facing else "internal")
        if generative
        else "no",
        "genai_exposure": (
            ["untrusted_input", "output_leakage"] if customer_facing else ["output_leakage"]
        )
        if generative
        else ["none"],
        "third_party_model": "yes" if initiative.sourcing in ("vendor", "both") else "no",
        "scale": rng.choice([200, 5_000, 50_000, 250_000, 2_000_000]),
    }


def seed_risk_assessments() -> dict:
    """Assess every demo initiative past draft that has no assessment yet (idempotent).

    One rejected initiative is assessed as a prohibited practice (Tier 4) and two are
    overridden by the demo risk officer, so every state appears in the demo.
    """
    rng = random.Random(SEED)
    risk_officer = get_user_model().objects.filter(username="risk").first()
    assessed = set(RiskAssessment.objects.values_list("initiative_id", flat=True))
    candidates = (
        Initiative.objects.filter(external_id__startswith="demo-")
        .exclude(stage=Stage.DRAFT)
        .exclude(pk__in=assessed)
        .select_related("business_unit", "accountable_owner")
        .order_by("reference")
    )
    counts = {"risk_assessments": 0, "overrides": 0}
    prohibited_done = RiskAssessment.objects.filter(computed_tier=4).exists()
    for initiative in candidates:
        answers = demo_answers(initiative, rng)
        if not prohibited_done and initiative.stage == Stage.REJECTED:
            answers["prohibited_practice"] = ["emotion_recognition"]
            prohibited_done = True
        owner = initiative.accountable_owner
        draft = services.assessment_start(actor=owner, initiative=initiative)
        services.assessment_answer(actor=owner, assessment=draft, answers=answers)
        completed = services.assessment_complete(actor=owner, assessment=draft)
        counts["risk_assessments"] += 1
        override = risk_officer and counts["overrides"] < 2 and completed.computed_tier == 2
        if override and rng.random() < 0.3:
            services.assessment_override(
                actor=risk_officer,
                assessment=completed,
                tier=3,
                justification="Outputs feed a regulated customer decision downstream; "
                "treated as high risk by the model-risk committee.",
            )
            counts["overrides"] += 1
    return counts
