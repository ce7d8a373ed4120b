"""Passkeys as a second factor (issue 18, item 3) through the real pages and JSON steps, with
a software authenticator (tests/core/soft_authenticator.py) answering as a browser would:
register, the second step after the password, refusals (wrong origin, relying party,
challenge, replay, a cloned counter), rename and remove audited, an administrator's reset,
the admin requirement satisfied with a passkey, CSRF on every step."""

import json
import os
import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from core.choices import Role
from core.models import AuditEvent
from tests.core.soft_authenticator import SoftAuthenticator, b64url
from tests.factories import PASSWORD, member

ORIGIN = "https://keel.test"
RP_ID = "keel.test"


@pytest.fixture(autouse=True)
def relying_party(settings):
    settings.OTP_WEBAUTHN_RP_ID = RP_ID
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [ORIGIN]


@pytest.fixture
def alice(unit_a):
    return member(Role.BU_MEMBER, unit_a, username="alice")


@pytest.fixture
def authenticator():
    return SoftAuthenticator(origin=ORIGIN, rp_id=RP_ID)


def sign_in(username="alice", client=None) -> Client:
    client = client or Client()
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def step(client, name, body=None, query=""):
    return client.post(
        reverse(name) + query, body or {}, content_type="application/json", secure=True
    )


def register(client, authenticator, name="Work laptop", **wrong):
    options = step(client, "passkey_register_begin")
    assert options.status_code == 200, options.content
    credential = authenticator.create(options.json(), **wrong)
    return step(client, "passkey_register_complete", {"credential": credential, "name": name})


def verify(client, authenticator, **wrong):
    options = step(client, "passkey_verify_begin")
    assert options.status_code == 200, options.content
    credential = authenticator.get(options.json(), **wrong)
    return step(client, "passkey_verify_complete", {"credential": credential}, "?next=/roadmap/")


def recovery_codes(client) -> list[str]:
    page = client.get(reverse("mfa_setup")).content.decode()
    return re.findall(r"<li><code>([a-z0-9]+)</code></li>", page)


def payload(event) -> dict:
    return json.loads(event.payload)


def is_verified(client) -> bool:
    return client.get(reverse("home")).status_code == 200


def test_register_a_passkey_then_use_it_after_the_password(alice, authenticator):
    laptop = sign_in()
    setup = laptop.get(reverse("mfa_setup")).content.decode()
    assert "Add a passkey" in setup and 'data-passkey="register"' in setup

    done = register(laptop, authenticator)
    assert done.status_code == 200, done.content
    assert done.json()["redirect"].startswith(reverse("mfa_setup"))
    passkey = WebAuthnCredential.objects.get(user=alice)
    assert passkey.confirmed and passkey.name == "Work laptop"
    assert passkey.credential_id == authenticator.credential_id
    event = AuditEvent.objects.get(action="mfa.enabled")
    assert (
        payload(event)["after"] == {"device": "passkey", "name": "Work laptop"}
        and event.actor == alice
    )
    codes = recovery_codes(laptop)
    assert len(codes) == 10  # the first factor brings the recovery codes, shown once
    page = laptop.get(reverse("mfa_setup")).content.decode()
    assert recovery_codes(laptop) == [] and "Work laptop" in page
    assert is_verified(laptop)

    phone = sign_in()
    home = phone.get(reverse("home"))
    assert home.status_code == 302 and home["Location"].startswith(reverse("mfa_verify"))
    assert "Use a passkey" in phone.get(home["Location"]).content.decode()
    assert phone.get("/api/v1/initiatives/").status_code == 403
    done = verify(phone, authenticator)
    assert done.status_code == 200, done.content
    assert done.json() == {"redirect": "/roadmap/"}
    assert is_verified(phone) and phone.get("/api/v1/initiatives/").status_code == 200
    passkey.refresh_from_db()
    assert passkey.sign_count == 1 and passkey.last_used_at is not None

    # a recovery code still works instead of the passkey
    spare = sign_in()
    assert spare.post(reverse("mfa_verify"), {"token": codes[0]}).status_code == 302
    assert is_verified(spare)


def test_an_authenticator_app_added_later_keeps_the_recovery_codes(alice, authenticator):
    client = sign_in()
    register(client, authenticator)
    codes = recovery_codes(client)
    client.get(reverse("mfa_setup"))
    device = TOTPDevice.objects.get(user=alice, confirmed=False)
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    response = client.post(reverse("mfa_setup"), {"token": code}, follow=True)
    assert "your recovery codes stay" in response.content.decode()
    assert TOTPDevice.objects.filter(user=alice, confirmed=True).count() == 1
    assert sorted(t.token for t in StaticDevice.objects.get(user=alice).token_set.all()) == sorted(
        codes
    )
    assert AuditEvent.objects.filter(action="mfa.enabled").count() == 2


