"""Delegation that works (issue 19, item 5): an administrator's rule says who may act as
delegate (same approver role, any member of the CoE, or holders of the "may act as delegate"
permission); the delegate decides with the delegator's roles, and separation of duties
applies to the delegate as to anyone."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from core.choices import Role
from core.models import AuditEvent, BusinessUnit
from demo.organisation import seed_demo
from governance.approvals import delegation
from governance.approvals import services as engine
from governance.approvals.models import (
    ApprovalRequest,
    DelegateEligibility,
    Delegation,
    DelegationRule,
)
from inventory.gpu.models import GPUAllocation
from inventory.registry.models import AIModel
from portfolio.initiatives.models import Initiative
from tests.factories import BusinessUnitFactory, InitiativeFactory, member
from tests.governance.helpers import TIER_2, assess

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@pytest.fixture
def coe_unit(db):
    return BusinessUnitFactory(name="AI Centre of Excellence", code="COE")


@pytest.fixture
def reviewer(unit_a):
    return member(Role.COE_REVIEWER, unit_a, username="ravi")


@pytest.fixture
def admin(unit_a):
    return member(Role.ADMIN, unit_a, username="root")


@pytest.fixture
def analyst(coe_unit):
    """A CoE business unit member with no approver role."""
    return member(Role.BU_MEMBER, coe_unit, username="noah")


def delegate(actor, to, days=7):
    return delegation.delegation_create(
        actor=actor,
        delegate=to,
        starts_on=TODAY(),
        ends_on=TODAY() + datetime.timedelta(days=days),
        reason="Annual leave",
    )


def set_rule(admin, eligible, unit=None):
    return delegation.delegation_rule_set(actor=admin, eligible=eligible, coe_business_unit=unit)


def pending_request(unit, owner, **fields):
    initiative = InitiativeFactory(
        business_unit=unit, accountable_owner=owner, stage="proposed", **fields
    )
    assess(initiative, owner, TIER_2)
    return engine.request_submit(actor=owner, initiative=initiative, gate="pilot")


def test_by_default_only_colleagues_with_the_same_role_may_cover(reviewer, analyst):
    assert delegation.delegation_rule_get().eligible == DelegateEligibility.SAME_ROLE
    assert not DelegationRule.objects.exists()  # reading the default writes nothing
    with pytest.raises(ValidationError) as error:
        delegate(reviewer, analyst)
    assert "may not act as your delegate" in error.value.message_dict["delegate"][0]
    assert not Delegation.objects.exists()


def test_only_administrators_set_the_rule_and_it_is_audited(admin, reviewer, coe_unit):
    with pytest.raises(PermissionDenied):
        set_rule(reviewer, DelegateEligibility.COE)
    assert not DelegationRule.objects.exists()
    assert not AuditEvent.objects.filter(action="delegation_rule.set").exists()
    rule = set_rule(admin, DelegateEligibility.COE, coe_unit)
    assert (rule.eligible, rule.coe_business_unit) == (DelegateEligibility.COE, coe_unit)
    assert AuditEvent.objects.filter(action="delegation_rule.set").count() == 1
    with pytest.raises(ValidationError):
        set_rule(admin, "anyone")


def test_any_member_of_the_coe_may_cover_and_decides_with_the_delegators_role(
    admin, reviewer, analyst, coe_unit, unit_a, member_a
):
    set_rule(admin, DelegateEligibility.COE, coe_unit)
    outsider = member(Role.BU_MEMBER, unit_a, username="outsider")
    assert analyst in delegation.eligible_delegates(reviewer)
    assert outsider not in delegation.eligible_delegates(reviewer)
    with pytest.raises(ValidationError):
        delegate(reviewer, outsider)
    delegate(reviewer, analyst)
    request = pending_request(unit_a, member_a)
    assert engine.can_decide(analyst, request)
    decision = engine.request_decide(actor=analyst, request=request, outcome="approve")
    assert (decision.approver, decision.on_behalf_of) == (analyst, reviewer)


def test_coe_role_holders_count_as_coe_members_without_a_unit(admin, unit_a, unit_b):
    set_rule(admin, DelegateEligibility.COE)
    risk = member(Role.RISK_OFFICER, unit_b, username="risky")
    coe_admin = member(Role.COE_ADMIN, unit_b, username="chloe")
    eligible = set(delegation.eligible_delegates(risk))
    assert coe_admin in eligible


def test_holders_of_the_delegate_permission_may_cover(admin, reviewer, unit_a, unit_b):
    set_rule(admin, DelegateEligibility.FLAGGED)
    flagged = member(Role.BU_MEMBER, unit_b, username="flagged")
    by_group = member(Role.BU_MEMBER, unit_b, username="bygroup")
    plain = member(Role.BU_MEMBER, unit_b, username="plain")
    permission = Permission.objects.get(
        content_type__app_label="governance", codename="act_as_delegate"
    )
    flagged.user_permissions.add(permission)
    group = Group.objects.create(name="Delegates")
    group.permissions.add(permission)
    by_group.groups.add(group)
    eligible = set(delegation.eligible_delegates(reviewer))
    assert {flagged, by_group} <= eligible and plain not in eligible
    delegate(reviewer, flagged)
    with pytest.raises(ValidationError):
        delegate(reviewer, plain)


def test_an_inactive_person_cannot_be_chosen_nor_act(admin, reviewer, analyst, coe_unit, unit_a):
    set_rule(admin, DelegateEligibility.COE, coe_unit)
    analyst.is_active = False
    analyst.save()
    with pytest.raises(ValidationError):
        delegate(reviewer, analyst)
    analyst.is_active = True
    analyst.save()
    delegate(reviewer, analyst)
    reviewer.is_active = False
    reviewer.save()
    assert delegation.active_delegators(analyst) == []  # a departed delegator confers nothing


def test_separation_of_duties_applies_to_the_delegate(
    admin, reviewer, analyst, coe_unit, unit_a, member_a
):
    set_rule(admin, DelegateEligibility.COE, coe_unit)
    delegate(reviewer, analyst)
    # The delegate owns this initiative: they cannot decide it, on anyone's behalf.
    own = pending_request(coe_unit, analyst)
    assert not engine.can_decide(analyst, own)
    with pytest.raises(PermissionDenied):
        engine.request_decide(actor=analyst, request=own, outcome="approve")
    # ... nor one they lead technically.
    led = pending_request(unit_a, member_a, technical_lead=analyst)
    with pytest.raises(PermissionDenied):
        engine.request_decide(actor=analyst, request=led, outcome="approve")
    # ... nor one the delegator may not decide (the delegator leads it).
    delegators = pending_request(unit_a, member_a, technical_lead=reviewer)
    with pytest.raises(PermissionDenied):
        engine.request_decide(actor=analyst, request=delegators, outcome="approve")
    assert not delegators.decisions.exists() and not own.decisions.exists()


def test_the_delegations_page_offers_eligible_people_and_the_rule_form_to_admins(
    client, admin, reviewer, analyst, coe_unit
):
    url = reverse("governance:delegations")
    client.force_login(reviewer)
    page = client.get(url).content.decode()
    assert "noah" not in page  # same-role rule: not offered
    assert 'name="eligible"' not in page  # not an administrator
    assert client.post(url, {"eligible": "coe"}).status_code == 403
    assert not DelegationRule.objects.exists()

    client.force_login(admin)
    response = client.post(url, {"eligible": "coe", "coe_business_unit": coe_unit.pk})
    assert response.status_code == 302
    assert delegation.delegation_rule_get().eligible == "coe"

    client.force_login(reviewer)
    page = client.get(url).content.decode()
    assert "noah" in page and "Any member of the CoE" in page
    response = client.post(
        url,
        {
            "delegate": analyst.pk,
            "starts_on": TODAY().isoformat(),
            "ends_on": (TODAY() + datetime.timedelta(days=5)).isoformat(),
        },
    )
    assert response.status_code == 302
    assert Delegation.objects.get().delegate == analyst


def test_the_demo_has_a_second_reviewer_and_a_delegation_in_force():
    seed_demo(scale=0)
    # The second reviewer and the delegation change none of the demo's other counts.
    assert BusinessUnit.objects.count() == 8 and Initiative.objects.count() == 120
    assert AIModel.objects.count() == 40 and GPUAllocation.objects.count() == 200
    assert ApprovalRequest.objects.count() == 26  # 25 gate requests and a model release
    users = get_user_model().objects
    assert users.filter(username="reviewer2", memberships__role=Role.COE_REVIEWER).exists()
    rule = delegation.delegation_rule_get()
    assert rule.eligible == DelegateEligibility.COE and rule.coe_business_unit.code == "COE"
    (running,) = Delegation.objects.filter(starts_on__lte=TODAY(), ends_on__gte=TODAY())
    assert (running.delegator.username, running.delegate.username) == ("reviewer", "noah.fraser")
    assert not running.delegate.memberships.exclude(role=Role.BU_MEMBER).exists()
    assert delegation.active_delegators(running.delegate) == [running.delegator]
