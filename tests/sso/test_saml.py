"""SAML 2.0 sign-in against a real IdP (pysaml2, its own key and port), over HTTP: signed
assertion → JIT person with the mapped roles; unsigned, expired, wrong-audience and replayed
responses each refused with the reason and no session."""

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model

from core.choices import GrantedVia, Role
from core.models import AuditEvent, GroupMapping, Membership
from tests.factories import BusinessUnitFactory
from tests.sso.conftest import is_signed_in, saml_sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_signed_assertion_signs_in_with_mapped_roles(live_server, saml_idp, saml_app):
    retail = BusinessUnitFactory(name="Retail Banking", code="RETAIL")
    GroupMapping.objects.create(group="Keel Retail", business_unit=retail, role=Role.BU_LEAD)
    saml_idp.set_user(
        "lin",
        password="idp-pass",
        email="lin@corp.example",
        given_name="Lin",
        family_name="Osei",
        groups=["Keel Retail", "All Staff"],
    )
    session, response = saml_sign_in(live_server.url, "lin", "idp-pass")
    assert response.status_code == 200, response.text[:800]
    assert is_signed_in(session, live_server.url)
    user = get_user_model().objects.get(email="lin@corp.example")
    assert (user.first_name, user.last_name) == ("Lin", "Osei")
    assert SocialAccount.objects.filter(user=user, provider=saml_idp.entity_id).exists()
    membership = Membership.objects.get(user=user)
    assert (membership.business_unit, membership.role) == (retail, Role.BU_LEAD)
    assert membership.granted_via == GrantedVia.GROUP_MAPPING

    # The directory drops the group: the next sign-in removes the role.
    saml_idp.set_user("lin", password="idp-pass", email="lin@corp.example", groups=["All Staff"])
    session, response = saml_sign_in(live_server.url, "lin", "idp-pass")
    assert "have no access yet" in response.text
    assert not Membership.objects.filter(user=user).exists()


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("unsigned", "not signed by the identity provider"),
        ("expired", "outside its validity period"),
        ("wrong_audience", "addressed to another service"),
    ],
)
def test_bad_assertion_is_refused(live_server, saml_idp, saml_app, mode, reason):
    saml_idp.set_user("eve", password="idp-pass", email="eve@corp.example", groups=[])
    saml_idp.set_mode(mode)
    try:
        session, response = saml_sign_in(live_server.url, "eve", "idp-pass")
    finally:
        saml_idp.set_mode("ok")
    assert "Sign-in refused" in response.text
    assert reason in response.text
    assert not is_signed_in(session, live_server.url)
    assert not get_user_model().objects.filter(email="eve@corp.example").exists()
    assert AuditEvent.objects.filter(action="sso.refused").exists()


def test_replayed_response_is_refused(live_server, saml_idp, saml_app):
    saml_idp.set_user("rob", password="idp-pass", email="rob@corp.example", groups=[])
    session, response = saml_sign_in(live_server.url, "rob", "idp-pass")
    assert is_signed_in(session, live_server.url)
    replay = response.history[0].request  # the POST of the Response to the ACS
    other = type(session)()
    again = other.post(
        replay.url,
        data=replay.body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert again.status_code == 403
    assert "Sign-in refused" in again.text
    assert "replayed or unsolicited" in again.text
    assert not is_signed_in(other, live_server.url)


def test_sp_metadata_names_keel_and_its_acs(live_server, saml_idp, saml_app):
    response = requests.get(saml_idp.sp_entity_id, timeout=10)
    assert response.status_code == 200
    assert f'entityID="{saml_idp.sp_entity_id}"' in response.text
    assert saml_idp.acs_url in response.text
    # No page lets a signed-in person attach further identities.
    assert requests.get(f"{live_server.url}/sso/", timeout=10).status_code == 404
