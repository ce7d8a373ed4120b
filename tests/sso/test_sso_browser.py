"""Single sign-on in a real browser: "Sign in with …" on Keel's page, authenticate at the
identity provider, land in Keel with the roles the directory groups map to; a group change
at the provider changes the roles at the next sign-in."""

import re

import pytest
from playwright.sync_api import expect

from core.choices import Role
from core.models import GroupMapping
from tests.factories import BusinessUnitFactory, InitiativeFactory, UserFactory
from tests.sso.conftest import OIDC_NAME, SAML_NAME

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in_with_oidc(page, base_url: str, sub: str) -> None:
    page.goto(f"{base_url}/initiatives/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/initiatives/$"))
    page.get_by_role("button", name=f"Sign in with {OIDC_NAME}").click()
    # At the identity provider: its own page on its own origin.
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible()
    page.get_by_placeholder("sub").fill(sub)
    page.get_by_role("button", name="Authorize").click()


def test_oidc_journey_roles_follow_directory_groups(
    live_server, oidc_provider, oidc_app, page, console_errors
):
    retail = BusinessUnitFactory(name="Retail Banking", code="RETAIL")
    insure = BusinessUnitFactory(name="Insurance", code="INSURE")
    owner = UserFactory(username="owner")
    InitiativeFactory(title="Retail fraud scoring", business_unit=retail, accountable_owner=owner)
    InitiativeFactory(title="Claims triage", business_unit=insure, accountable_owner=owner)
    GroupMapping.objects.create(group="keel-retail", business_unit=retail, role=Role.BU_MEMBER)
    GroupMapping.objects.create(group="keel-insure", business_unit=insure, role=Role.BU_MEMBER)

    oidc_provider.set_user(
        "kim", email="kim@corp.example", given_name="Kim", family_name="Lee", groups=["keel-retail"]
    )
    _sign_in_with_oidc(page, live_server.url, "kim")
    expect(page).to_have_url(f"{live_server.url}/initiatives/")
    results = page.locator("#results")
    expect(results).to_contain_text("Retail fraud scoring")
    expect(results).not_to_contain_text("Claims triage")

    # The directory moves Kim to Insurance; the next sign-in follows.
    oidc_provider.set_user(
        "kim", email="kim@corp.example", given_name="Kim", family_name="Lee", groups=["keel-insure"]
    )
    page.get_by_role("button", name="Sign out").click()
    _sign_in_with_oidc(page, live_server.url, "kim")
    expect(page).to_have_url(f"{live_server.url}/initiatives/")
    expect(results).to_contain_text("Claims triage")
    expect(results).not_to_contain_text("Retail fraud scoring")

    # Removed from every Keel group: signed in, with a page that says whom to ask.
    oidc_provider.set_user("kim", email="kim@corp.example", groups=["payroll"])
    page.get_by_role("button", name="Sign out").click()
    _sign_in_with_oidc(page, live_server.url, "kim")
    expect(page).to_have_url(f"{live_server.url}/accounts/no-access/")
    expect(page.get_by_role("heading", name="have no access yet")).to_be_visible()
    expect(page.get_by_text("payroll")).to_be_visible()
    # Keel's pages raised nothing (the provider's own page wants a CDN and a favicon).
    assert [
        error for error in console_errors if oidc_provider.url not in error and "cdn." not in error
    ] == []


def test_saml_journey_lands_with_mapped_role(live_server, saml_idp, saml_app, page, console_errors):
    retail = BusinessUnitFactory(name="Retail Banking", code="RETAIL")
    owner = UserFactory(username="owner")
    InitiativeFactory(title="Retail fraud scoring", business_unit=retail, accountable_owner=owner)
    GroupMapping.objects.create(group="Keel Retail", business_unit=retail, role=Role.BU_MEMBER)
    saml_idp.set_user(
        "noor", password="idp-pass", email="noor@corp.example", groups=["Keel Retail"]
    )
    page.goto(f"{live_server.url}/initiatives/")
    page.get_by_role("button", name=f"Sign in with {SAML_NAME}").click()
    expect(page.get_by_role("heading", name="Keel test IdP")).to_be_visible()
    page.get_by_label("Username").fill("noor")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong username or password")
    page.get_by_label("Password").fill("idp-pass")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/initiatives/")
    expect(page.locator("#results")).to_contain_text("Retail fraud scoring")
    assert [e for e in console_errors if saml_idp.url not in e] == []
