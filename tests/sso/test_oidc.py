"""OpenID Connect sign-in against a real provider, over HTTP: PKCE, state and nonce, JIT
provisioning and group mapping, and each refusal with a reason and no session."""

import json
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model

from core.choices import GrantedVia, Role
from core.models import AuditEvent, GroupMapping, Membership
from tests.factories import BusinessUnitFactory, UserFactory
from tests.sso.conftest import OIDC_CLIENT, authorize_at_provider, is_signed_in, start_oidc

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def retail(db):
    return BusinessUnitFactory(name="Retail Banking", code="RETAIL")


def _payload(action: str) -> dict:
    return json.loads(AuditEvent.objects.filter(action=action).latest("sequence").payload)


def _with_query(url: str, **changes) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_first_sign_in_creates_person_with_mapped_roles(
    live_server, oidc_provider, oidc_app, retail
):
    GroupMapping.objects.create(group="keel-retail", business_unit=retail, role=Role.BU_LEAD)
    oidc_provider.set_user(
        "u-100",
        email="dana@corp.example",
        given_name="Dana",
        family_name="Reyes",
        groups=["keel-retail", "unrelated"],
    )
    session, authorize = start_oidc(live_server.url)
    query = parse_qs(urlsplit(authorize).query)
    assert query["client_id"] == [OIDC_CLIENT]
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["nonce"][0] and query["state"][0]

    callback = authorize_at_provider(session, authorize, "u-100")
    response = session.get(callback, timeout=10)
    assert response.status_code == 200
    assert is_signed_in(session, live_server.url)
    # The token request proved possession of the PKCE verifier.
    assert oidc_provider.token_requests[-1].get("code_verifier")

    user = get_user_model().objects.get(email="dana@corp.example")
    assert (user.first_name, user.last_name) == ("Dana", "Reyes")
    assert SocialAccount.objects.filter(user=user, provider="corp", uid="u-100").exists()
    membership = Membership.objects.get(user=user)
    assert (membership.business_unit, membership.role) == (retail, Role.BU_LEAD)
    assert membership.granted_via == GrantedVia.GROUP_MAPPING
    change = _payload("membership.synced")
    assert change["after"]["added"] == ["RETAIL:bu_lead"]
    assert change["after"]["claim"] == "groups"
    assert change["after"]["provider"] == "corp"
    assert change["before"]["memberships"] == []


def test_group_change_at_provider_changes_roles_at_next_sign_in(
    live_server, oidc_provider, oidc_app, retail
):
    insure = BusinessUnitFactory(name="Insurance", code="INSURE")
    GroupMapping.objects.create(group="keel-retail", business_unit=retail, role=Role.BU_MEMBER)
    GroupMapping.objects.create(group="keel-insure", business_unit=insure, role=Role.BU_LEAD)
    GroupMapping.objects.create(group="keel-exec", role=Role.EXECUTIVE)
    invited = UserFactory(username="sam", email="Sam@Corp.example")
    manual = Membership.objects.create(user=invited, business_unit=insure, role=Role.BU_MEMBER)

    oidc_provider.set_user("u-7", email="sam@corp.example", groups=["keel-retail"])
    session, authorize = start_oidc(live_server.url)
    session.get(authorize_at_provider(session, authorize, "u-7"), timeout=10)
    roles = set(Membership.objects.filter(user=invited).values_list("business_unit__code", "role"))
    assert roles == {("RETAIL", Role.BU_MEMBER), ("INSURE", Role.BU_MEMBER)}  # linked by email

    oidc_provider.set_user("u-7", email="sam@corp.example", groups=["keel-insure", "keel-exec"])
    session, authorize = start_oidc(live_server.url)
    session.get(authorize_at_provider(session, authorize, "u-7"), timeout=10)
    roles = set(Membership.objects.filter(user=invited).values_list("business_unit__code", "role"))
    # RETAIL is the first top-level unit: organisation-wide roles without a unit go there.
    assert roles == {
        ("INSURE", Role.BU_MEMBER),  # granted by hand: untouched
        ("INSURE", Role.BU_LEAD),
        ("RETAIL", Role.EXECUTIVE),
    }
    assert Membership.objects.get(pk=manual.pk).granted_via == GrantedVia.MANUAL
    change = _payload("membership.synced")
    assert "RETAIL:bu_member" in change["before"]["memberships"]
    assert change["after"]["removed"] == ["RETAIL:bu_member"]
    assert sorted(change["after"]["added"]) == ["INSURE:bu_lead", "RETAIL:executive"]
    assert change["after"]["groups"] == ["keel-exec", "keel-insure"]


