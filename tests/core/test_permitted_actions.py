"""Only permitted actions are shown: on each list page, a role sees a create or import button
exactly when that page answers it with 200 (never a button that leads to a 403)."""

import pytest
from django.urls import reverse

from core.choices import Role
from tests.factories import member

# (list page, action page) pairs: the list shows a link to the action for those who may use it.
ACTIONS = [
    ("portfolio:initiative_list", "portfolio:initiative_create"),
    ("portfolio:initiative_list", "portfolio:wizard_start"),
    ("inventory:model_list", "inventory:model_create"),
    ("inventory:vendor_list", "inventory:vendor_create"),
    ("inventory:pool_list", "inventory:pool_create"),
    ("inventory:allocation_list", "inventory:allocation_create"),
    ("inventory:quota_list", "inventory:quota_create"),
    ("inventory:gpu_type_list", "inventory:gpu_type_create"),
    ("inventory:gpu_request_list", "inventory:gpu_request_create"),
    ("governance:import_list", "governance:import_upload"),
    ("inventory:ingest_list", "inventory:ingest_upload"),
]


@pytest.mark.parametrize("role", Role.values)
def test_a_button_is_shown_exactly_when_its_page_opens(client, unit_a, role):
    client.force_login(member(role, unit_a, username=f"user-{role}"))
    for list_name, action_name in ACTIONS:
        listed = client.get(reverse(list_name))
        if listed.status_code == 403:
            continue  # not offered in the menu (tests/core/test_navigation.py)
        action_url = reverse(action_name)
        shown = f'href="{action_url}"' in listed.content.decode()
        status = client.get(action_url).status_code
        assert shown == (status == 200), (
            f"{role}: {action_name} shown={shown} on {list_name}, answers {status}"
        )


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        (Role.BU_MEMBER, True),
        (Role.BU_LEAD, True),
        (Role.COE_ADMIN, True),
        (Role.ADMIN, True),
        (Role.EXECUTIVE, False),
        (Role.RISK_OFFICER, False),
        (Role.COE_REVIEWER, False),
        (Role.PLATFORM_ENGINEER, False),
    ],
)
def test_register_initiative_only_for_those_who_register(client, unit_a, role, shown):
    client.force_login(member(role, unit_a))
    page = client.get(reverse("portfolio:initiative_list")).content.decode()
    assert ("Register initiative" in page) is shown
    assert ("Register (wizard)" in page) is shown