def test_a_registration_from_another_origin_or_relying_party_is_refused(alice, authenticator):
    client = sign_in()
    refused = register(client, authenticator, origin="https://keel.test.evil.example")
    assert refused.status_code == 422 and "could not be checked" in refused.json()["detail"]
    refused = register(client, authenticator, rp_id="evil.example")
    assert refused.status_code == 422
    refused = register(client, authenticator, challenge=b64url(os.urandom(32)))
    assert refused.status_code == 422
    assert not WebAuthnCredential.objects.exists()
    assert not AuditEvent.objects.filter(action="mfa.enabled").exists()
    assert not StaticDevice.objects.exists()


def test_a_malformed_answer_is_refused_in_words(alice):
    client = sign_in()
    step(client, "passkey_register_begin")
    junk = step(client, "passkey_register_complete", {"credential": "junk", "name": 5})
    assert junk.status_code == 422 and junk.json()["detail"]
    unreadable = client.post(
        reverse("passkey_register_complete"), "{not json", content_type="application/json"
    )
    assert unreadable.status_code == 400 and "unreadable" in unreadable.json()["detail"]
    assert client.get(reverse("passkey_register_begin")).status_code == 405
    assert not WebAuthnCredential.objects.exists()


@pytest.mark.parametrize(
    "wrong",
    [
        {"origin": "https://phish.example"},
        {"rp_id": "phish.example"},
        {"challenge": b64url(os.urandom(32))},
    ],
    ids=["origin", "relying-party", "challenge"],
)
def test_a_wrong_assertion_does_not_verify_the_session(alice, authenticator, wrong):
    register(sign_in(), authenticator)
    client = sign_in()
    refused = verify(client, authenticator, **wrong)
    assert refused.status_code == 422
    assert "could not be verified" in refused.json()["detail"]
    assert not is_verified(client)


def test_a_replayed_or_cloned_assertion_is_refused(alice, authenticator):
    register(sign_in(), authenticator)
    first = sign_in()
    options = step(first, "passkey_verify_begin").json()
    assertion = authenticator.get(options)
    assert step(first, "passkey_verify_complete", {"credential": assertion}).status_code == 200

    # the same assertion again: its challenge was used up (in this session or any other)
    again = step(first, "passkey_verify_complete", {"credential": assertion})
    assert again.status_code == 400 and "expired or was already used" in again.json()["detail"]
    other = sign_in()
    step(other, "passkey_verify_begin")
    replayed = step(other, "passkey_verify_complete", {"credential": assertion})
    assert replayed.status_code == 422 and not is_verified(other)

    # a fresh challenge signed with a counter that went backwards: a cloned authenticator
    cloned = verify(other, authenticator, count=1)
    assert cloned.status_code == 422 and not is_verified(other)
    # a failed try used its challenge up as well
    retry = step(other, "passkey_verify_complete", {"credential": assertion})
    assert retry.status_code == 400


def test_someone_elses_passkey_does_not_verify(alice, unit_a, authenticator):
    register(sign_in(), authenticator)
    bob = member(Role.BU_MEMBER, unit_a, username="bob")
    bob_key = SoftAuthenticator(origin=ORIGIN, rp_id=RP_ID)
    register(sign_in("bob"), bob_key)
    client = sign_in("bob")
    options = step(client, "passkey_verify_begin").json()
    assert [c["id"] for c in options["allowCredentials"]] == [b64url(bob_key.credential_id)]
    refused = step(client, "passkey_verify_complete", {"credential": authenticator.get(options)})
    assert refused.status_code == 403 and "someone else" in refused.json()["detail"]
    assert not is_verified(client) and bob.is_active


def test_a_password_alone_cannot_add_a_passkey_once_there_is_a_factor(alice, authenticator):
    """The passkey steps are open to unverified sessions (they are the second step), so
    registering checks for itself: else a stolen password could add the thief's passkey."""
    register(sign_in(), authenticator)
    thief = sign_in()
    refused = step(thief, "passkey_register_begin")
    assert refused.status_code == 403 and "Verify" in refused.json()["detail"]
    refused = step(thief, "passkey_register_complete", {"credential": {}})
    assert refused.status_code == 403
    assert WebAuthnCredential.objects.count() == 1
    anonymous = step(Client(), "passkey_verify_begin")
    assert anonymous.status_code == 401


