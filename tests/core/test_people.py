"""People and access inside Keel (issue 18, item 5): CoE admins search everyone, invite by
email, add and remove memberships, change a role and deactivate, each audited; nobody changes
their own access; others get 403; the list's queries do not grow with the people."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from core import people
from core.choices import Role
from core.models import AuditEvent, Membership, UserSession
from tests.factories import member


@pytest.fixture
def admin_client(client, coe_admin):
    client.force_login(coe_admin)
    return client


def test_list_searches_filters_and_keeps_its_query_count(
    admin_client, unit_a, unit_b, django_assert_max_num_queries
):
    member(Role.BU_LEAD, unit_b, username="lena")
    url = reverse("core:people_list")
    with django_assert_max_num_queries(14) as few:
        assert admin_client.get(url).status_code == 200
    for n in range(20):
        member(Role.BU_MEMBER, unit_a if n % 2 else unit_b, username=f"person{n:02d}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = admin_client.get(url).content.decode()
    assert "person19" in body
    found = admin_client.get(url, {"q": "lena"}).content.decode()
    assert "lena" in found and "person01" not in found
    leads = admin_client.get(url, {"role": Role.BU_LEAD}).content.decode()
    assert "lena" in leads and "person02" not in leads
    assert "Nobody matches" in admin_client.get(url, {"q": "zzz"}).content.decode()


def test_grant_change_and_remove_are_audited(admin_client, coe_admin, unit_a, unit_b):
    alice = member(Role.BU_MEMBER, unit_a, username="alice")
    url = reverse("core:person_detail", args=[alice.pk])
    admin_client.post(url, {"action": "grant", "business_unit": unit_b.pk, "role": Role.BU_LEAD})
    granted = Membership.objects.get(user=alice, business_unit=unit_b)
    assert granted.role == Role.BU_LEAD and granted.granted_by == coe_admin
    page = admin_client.get(url).content.decode()
    assert "Granted by hand by dana" in page
    admin_client.post(
        url, {"action": "change_role", "membership": granted.pk, "role": Role.EXECUTIVE}
    )
    granted.refresh_from_db()
    assert granted.role == Role.EXECUTIVE
    admin_client.post(url, {"action": "remove", "membership": granted.pk})
    assert not Membership.objects.filter(pk=granted.pk).exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="membership.").values_list("action", flat=True)
    )
    assert actions[-3:] == ["membership.granted", "membership.role_changed", "membership.revoked"]
    duplicate = admin_client.post(
        url, {"action": "grant", "business_unit": unit_a.pk, "role": Role.BU_MEMBER}
    )
    assert "They already hold this role in this unit." in duplicate.content.decode()


def test_nobody_changes_their_own_access(admin_client, coe_admin, unit_b):
    url = reverse("core:person_detail", args=[coe_admin.pk])
    page = admin_client.get(url).content.decode()
    assert "separation of duties" in page and 'value="grant"' not in page
    admin_client.post(url, {"action": "grant", "business_unit": unit_b.pk, "role": Role.ADMIN})
    assert not Membership.objects.filter(user=coe_admin, role=Role.ADMIN).exists()
    own = Membership.objects.get(user=coe_admin)
    admin_client.post(url, {"action": "remove", "membership": own.pk})
    assert Membership.objects.filter(pk=own.pk).exists()
    with pytest.raises(Exception, match="separation of duties"):
        people.person_set_active(actor=coe_admin, user=coe_admin, active=False)


def test_deactivate_signs_them_out_everywhere_and_reactivate(admin_client, unit_a):
    alice = member(Role.BU_MEMBER, unit_a, username="alice")
    alice.set_password("a long enough password 1")
    alice.save()
    browser = Client()
    browser.post(reverse("login"), {"username": "alice", "password": "a long enough password 1"})
    assert browser.get(reverse("home")).status_code == 200
    url = reverse("core:person_detail", args=[alice.pk])
    admin_client.post(url, {"action": "deactivate"})
    alice.refresh_from_db()
    assert not alice.is_active and not UserSession.objects.filter(user=alice).exists()
    assert browser.get(reverse("home")).status_code == 302  # signed out
    admin_client.post(url, {"action": "reactivate"})
    alice.refresh_from_db()
    assert alice.is_active
    assert AuditEvent.objects.filter(action="user.deactivated").count() == 1


def test_invite_by_email_with_a_first_role_and_a_set_password_link(
    admin_client, unit_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the email is sent after commit
        response = admin_client.post(
            reverse("core:person_invite"),
            {
                "email": "New.Person@Example.com",
                "first_name": "New",
                "last_name": "Person",
                "business_unit": unit_a.pk,
                "role": Role.BU_MEMBER,
            },
        )
    assert response.status_code == 302
    invited = Membership.objects.get(business_unit=unit_a, user__email="new.person@example.com")
    assert invited.user.username == "newperson" and not invited.user.has_usable_password()
    assert len(mail.outbox) == 1 and "newperson" in mail.outbox[0].body
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    page = Client().get(link, follow=True)
    assert "Choose a new password" in page.content.decode()
    again = admin_client.post(reverse("core:person_invite"), {"email": "new.person@example.com"})
    assert "already has an account" in again.content.decode()
    half = admin_client.post(
        reverse("core:person_invite"), {"email": "x@example.com", "role": Role.BU_LEAD}
    )
    assert "Choose both a business unit and a role" in half.content.decode()
    assert AuditEvent.objects.filter(action="user.invited").count() == 1


@pytest.mark.parametrize("role", [Role.BU_LEAD, Role.EXECUTIVE, Role.COE_REVIEWER])
def test_others_get_403(client, unit_a, role):
    person = member(role, unit_a, username="someone")
    client.force_login(person)
    assert client.get(reverse("core:people_list")).status_code == 403
    assert client.get(reverse("core:people_list_csv")).status_code == 403
    assert client.get(reverse("core:person_invite")).status_code == 403
    assert client.get(reverse("core:person_detail", args=[person.pk])).status_code == 403


def test_export_keeps_the_filters_and_says_how_each_role_was_granted(admin_client, unit_b):
    member(Role.BU_LEAD, unit_b, username="lena")
    member(Role.BU_MEMBER, unit_b, username="otto")
    response = admin_client.get(reverse("core:people_list_csv"), {"q": "lena"})
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("Username,Name,Email,Roles (how granted)")
    assert len(lines) == 2 and lines[1].startswith("lena,")
    assert f"BU lead · {unit_b.code} (Granted by hand)" in lines[1]