def test_no_mapped_group_signs_in_with_no_access(live_server, oidc_provider, oidc_app, retail):
    UserFactory(username="coe", email="coe@corp.example", first_name="Cora", last_name="Admin")
    Membership.objects.create(
        user=get_user_model().objects.get(username="coe"), business_unit=retail, role=Role.COE_ADMIN
    )
    oidc_provider.set_user("u-9", email="nobody@corp.example", groups=["finance-all"])
    session, authorize = start_oidc(live_server.url)
    response = session.get(authorize_at_provider(session, authorize, "u-9"), timeout=10)
    assert urlsplit(response.url).path == "/accounts/no-access/"
    assert "have no access yet" in response.text
    assert "coe@corp.example" in response.text  # whom to ask
    assert "finance-all" in response.text  # what Keel received
    assert not Membership.objects.filter(user__email="nobody@corp.example").exists()


def test_tampered_state_is_refused_without_session(live_server, oidc_provider, oidc_app):
    oidc_provider.set_user("u-1", email="t@corp.example", groups=[])
    session, authorize = start_oidc(live_server.url)
    callback = authorize_at_provider(session, authorize, "u-1")
    response = session.get(_with_query(callback, state="forged-state-value"), timeout=10)
    assert "Sign-in refused" in response.text
    assert "does not belong to a sign-in started here" in response.text
    assert not is_signed_in(session, live_server.url)
    assert not get_user_model().objects.filter(email="t@corp.example").exists()


def test_replayed_callback_is_refused(live_server, oidc_provider, oidc_app):
    oidc_provider.set_user("u-2", email="r@corp.example", groups=[])
    session, authorize = start_oidc(live_server.url)
    callback = authorize_at_provider(session, authorize, "u-2")
    assert session.get(callback, timeout=10).status_code == 200
    session.post(
        f"{live_server.url}/accounts/logout/",
        data={"csrfmiddlewaretoken": session.cookies["csrftoken"]},
        timeout=10,
    )
    assert not is_signed_in(session, live_server.url)
    # The same code and state again, from the same browser and from another one.
    response = session.get(callback, timeout=10)
    assert "Sign-in refused" in response.text
    assert not is_signed_in(session, live_server.url)


def test_replayed_code_with_fresh_state_is_refused_by_provider(
    live_server, oidc_provider, oidc_app
):
    oidc_provider.set_user("u-3", email="c@corp.example", groups=[])
    session, authorize = start_oidc(live_server.url)
    first = authorize_at_provider(session, authorize, "u-3")
    code = parse_qs(urlsplit(first).query)["code"][0]
    assert session.get(first, timeout=10).status_code == 200
    session.post(
        f"{live_server.url}/accounts/logout/",
        data={"csrfmiddlewaretoken": session.cookies["csrftoken"]},
        timeout=10,
    )
    # A new sign-in whose callback carries the old, already redeemed code.
    session, authorize = start_oidc(live_server.url, session)
    fresh = authorize_at_provider(session, authorize, "u-3")
    response = session.get(_with_query(fresh, code=code), timeout=10)
    assert "Sign-in refused" in response.text
    assert "refused the authorization code" in response.text
    assert not is_signed_in(session, live_server.url)


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("wrong_audience", "issued for another application"),
        ("drop_nonce", "nonce"),
    ],
)
def test_bad_id_token_is_refused(live_server, oidc_provider, oidc_app, mode, reason):
    oidc_provider.set_user("u-4", email="a@corp.example", groups=[])
    oidc_provider.mode = mode
    try:
        session, authorize = start_oidc(live_server.url)
        response = session.get(authorize_at_provider(session, authorize, "u-4"), timeout=10)
    finally:
        oidc_provider.mode = "ok"
    assert "Sign-in refused" in response.text
    assert reason in response.text
    assert not is_signed_in(session, live_server.url)
    assert not get_user_model().objects.filter(email="a@corp.example").exists()
    assert AuditEvent.objects.filter(action="sso.refused").exists()


def test_deactivated_person_is_refused(live_server, oidc_provider, oidc_app):
    UserFactory(username="gone", email="gone@corp.example", is_active=False)
    oidc_provider.set_user("u-5", email="gone@corp.example", groups=[])
    session, authorize = start_oidc(live_server.url)
    response = session.get(authorize_at_provider(session, authorize, "u-5"), timeout=10)
    assert "account is deactivated" in response.text
    assert not is_signed_in(session, live_server.url)
