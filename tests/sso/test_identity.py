"""Identity configuration and rules without a provider: providers from the environment,
local passwords switched off (break-glass superuser only), the Group mappings page (CoE
admins, audited, field errors, a query count that does not grow) and the recomputation of
directory-granted memberships."""

import json

import pytest
from allauth.socialaccount.models import SocialApp
from django.test import Client
from django.urls import reverse

from config.sso_settings import oidc_apps, saml_apps, socialaccount_providers
from core.choices import GrantedVia, Role
from core.directory import memberships_sync
from core.models import AuditEvent, GroupMapping, Membership
from tests.factories import PASSWORD, BusinessUnitFactory, UserFactory, member

ENTRA = {
    "KEEL_OIDC_ENTRA_ISSUER": "https://login.microsoftonline.com/0000-tenant/v2.0",
    "KEEL_OIDC_ENTRA_CLIENT_ID": "app-id",
    "KEEL_OIDC_ENTRA_CLIENT_SECRET": "app-secret",
    "KEEL_OIDC_ENTRA_NAME": "Microsoft Entra ID",
    "KEEL_OIDC_OKTA_ISSUER": "https://corp.okta.com",
    "KEEL_OIDC_OKTA_CLIENT_ID": "okta-id",
    "KEEL_OIDC_OKTA_SCOPES": "openid profile email groups",
    "KEEL_SAML_ADFS_METADATA_URL": "https://adfs.corp.example/FederationMetadata.xml",
    "KEEL_SAML_ADFS_ENTITY_ID": "http://adfs.corp.example/adfs/services/trust",
    "KEEL_SAML_ADFS_SP_ENTITY_ID": "https://keel.corp.example/sso/saml/adfs/metadata/",
    "KEEL_SAML_ADFS_GROUPS_ATTRIBUTE": (
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"
    ),
}


def test_providers_from_the_environment():
    entra, okta = oidc_apps(ENTRA)
    assert entra["provider_id"] == "entra" and entra["name"] == "Microsoft Entra ID"
    assert entra["settings"]["server_url"].endswith("/v2.0")
    assert entra["settings"]["oauth_pkce_enabled"] is True
    assert entra["settings"]["scope"] == ["openid", "profile", "email"]
    assert okta["settings"]["scope"] == ["openid", "profile", "email", "groups"]
    (adfs,) = saml_apps(ENTRA)
    assert adfs["client_id"] == "adfs"  # the URL slug: /sso/saml/adfs/…
    assert adfs["settings"]["idp"]["metadata_url"].startswith("https://adfs.")
    assert adfs["settings"]["advanced"]["want_assertion_signed"] is True
    assert adfs["settings"]["advanced"]["reject_idp_initiated_sso"] is True
    assert adfs["settings"]["keel_groups_claim"].endswith("/claims/groups")
    providers = socialaccount_providers(ENTRA)
    assert providers["openid_connect"]["provider_class"] == "core.sso.KeelOpenIDConnectProvider"
    assert socialaccount_providers({}) == {
        "openid_connect": {
            "provider_class": "core.sso.KeelOpenIDConnectProvider",
            "OAUTH_PKCE_ENABLED": True,
            "APPS": [],
        },
        "saml": {"APPS": []},
    }


