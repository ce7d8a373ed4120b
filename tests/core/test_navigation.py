"""The main menu (core.navigation): grouped, and only links the signed-in role can use."""

import pytest
from django.urls import reverse

from core.choices import Role
from core.navigation import GROUP_ORDER, nav_items, registered_links
from tests.factories import UserFactory, member

# Pages every role may open but that hold nothing for some roles, so the menu leaves them out:
# the initiative-import history shows only a person's own jobs to those who cannot import.
REACHABLE_BUT_NOT_OFFERED = {
    Role.BU_MEMBER: {"governance:import_list"},
    Role.COE_REVIEWER: {"governance:import_list"},
    Role.RISK_OFFICER: {"governance:import_list"},
    Role.PLATFORM_ENGINEER: {"governance:import_list"},
}


def _person(role, unit):
    if role == "superuser":
        return UserFactory(is_superuser=True, is_staff=True, username="root")
    return member(role, unit, username=f"user-{role}")


def _shown(user) -> dict[str, str]:
    return {entry.url: entry.label for group in nav_items(user) for entry in group.links}


@pytest.mark.parametrize("role", [*Role.values, "superuser"])
def test_every_link_shown_answers_200_and_every_usable_link_is_shown(client, unit_a, role):
    user = _person(role, unit_a)
    client.force_login(user)
    shown = _shown(user)
    assert shown, "every role has a menu"
    for link in registered_links():
        if link.url in shown:
            # follow: the findings list redirects to its default filter
            status = client.get(link.url, follow=True).status_code
            assert status == 200, f"{role}: menu shows {link.label} ({link.url}) → {status}"
        elif client.get(link.url).status_code == 200:
            assert link.url_name in REACHABLE_BUT_NOT_OFFERED.get(role, set()), (
                f"{role} can use {link.label} ({link.url}) but the menu hides it"
            )
    page = client.get(reverse("home")).content.decode()
    for url, label in shown.items():
        assert f'href="{url}"' in page, f"{role}: {label} missing from the rendered menu"


def test_groups_keep_their_order_and_hide_empty_ones(unit_a):
    groups = [group.label for group in nav_items(member(Role.BU_MEMBER, unit_a))]
    assert groups == [group for group in GROUP_ORDER if group in groups]
    assert "Admin" in groups  # the API documentation is everyone's
    admin = next(g for g in nav_items(member(Role.BU_MEMBER, unit_a)) if g.label == "Admin")
    assert [entry.label for entry in admin.links] == ["API documentation"]


def test_a_bu_member_sees_their_dashboard_but_no_imports_or_people(unit_a):
    labels = set(_shown(member(Role.BU_MEMBER, unit_a)).values())
    assert {"Initiatives", "Approvals", "Models", "Pools", "Dashboard", "Definitions"} <= labels
    assert not labels & {"Initiative imports", "People", "Django admin"}


def test_someone_without_a_role_sees_no_dashboard(db):
    labels = set(_shown(UserFactory(username="no-role")).values())
    assert not labels & {"Dashboard", "Definitions"}


def test_an_executive_and_a_coe_admin_see_what_they_use(unit_a):
    executive = set(_shown(member(Role.EXECUTIVE, unit_a, username="x")).values())
    assert {"Dashboard", "Initiative imports", "Usage & cost imports"} <= executive
    assert "People" not in executive
    coe_admin = set(_shown(member(Role.COE_ADMIN, unit_a, username="y")).values())
    assert {"People", "Group mappings", "Possible duplicates"} <= coe_admin


def test_the_current_page_is_marked_in_its_group(client, unit_a):
    user = member(Role.EXECUTIVE, unit_a)
    client.force_login(user)
    groups = nav_items(user, reverse("inventory:pool_list") + "3/")
    current = [(g.label, e.label) for g in groups for e in g.links if e.current]
    assert current == [("GPUs", "Pools")]
    page = client.get(reverse("dashboard:report_list")).content.decode()
    assert 'aria-current="page">Board packs &amp; dossiers</a>' in page
    assert 'aria-current="page">Dashboard</a>' not in page


def test_anonymous_gets_no_menu():
    from django.contrib.auth.models import AnonymousUser

    assert nav_items(AnonymousUser()) == []
