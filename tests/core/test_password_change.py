"""Changing one's own password (issue 19, item 10): the old password is checked, Django's
validators apply with field-level errors, the change is audited, this session stays and the
others stop; a single-sign-on account has no password to change."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from core.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

OLD, NEW = "correct-Horse-7", "battery-Staple-9-x"


@pytest.fixture
def person():
    user = UserFactory(username="pat")
    user.set_password(OLD)
    user.save()
    return user


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_change_keeps_this_session_and_ends_the_others(person):
    here, elsewhere = signed_in(person), signed_in(person)
    response = here.post(
        reverse("password_change"),
        {"old_password": OLD, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("core:account_sessions")
    person.refresh_from_db()
    assert person.check_password(NEW)
    assert AuditEvent.objects.filter(action="user.password_changed", actor=person).count() == 1
    assert here.get(reverse("core:account_sessions")).status_code == 200
    assert elsewhere.get(reverse("core:account_sessions")).status_code == 302  # to sign-in


def test_wrong_old_password_and_weak_new_one_are_field_errors(person):
    client = signed_in(person)
    response = client.post(
        reverse("password_change"),
        {"old_password": "nope", "new_password1": "123", "new_password2": "123"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "old_password" in errors
    assert not AuditEvent.objects.filter(action="user.password_changed").exists()
    person.refresh_from_db()
    assert person.check_password(OLD)


def test_the_form_needs_its_csrf_token(person):
    client = Client(enforce_csrf_checks=True)
    client.force_login(person)
    response = client.post(
        reverse("password_change"),
        {"old_password": OLD, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 403


def test_a_single_sign_on_account_has_no_password_to_change(client):
    sso = get_user_model().objects.create_user(username="sso-only")
    sso.set_unusable_password()
    sso.save()
    client.force_login(sso)
    response = client.get(reverse("password_change"))
    assert response.status_code == 403
    assert b"single sign-on" in response.content


def test_signed_out_goes_to_sign_in(client):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
