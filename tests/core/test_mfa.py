"""Two-factor sign-in (issue 18, item 3) with django-otp through the real pages: set up an
authenticator app (its codes computed here from the device's key, as the app would), recovery
codes shown once and each usable once, the second step after the password before any page or
API call, required for admins when KEEL_REQUIRE_MFA_FOR_ADMINS, reset by a CoE admin."""

import datetime
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.choices import Role
from core.models import AuditEvent
from tests.factories import member

PASSWORD = "correct horse battery staple"


@pytest.fixture
def alice(unit_a):
    user = member(Role.BU_MEMBER, unit_a, username="alice")
    user.set_password(PASSWORD)
    user.save()
    return user


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def sign_in(username="alice") -> Client:
    client = Client()
    assert (
        client.post(reverse("login"), {"username": username, "password": PASSWORD}).status_code
        == 302
    )
    return client


def enable(client) -> list[str]:
    page = client.get(reverse("mfa_setup")).content.decode()
    assert "<svg" in page  # the QR code
    device = TOTPDevice.objects.get(confirmed=False)
    assert device.config_url.split("secret=", 1)[1].split("&", 1)[0] in page
    done = client.post(reverse("mfa_setup"), {"token": code_for(device)}).content.decode()
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", done)
    assert len(codes) == 10
    return codes


def test_setup_then_the_second_step_guards_pages_and_the_api(alice):
    laptop = sign_in()
    wrong = laptop.post(reverse("mfa_setup"), {"token": "000000"}).content.decode()
    assert "does not match" in wrong and not TOTPDevice.objects.filter(confirmed=True).exists()
    enable(laptop)
    assert AuditEvent.objects.filter(action="mfa.enabled").count() == 1
    assert laptop.get(reverse("home")).status_code == 200  # this session is verified

    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=2)
    with time_machine.travel(later):
        phone = sign_in()
        home = phone.get(reverse("home"))
        assert home.status_code == 302 and home["Location"].startswith(reverse("mfa_verify"))
        assert phone.get("/api/v1/initiatives/").status_code == 403
        # the setup page cannot be used to replace the device without the code
        assert phone.get(reverse("mfa_setup"))["Location"].startswith(reverse("mfa_verify"))
        bad = phone.post(reverse("mfa_verify"), {"token": "123456"})
        assert "not right" in bad.content.decode()
    with time_machine.travel(later + datetime.timedelta(seconds=5)):
        device = TOTPDevice.objects.get(confirmed=True)
        ok = phone.post(reverse("mfa_verify"), {"token": code_for(device), "next": "/initiatives/"})
        assert ok.status_code == 302 and ok["Location"] == "/initiatives/"
        assert phone.get(reverse("home")).status_code == 200
        assert phone.get("/api/v1/initiatives/").status_code == 200


def test_recovery_codes_work_once(alice):
    codes = enable(sign_in())
    first = sign_in()
    assert first.post(reverse("mfa_verify"), {"token": codes[0]}).status_code == 302
    assert first.get(reverse("home")).status_code == 200
    second = sign_in()
    reused = second.post(reverse("mfa_verify"), {"token": codes[0]})
    assert reused.status_code == 200 and "not right" in reused.content.decode()
    assert AuditEvent.objects.filter(action="mfa.recovery_code_used").count() == 1


def test_admins_must_set_it_up_when_required(settings, unit_a, alice):
    settings.KEEL_REQUIRE_MFA_FOR_ADMINS = True
    admin = member(Role.COE_ADMIN, unit_a, username="dana")
    admin.set_password(PASSWORD)
    admin.save()
    client = sign_in("dana")
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("mfa_setup"))
    assert "requires two-factor" in client.get(reverse("mfa_setup")).content.decode()
    assert sign_in("alice").get(reverse("home")).status_code == 200  # not required of members
    enable(client)
    assert client.get(reverse("home")).status_code == 200
    page = client.get(reverse("mfa_setup")).content.decode()
    assert "cannot be turned off" in page


def test_coe_admin_resets_a_lost_phone(alice, unit_a):
    enable(sign_in())
    admin = member(Role.COE_ADMIN, unit_a, username="dana")
    client = Client()
    client.force_login(admin)
    url = reverse("core:person_detail", args=[alice.pk])
    assert "Reset (lost phone)" in client.get(url).content.decode()
    client.post(url, {"action": "reset_mfa"})
    assert not TOTPDevice.objects.filter(user=alice).exists()
    assert sign_in().get(reverse("home")).status_code == 200  # password alone again
    assert AuditEvent.objects.get(action="mfa.reset").actor == admin


def test_the_qr_code_is_inline_svg_a_browser_draws(alice):
    """One <path> in the HTML namespace: ``<svg:rect>`` elements would not render inline."""
    page = sign_in().get(reverse("mfa_setup")).content.decode()
    qr = re.search(r'<div class="qr"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert qr.startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in qr
    assert qr.count("<path ") == 1 and "svg:" not in qr and "<rect" not in qr


def test_people_without_a_device_are_not_asked(alice):
    assert sign_in().get(reverse("home")).status_code == 200
