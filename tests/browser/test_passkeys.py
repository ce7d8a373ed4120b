"""Passkeys in a real browser: Chromium's virtual authenticator (the DevTools WebAuthn
domain) stands in for a laptop's platform authenticator. A person adds a passkey on the
two-factor page, signs out, signs in with the password, uses the passkey and lands on the
dashboard; no page breaks the Content Security Policy."""

import re

import pytest
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import expect

from core.choices import Role
from core.models import AuditEvent
from tests.factories import PASSWORD, BusinessUnitFactory, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def relying_party(settings, live_server):
    """The live server is the relying party: http://localhost:<port> (WebAuthn accepts
    plain http only on localhost)."""
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    assert live_server.url.startswith("http://localhost:")
    return live_server.url


@pytest.fixture
def virtual_authenticator(page):
    """A user-verifying platform authenticator that keeps discoverable credentials, in this
    page's browser context only."""
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    added = devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return devtools, added["authenticatorId"]


def sign_in_with_password(page, base_url, next_path="/"):
    page.goto(f"{base_url}{next_path}")
    page.get_by_label("Username").fill("evelyn")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_add_a_passkey_then_sign_in_with_it(
    relying_party, page, console_errors, virtual_authenticator
):
    base_url = relying_party
    unit = BusinessUnitFactory(name="Retail Banking", code="RETAIL")
    evelyn = member(Role.EXECUTIVE, unit, username="evelyn")

    sign_in_with_password(page, base_url)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.goto(f"{base_url}/accounts/two-factor/setup/")
    expect(page.get_by_role("heading", name="Passkeys")).to_be_visible()
    page.get_by_label("Name this passkey (optional)").fill("This laptop")
    add = page.get_by_role("button", name="Add a passkey")
    add.focus()
    page.keyboard.press("Enter")  # the keyboard is enough

    codes = page.locator("#recovery-codes")
    expect(codes).to_contain_text("Keep these recovery codes somewhere safe")
    expect(codes.locator("li")).to_have_count(10)
    passkey = WebAuthnCredential.objects.get(user=evelyn)
    assert passkey.name == "This laptop"
    assert AuditEvent.objects.filter(action="mfa.enabled").count() == 1
    page.get_by_role("link", name="Continue").click()
    page.goto(f"{base_url}/accounts/two-factor/setup/")
    expect(page.locator("#passkey-list")).to_contain_text("This laptop")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Keel")).to_be_visible()

    sign_in_with_password(page, base_url, "/dashboard/")
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/verify/\?next=/dashboard/$"))
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(f"{base_url}/dashboard/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    passkey.refresh_from_db()
    assert passkey.last_used_at is not None
    assert console_errors == []


def test_a_cancelled_passkey_request_is_explained(relying_party, page, console_errors):
    """The person cancels the browser's passkey prompt (the browser's NotAllowedError,
    raised here in its place): the page says so in words and the button works again."""
    base_url = relying_party
    unit = BusinessUnitFactory(name="Retail Banking", code="RETAIL")
    member(Role.EXECUTIVE, unit, username="evelyn")
    sign_in_with_password(page, base_url)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.goto(f"{base_url}/accounts/two-factor/setup/")
    page.evaluate(
        """() => {
            navigator.credentials.create = () => Promise.reject(new DOMException(
                "The operation either timed out or was not allowed.", "NotAllowedError"));
        }"""
    )
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("alert")).to_contain_text("cancelled or timed out")
    expect(page.get_by_role("button", name="Add a passkey")).to_be_enabled()
    assert not WebAuthnCredential.objects.exists()
    assert console_errors == []
