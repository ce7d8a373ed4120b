"""Only initiatives in live stages (not draft, rejected, retired or merged) count for a
model's effective tier, its review cadence and the initiative its release gate routes
through; a stage change refreshes the stored tier through the portfolio change hook."""

import datetime
import json

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError

from core.models import AuditEvent
from governance.approvals import services as engine
from governance.approvals.models import ApprovalRequest
from inventory import hooks
from inventory.registry import services
from inventory.registry.choices import ModelStatus, ModelType
from portfolio.initiatives.choices import Stage
from portfolio.initiatives.models import Initiative
from portfolio.initiatives.services import initiative_change_stage
from tests.factories import InitiativeFactory
from tests.governance.helpers import LOW_RISK, TIER_3, assess

pytestmark = pytest.mark.django_db

# Written out stage by stage (not derived from LIVE_STAGES), so a new stage fails here until
# someone decides whether it is live.
COUNTS = {
    Stage.DRAFT: False,
    Stage.PROPOSED: True,
    Stage.PILOT: True,
    Stage.PRODUCTION: True,
    Stage.SCALED: True,
    Stage.PAUSED: True,
    Stage.RETIRED: False,
    Stage.REJECTED: False,
}

CARD = {
    "intended_use": "Rank incoming claims for manual review.",
    "limitations": "Not trained on commercial lines.",
    "human_oversight": "A handler confirms every ranking.",
}

VALIDATED = datetime.date(2026, 1, 15)


def _initiative(unit, owner, answers):
    initiative = InitiativeFactory(
        business_unit=unit, accountable_owner=owner, stage=Stage.PROPOSED
    )
    assess(initiative, owner, answers)
    return initiative


@pytest.fixture
def served(unit_a, member_a):
    """A model serving a Tier 1 initiative (proposed) and a Tier 3 one (proposed, for now),
    with an approved version on the review schedule."""
    low = _initiative(unit_a, member_a, LOW_RISK)
    high = _initiative(unit_a, member_a, TIER_3)
    model = services.model_create(
        actor=member_a,
        data={
            "name": "claims-ranker",
            "model_type": ModelType.CLASSICAL_ML,
            "business_unit": unit_a,
            "owner": member_a,
            "initiatives": [low, high],
        },
    )
    version = services.model_version_create(
        actor=member_a,
        model=model,
        data={"version": "1.0", "last_validated_on": VALIDATED, **CARD},
    )
    for status in (ModelStatus.VALIDATION, ModelStatus.APPROVED):
        version = services.model_version_change_status(
            actor=member_a, version=version, to_status=status
        )
    model.refresh_from_db()
    assert model.effective_tier == 3
    return model, version, low, high


def test_every_stage_is_decided():
    assert set(COUNTS) == set(Stage.values)


@pytest.mark.parametrize("stage", Stage.values)
def test_a_linked_initiative_counts_only_in_a_live_stage(stage, served):
    model, version, low, high = served
    Initiative.objects.filter(pk=high.pk).update(stage=stage)

    services.model_tiers_refresh(models=[model])

    model.refresh_from_db()
    version.refresh_from_db()
    counts = COUNTS[stage]
    # Effective tier: the Tier 3 initiative's only while it is live.
    assert model.effective_tier == (3 if counts else 1)
    # Review cadence: every six months at Tier 3, every two years at Tier 1.
    assert version.next_review_due == VALIDATED + relativedelta(months=6 if counts else 24)
    # Gate routing: the release goes through the highest-tier live initiative.
    assert services.highest_tier_initiative(model) == (high if counts else low)


def test_a_merged_initiative_does_not_count_whatever_its_stage(served):
    model, version, low, high = served
    Initiative.objects.filter(pk=high.pk).update(stage=Stage.PILOT, merged_into=low)

    services.model_tiers_refresh(models=[model])

    model.refresh_from_db()
    assert model.effective_tier == 1
    assert services.highest_tier_initiative(model) == low


def test_rejecting_an_initiative_refreshes_the_stored_tier_through_the_change_hook(
    served, member_a, django_capture_on_commit_callbacks
):
    model, version, low, high = served
    with django_capture_on_commit_callbacks(execute=True):
        initiative_change_stage(
            actor=member_a,
            initiative=high,
            to_stage=Stage.REJECTED,
            reason="A prohibited practice.",
        )

    model.refresh_from_db()
    version.refresh_from_db()
    assert model.effective_tier == 1
    assert version.next_review_due == VALIDATED + relativedelta(months=24)
    change = AuditEvent.objects.filter(action="ai_model.tier_changed").last()
    assert change.object_id == str(model.pk)
    assert json.loads(change.payload)["before"] == {"effective_tier": 3}
    assert json.loads(change.payload)["after"]["effective_tier"] == 1
    # Run again (every later change of the initiative calls it): nothing more is written.
    events = AuditEvent.objects.count()
    assert hooks.refresh_model_tiers(high.pk) == 0
    assert AuditEvent.objects.count() == events


def test_a_release_is_refused_when_no_served_initiative_is_live(served, member_a):
    model, version, low, high = served
    Initiative.objects.filter(pk__in=[low.pk, high.pk]).update(stage=Stage.DRAFT)
    requests = ApprovalRequest.objects.count()

    with pytest.raises(ValidationError, match="in a live stage"):
        engine.model_release_submit(actor=member_a, version=version)

    assert ApprovalRequest.objects.count() == requests


def test_merging_moves_the_survivors_tier_onto_the_merged_initiatives_models(
    unit_a, member_a, coe_admin
):
    merged = _initiative(unit_a, member_a, LOW_RISK)
    survivor = _initiative(unit_a, member_a, TIER_3)
    model = services.model_create(
        actor=member_a,
        data={
            "name": "claims-ranker",
            "model_type": ModelType.CLASSICAL_ML,
            "business_unit": unit_a,
            "owner": member_a,
            "initiatives": [merged],
        },
    )
    model.refresh_from_db()
    assert model.effective_tier == 1

    assert hooks.move_model_links(actor=coe_admin, merged=merged, survivor=survivor) == 1

    model.refresh_from_db()
    assert model.effective_tier == 3
    change = AuditEvent.objects.filter(action="ai_model.tier_changed").last()
    assert change.actor == coe_admin