def test_rename_and_remove_are_audited_and_the_last_one_turns_it_off(alice, unit_a, authenticator):
    client = sign_in()
    register(client, authenticator)
    second = SoftAuthenticator(origin=ORIGIN, rp_id=RP_ID)
    assert register(client, second, name="").status_code == 200
    first_key, second_key = WebAuthnCredential.objects.order_by("pk")
    assert second_key.name == "Passkey 2"

    client.post(
        reverse("mfa_setup"),
        {"action": "rename_passkey", "passkey": second_key.pk, "name": "YubiKey"},
    )
    second_key.refresh_from_db()
    assert second_key.name == "YubiKey"
    renamed = AuditEvent.objects.get(action="mfa.passkey_renamed")
    assert (
        payload(renamed)["before"]["name"] == "Passkey 2"
        and payload(renamed)["after"]["name"] == "YubiKey"
    )

    # someone else's passkey is not found, and nothing changes
    bob = member(Role.BU_MEMBER, unit_a, username="bob")
    bobs = Client()
    bobs.force_login(bob)
    response = bobs.post(
        reverse("mfa_setup"), {"action": "remove_passkey", "passkey": first_key.pk}
    )
    assert response.status_code == 404
    assert WebAuthnCredential.objects.count() == 2
    assert not AuditEvent.objects.filter(action="mfa.passkey_removed").exists()

    # the passkey this session was verified with: the session stays verified
    client.post(reverse("mfa_setup"), {"action": "remove_passkey", "passkey": first_key.pk})
    assert is_verified(client)
    removed = AuditEvent.objects.get(action="mfa.passkey_removed")
    assert payload(removed)["before"] == {"passkey": first_key.pk, "name": "Work laptop"}
    assert payload(removed)["after"] == {"two_factor": True}
    assert StaticDevice.objects.filter(user=alice).exists()

    response = client.post(
        reverse("mfa_setup"), {"action": "remove_passkey", "passkey": second_key.pk}, follow=True
    )
    assert "two-factor sign-in is off" in response.content.decode()
    assert not WebAuthnCredential.objects.exists() and not StaticDevice.objects.exists()
    assert payload(AuditEvent.objects.filter(action="mfa.passkey_removed").last())["after"] == {
        "two_factor": False
    }
    assert is_verified(sign_in())  # the password alone again


def test_coe_admin_reset_removes_the_passkeys(alice, unit_a, authenticator):
    register(sign_in(), authenticator)
    admin = member(Role.COE_ADMIN, unit_a, username="dana")
    client = Client()
    client.force_login(admin)
    client.post(reverse("core:person_detail", args=[alice.pk]), {"action": "reset_mfa"})
    assert not WebAuthnCredential.objects.filter(user=alice).exists()
    assert not StaticDevice.objects.filter(user=alice).exists()
    reset = AuditEvent.objects.get(action="mfa.reset")
    assert reset.actor == admin and payload(reset)["before"] == {"devices": ["passkey"]}
    assert is_verified(sign_in())


def test_an_admin_required_to_set_up_mfa_can_do_it_with_a_passkey(settings, unit_a, authenticator):
    settings.KEEL_REQUIRE_MFA_FOR_ADMINS = True
    member(Role.COE_ADMIN, unit_a, username="dana")
    client = sign_in("dana")
    response = client.get(reverse("home"))
    assert response["Location"].startswith(reverse("mfa_setup"))
    assert register(client, authenticator).status_code == 200
    assert is_verified(client)

    later = sign_in("dana")
    assert not is_verified(later)
    assert verify(later, authenticator).status_code == 200 and is_verified(later)
    # the only factor of a role that requires one stays
    passkey = WebAuthnCredential.objects.get()
    response = later.post(
        reverse("mfa_setup"), {"action": "remove_passkey", "passkey": passkey.pk}, follow=True
    )
    assert "Your role requires two-factor sign-in" in response.content.decode()
    assert WebAuthnCredential.objects.filter(pk=passkey.pk).exists()


def test_every_passkey_step_needs_the_csrf_token(alice, authenticator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    for name in (
        "passkey_register_begin",
        "passkey_register_complete",
        "passkey_verify_begin",
        "passkey_verify_complete",
    ):
        assert step(client, name).status_code == 403, name
    page = client.get(reverse("mfa_setup")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    options = client.post(
        reverse("passkey_register_begin"),
        "{}",
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert options.status_code == 200 and options.json()["rp"]["id"] == RP_ID
    assert not WebAuthnCredential.objects.exists()


def test_the_setup_page_lists_passkeys_in_constant_queries(
    alice, authenticator, django_assert_max_num_queries
):
    client = sign_in()
    register(client, authenticator)
    recovery_codes(client)  # shown once: out of the way
    with django_assert_max_num_queries(100) as one:
        assert client.get(reverse("mfa_setup")).status_code == 200
    queries_with_one = len(one)  # now: each request resets Django's query log
    for _ in range(5):
        register(client, SoftAuthenticator(origin=ORIGIN, rp_id=RP_ID), name="")
    with django_assert_max_num_queries(queries_with_one):
        page = client.get(reverse("mfa_setup")).content.decode()
    assert page.count('name="action" value="remove_passkey"') == 6
