"""Browser sessions (issue 18, item 4): every sign-in is listed on the person's Sessions page
with its browser and address; one can be signed out, or all but the current one ("sign out
everywhere"), which really ends them (the other browser is sent to sign in); audited."""

import pytest
from django.test import Client
from django.urls import reverse

from core.choices import Role
from core.models import AuditEvent, UserSession
from tests.factories import member

PASSWORD = "correct horse battery staple"


@pytest.fixture
def alice(unit_a):
    user = member(Role.BU_MEMBER, unit_a, username="alice")
    user.set_password(PASSWORD)
    user.save()
    return user


def browser(agent: str, address: str) -> Client:
    client = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_sign_out_everywhere_ends_the_other_sessions_only(alice):
    laptop = browser("Laptop Firefox", "10.0.0.1")
    phone = browser("Phone Safari", "10.0.0.2")
    page = laptop.get(reverse("core:account_sessions")).content.decode()
    assert "Laptop Firefox" in page and "Phone Safari" in page and "this session" in page
    assert UserSession.objects.filter(user=alice).count() == 2

    response = laptop.post(reverse("core:account_sessions"), {"everywhere": "1"})
    assert response.status_code == 302
    assert phone.get(reverse("home")).status_code == 302  # sent to sign in
    assert laptop.get(reverse("home")).status_code == 200
    assert list(UserSession.objects.values_list("user_agent", flat=True)) == ["Laptop Firefox"]
    event = AuditEvent.objects.get(action="session.signed_out_everywhere")
    assert event.actor == alice and '"sessions_ended":1' in event.payload


def test_sign_out_one_session_but_not_the_current_or_someone_elses(alice, unit_a):
    laptop = browser("Laptop Firefox", "10.0.0.1")
    browser("Phone Safari", "10.0.0.2")
    phone_row = UserSession.objects.get(user_agent="Phone Safari")
    own_row = UserSession.objects.get(user_agent="Laptop Firefox")
    laptop.post(reverse("core:account_sessions"), {"session": own_row.pk})
    assert UserSession.objects.filter(pk=own_row.pk).exists()  # refused: use Sign out
    laptop.post(reverse("core:account_sessions"), {"session": phone_row.pk})
    assert not UserSession.objects.filter(pk=phone_row.pk).exists()
    assert AuditEvent.objects.filter(action="session.signed_out").count() == 1

    bob = member(Role.BU_MEMBER, unit_a, username="bob")
    other = Client()
    other.force_login(bob)
    assert other.post(reverse("core:account_sessions"), {"session": own_row.pk}).status_code == 404


def test_signing_out_removes_the_session_row(alice):
    laptop = browser("Laptop Firefox", "10.0.0.1")
    laptop.post(reverse("logout"))
    assert not UserSession.objects.exists()
