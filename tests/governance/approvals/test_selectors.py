"""The reviewer's queue tabs, read through ``approval_selectors.request_queue``."""

import pytest

from core.choices import Role
from governance.approvals import services as engine
from governance.approvals.selectors import request_queue
from tests.factories import member
from tests.governance.helpers import TIER_2, assessed

pytestmark = pytest.mark.django_db


def test_queue_tabs_mine_role_and_all(unit_a, member_a):
    reviewer = member(Role.COE_REVIEWER, unit_a, username="rev1")
    colleague = member(Role.COE_REVIEWER, unit_a, username="rev2")
    # The reviewer owns one initiative (separation of duties forbids deciding it), another
    # awaits any reviewer, and a third they have approved (a single-approval step: decided).
    own = assessed(unit_a, reviewer, TIER_2)
    own_request = engine.request_submit(actor=reviewer, initiative=own, gate="pilot")
    open_request = engine.request_submit(
        actor=member_a, initiative=assessed(unit_a, member_a, TIER_2), gate="pilot"
    )
    decided = engine.request_submit(
        actor=member_a, initiative=assessed(unit_a, member_a, TIER_2), gate="pilot"
    )
    engine.request_decide(actor=reviewer, request=decided, outcome="approve")

    assert list(request_queue(user=reviewer, scope="mine")) == [open_request]
    assert set(request_queue(user=reviewer, scope="role")) == {own_request, open_request}
    assert set(request_queue(user=colleague, scope="mine")) == {own_request, open_request}
    assert set(request_queue(user=reviewer, scope="all")) == {own_request, open_request, decided}
    # A BU member holds no approver role: nothing awaits them, whatever the tab.
    assert not request_queue(user=member_a, scope="mine").exists()
