"""Login throttling and lockout (issue 18, item 4) through the real sign-in page and
django-axes: the 6th attempt after 5 wrong passwords is refused even with the right password,
for a username that exists and one that does not alike (the page never tells them apart),
until the cool-off ends or a CoE admin unlocks it; lockouts and unlocks are audited. And the
password reset by email for local accounts."""

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from core.choices import Role
from core.models import AuditEvent
from tests.factories import member

PASSWORD = "correct horse battery staple"


@pytest.fixture
def alice(unit_a):
    user = member(Role.BU_MEMBER, unit_a, username="alice")
    user.email = "alice@example.com"
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(client, username, password, address="10.0.0.7"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_sixth_attempt_is_refused_even_with_the_right_password_until_the_cool_off(
    client, alice, settings
):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert sign_in(client, "alice", "wrong").status_code == 200  # the form again
    fifth = sign_in(client, "alice", "wrong")
    assert fifth.status_code == 429
    refused = sign_in(client, "alice", PASSWORD)
    assert refused.status_code == 429 and "_auth_user_id" not in client.session
    page = refused.content.decode()
    assert "Sign-in paused" in page and "15 minutes" in page
    assert AuditEvent.objects.filter(action="login.locked_out", object_id="alice").exists()
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=16)):
        assert sign_in(client, "alice", PASSWORD).status_code == 302
        assert client.session["_auth_user_id"] == str(alice.pk)


def test_lockout_page_is_the_same_for_a_username_that_does_not_exist(client, alice):
    pages = {}
    for username, address in (("alice", "10.0.0.1"), ("nobody-here", "10.0.0.2")):
        for _ in range(5):
            sign_in(client, username, "wrong", address)
        response = sign_in(client, username, "wrong", address)
        # the same page but for the per-request CSRF token
        body = re.sub(r"[A-Za-z0-9]{64}", "<token>", response.content.decode())
        pages[username] = (response.status_code, body)
    assert pages["alice"][0] == pages["nobody-here"][0] == 429
    assert pages["alice"][1] == pages["nobody-here"][1]
    assert "alice" not in pages["alice"][1].split("<main", 1)[1]


def test_an_address_is_locked_across_usernames(client, alice):
    for n in range(5):
        sign_in(client, f"guess{n}", "wrong", "10.9.9.9")
    assert sign_in(client, "alice", PASSWORD, "10.9.9.9").status_code == 429
    assert sign_in(client, "alice", PASSWORD, "10.1.1.1").status_code == 302


def test_coe_admin_sees_and_unlocks_audited(client, alice, coe_admin):
    for _ in range(5):
        sign_in(client, "alice", "wrong")
    admin_client = type(client)()
    admin_client.force_login(coe_admin)
    page = admin_client.get(reverse("core:locked_sign_ins")).content.decode()
    assert "alice" in page and "10.0.0.7" in page
    attempt = re.search(r'name="attempt" value="(\d+)"', page).group(1)
    response = admin_client.post(reverse("core:locked_sign_ins"), {"attempt": attempt})
    assert response.status_code == 302
    assert sign_in(client, "alice", PASSWORD).status_code == 302
    event = AuditEvent.objects.get(action="login.unlocked")
    assert event.actor == coe_admin and "alice" in event.payload
    assert (
        "No sign-in is locked out."
        in admin_client.get(reverse("core:locked_sign_ins")).content.decode()
    )


def test_members_may_not_see_or_unlock(client, alice):
    client.force_login(alice)
    assert client.get(reverse("core:locked_sign_ins")).status_code == 403
    assert client.post(reverse("core:locked_sign_ins"), {"attempt": "1"}).status_code == 403


def test_password_reset_by_email(client, alice):
    assert "Forgot your password?" in client.get(reverse("login")).content.decode()
    response = client.post(reverse("password_reset"), {"email": "alice@example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.com"]
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    new = "a much longer new passphrase 42"
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}
    )
    assert done.status_code == 302
    assert sign_in(client, "alice", new).status_code == 302
    # the link works once
    assert "This link no longer works" in client.get(link, follow=True).content.decode()


def test_no_reset_email_for_unknown_addresses_or_passwordless_people(client, unit_a):
    placeholder = member(Role.BU_MEMBER, unit_a, username="placeholder-x")
    placeholder.email = "ghost@example.com"
    placeholder.set_unusable_password()
    placeholder.save()
    for email in ("ghost@example.com", "nobody@example.com"):
        response = client.post(reverse("password_reset"), {"email": email})
        assert response.status_code == 302  # the same answer: nothing revealed
    assert mail.outbox == []