@pytest.mark.django_db
def test_sign_in_page_offers_each_provider_and_allows_its_origin(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = socialaccount_providers(ENTRA)
    SocialApp.objects.create(
        provider="openid_connect",
        provider_id="keycloak",
        name="Keycloak",
        client_id="keel",
        settings={"server_url": "https://sso.corp.example/realms/corp"},
    )
    response = client.get(reverse("login"))
    page = response.content.decode()
    for name in ("Microsoft Entra ID", "Keycloak", "Adfs"):
        assert f"Sign in with {name}" in page
    assert 'action="/sso/oidc/entra/login/"' in page
    assert 'action="/sso/saml/adfs/login/"' in page
    policy = response["Content-Security-Policy"]
    form_action = next(d for d in policy.split(";") if "form-action" in d)
    assert "https://login.microsoftonline.com" in form_action
    assert "https://sso.corp.example" in form_action
    assert "'self'" in form_action


@pytest.mark.django_db
def test_local_passwords_off_except_break_glass(client, settings, unit_a):
    settings.KEEL_LOCAL_LOGIN = False
    member(Role.BU_MEMBER, unit_a, username="alice")
    UserFactory(username="root", is_superuser=True, is_staff=True)
    refused = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert refused.status_code == 200
    assert "Local passwords are switched off" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    page = client.get(reverse("login")).content.decode()
    assert "Administrator sign-in (break-glass)" in page
    allowed = client.post(reverse("login"), {"username": "root", "password": PASSWORD})
    assert allowed.status_code == 302


@pytest.mark.django_db
def test_password_reset_only_for_superusers_when_local_off(client, settings, mailoutbox, unit_a):
    settings.KEEL_LOCAL_LOGIN = False
    member(Role.BU_MEMBER, unit_a, username="alice", email="alice@corp.example")
    UserFactory(username="root", email="root@corp.example", is_superuser=True)
    client.post(reverse("password_reset"), {"email": "alice@corp.example"})
    client.post(reverse("password_reset"), {"email": "root@corp.example"})
    assert [m.to for m in mailoutbox] == [["root@corp.example"]]


@pytest.fixture
def coe_admin(unit_a):
    return member(Role.COE_ADMIN, unit_a, username="coe")


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_group_mappings_page_adds_lists_and_removes(
    coe_admin, unit_a, django_assert_max_num_queries
):
    client = _signed_in(coe_admin)
    url = reverse("core:group_mappings")
    missing_unit = client.post(url, {"action": "add", "group": "keel-retail", "role": "bu_member"})
    assert "A business-unit role needs its unit." in missing_unit.content.decode()
    added = client.post(
        url,
        {"action": "add", "group": "keel-retail", "role": "bu_member", "business_unit": unit_a.pk},
    )
    assert added.status_code == 302
    duplicate = client.post(
        url,
        {"action": "add", "group": "keel-retail", "role": "bu_member", "business_unit": unit_a.pk},
    )
    assert "already grants this role" in duplicate.content.decode()
    client.post(url, {"action": "add", "group": "keel-exec", "role": "executive"})
    mapping = GroupMapping.objects.get(group="keel-retail")
    assert mapping.created_by == coe_admin
    assert AuditEvent.objects.filter(action="group_mapping.created").count() == 2

    for index in range(30):
        GroupMapping.objects.create(group=f"g-{index}", business_unit=unit_a, role=Role.BU_MEMBER)
    with django_assert_max_num_queries(8):
        page = client.get(url).content.decode()
    assert "keel-retail" in page and "The organisation" in page
    assert "g-29" in client.get(url, {"q": "g-29"}).content.decode()
    assert "No mapping matches" in client.get(url, {"q": "nothing-like-it"}).content.decode()

    client.post(url, {"action": "delete", "mapping": mapping.pk})
    assert not GroupMapping.objects.filter(pk=mapping.pk).exists()
    assert AuditEvent.objects.filter(action="group_mapping.deleted").count() == 1


@pytest.mark.django_db
def test_group_mappings_page_is_for_coe_admins_only(unit_a):
    client = _signed_in(member(Role.BU_LEAD, unit_a, username="lead"))
    assert client.get(reverse("core:group_mappings")).status_code == 403
    assert (
        client.post(
            reverse("core:group_mappings"), {"action": "add", "group": "x", "role": "admin"}
        ).status_code
        == 403
    )
    assert not GroupMapping.objects.exists()


@pytest.mark.django_db
def test_sync_touches_only_what_the_directory_granted(unit_a):
    other = BusinessUnitFactory(code="OTHER")
    person = UserFactory(username="p")
    Membership.objects.create(user=person, business_unit=other, role=Role.BU_LEAD)  # by hand
    GroupMapping.objects.create(group="a", business_unit=unit_a, role=Role.BU_MEMBER)
    GroupMapping.objects.create(
        provider="other-idp", group="b", business_unit=other, role=Role.BU_MEMBER
    )
    GroupMapping.objects.create(group="c", business_unit=other, role=Role.BU_LEAD)

    change = memberships_sync(
        user=person, groups=["a", "b", "c"], provider="corp", via=GrantedVia.GROUP_MAPPING
    )
    held = set(
        Membership.objects.filter(user=person).values_list("business_unit", "role", "granted_via")
    )
    assert held == {
        (other.pk, Role.BU_LEAD, GrantedVia.MANUAL),  # already held by hand: not doubled
        (unit_a.pk, Role.BU_MEMBER, GrantedVia.GROUP_MAPPING),
    }  # "b" belongs to another provider
    assert change["added"] == [f"{unit_a.code}:bu_member"]

    assert (
        memberships_sync(
            user=person, groups=["a", "b", "c"], provider="corp", via=GrantedVia.GROUP_MAPPING
        )
        is None
    )  # nothing changed, nothing audited
    memberships_sync(user=person, groups=[], provider="corp", via=GrantedVia.GROUP_MAPPING)
    held = set(Membership.objects.filter(user=person).values_list("business_unit", "role"))
    assert held == {(other.pk, Role.BU_LEAD)}  # the manual one stays
    events = AuditEvent.objects.filter(action="membership.synced").order_by("sequence")
    assert [json.loads(e.payload)["after"]["removed"] for e in events] == [
        [],
        [f"{unit_a.code}:bu_member"],
    ]
    with pytest.raises(ValueError):
        memberships_sync(user=person, groups=[], provider="corp", via=GrantedVia.MANUAL)
