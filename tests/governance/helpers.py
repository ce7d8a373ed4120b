"""Questionnaire answers and builders of assessed initiatives and approval requests, shared by
the governance, portfolio and browser tests (additions to tests/factories.py)."""

import datetime

from django.utils import timezone

from governance.approvals import policies
from governance.approvals import services as engine
from governance.approvals.models import ApprovalPolicy
from governance.risk import controls
from governance.risk import services as risk
from governance.risk.models import Control
from tests.factories import InitiativeFactory

# Answers to the default questionnaire (governance/defaults.py).
# An internal advisory tool: Tier 1, and no control blocks the pilot gate.
LOW_RISK = {
    "data_sensitivity": "internal",
    "decision_autonomy": "advisory",
    "affected_people": ["internal_staff"],
    "rights_impacting": "no",
    "safety_impacting": "no",
    "annex_iii_domain": ["none"],
    "prohibited_practice": ["none"],
    "generative_ai": "no",
    "genai_exposure": ["none"],
    "third_party_model": "no",
    "scale": 10,
}
# Confidential data, a human on the loop: Tier 2, and no control blocks the pilot gate.
TIER_2 = {**LOW_RISK, "data_sensitivity": "confidential", "decision_autonomy": "human_on_the_loop"}
# Rights-impacting: Tier 3 (high risk).
TIER_3 = {**LOW_RISK, "rights_impacting": "yes"}
# Personal data: Tier 2, and the privacy control PRIV-01 blocks the pilot gate.
PERSONAL_DATA = {**LOW_RISK, "data_sensitivity": "personal"}

# A customer-facing credit-scoring LLM: Annex III (credit scoring) and rights-impacting.
CREDIT_SCORING = {
    "data_sensitivity": "personal",
    "decision_autonomy": "human_in_the_loop",
    "affected_people": ["customers"],
    "rights_impacting": "yes",
    "safety_impacting": "no",
    "annex_iii_domain": ["essential_services"],
    "prohibited_practice": ["none"],
    "generative_ai": "customer_facing",
    "genai_exposure": ["untrusted_input"],
    "third_party_model": "yes",
    "scale": 250000,
}


def assess(initiative, actor, answers=LOW_RISK, **changes):
    """Complete a risk assessment of ``initiative`` by ``actor`` with ``answers`` (updated by
    ``changes``, question key → answer); returns the completed assessment."""
    draft = risk.assessment_start(actor=actor, initiative=initiative)
    risk.assessment_answer(actor=actor, assessment=draft, answers={**answers, **changes})
    return risk.assessment_complete(actor=actor, assessment=draft)


def assessed(unit, owner, answers=TIER_2, stage="proposed", **fields):
    """An initiative of ``unit`` owned by ``owner`` with a completed risk assessment (Tier 2
    unless ``answers`` say otherwise); ``fields`` go to the initiative."""
    initiative = InitiativeFactory(
        business_unit=unit, accountable_owner=owner, stage=stage, **fields
    )
    assess(initiative, owner, answers)
    initiative.refresh_from_db()
    return initiative


def waive_controls(initiative, actor, codes, days=30):
    """Waive the controls ``codes`` of ``initiative`` for ``days`` (evidence accepted offline);
    ``actor`` needs the right to waive, e.g. a risk officer."""
    for code in codes:
        controls.control_waive(
            actor=actor,
            initiative=initiative,
            control=Control.objects.get(code=code),
            expires_on=timezone.localdate() + datetime.timedelta(days=days),
            reason="Evidence accepted offline for this scenario.",
        )


def submitted(unit, owner, gate="pilot", **fields):
    """An approval request for ``gate`` of a new initiative built by ``assessed``."""
    initiative = assessed(unit, owner, **fields)
    return engine.request_submit(actor=owner, initiative=initiative, gate=gate)


def two_approval_pilot_policy(admin):
    """Revise the Tier 2 pilot policy to one step needing two CoE reviewers' approvals."""
    policy = ApprovalPolicy.objects.get(tier=2, gate="pilot", is_active=True)
    return policies.policy_revise(
        actor=admin,
        policy=policy,
        steps=[{"name": "Panel", "role": "coe_reviewer", "approvals": 2, "sla_hours": 24}],
    )


def submitted_by_member_for_reviewer_owner(unit, submitter, reviewer_owner, gate="pilot"):
    """A request for ``gate`` of an initiative whose accountable owner is ``reviewer_owner`` (a
    CoE reviewer), submitted by ``submitter``, a member of its business unit, so only the
    owner rule (not the submitter rule) keeps the owner from deciding."""
    initiative = assessed(unit, reviewer_owner)
    return engine.request_submit(actor=submitter, initiative=initiative, gate=gate)


OWN_OR_LEAD = "You own or lead this initiative, so you cannot decide on its requests."


def separation_of_duties_cases(unit, owner, coe_reviewer, reviewer2, executive):
    """(person, pending request, reason) for each decision that separation of duties or the
    step's role refuses: a reviewer deciding on their own request, the accountable owner (a
    reviewer, not the submitter), the technical lead or the submitter deciding, and an
    executive on a CoE reviewer's step. ``owner`` is a member of ``unit``."""
    own = submitted(unit, coe_reviewer)  # a reviewer submitting their own initiative
    owned = submitted_by_member_for_reviewer_owner(unit, owner, reviewer2)
    led = submitted(unit, owner, technical_lead=reviewer2)
    return [
        (coe_reviewer, own, "You submitted this request, so you cannot decide on it."),
        (reviewer2, owned, OWN_OR_LEAD),
        (reviewer2, led, OWN_OR_LEAD),
        (owner, led, "You submitted this request, so you cannot decide on it."),
        (executive, led, "This step needs CoE reviewer."),
    ]


def overflowing_tables(document) -> list[tuple[int, float]]:
    """(page, points past the right margin) of every table wider than its page's content
    area. WeasyPrint's page boxes are not public API, but the layout is only known there."""
    from weasyprint.formatting_structure.boxes import TableBox

    found = []
    for number, page in enumerate(document.pages, start=1):
        page_box = page._page_box
        right = page_box.content_box_x() + page_box.width
        for box in page_box.descendants():
            if isinstance(box, TableBox):
                overflow = box.border_box_x() + box.border_width() - right
                if overflow > 0.5:
                    found.append((number, round(overflow, 1)))
    return found
