"""Tests of the test SAML IdP (``saml_idp.py``) alone, with python3-saml (OneLogin, what
django-allauth's SAML provider runs on) as an independent SP: it builds the AuthnRequest,
reads the IdP's metadata, and validates the Response in strict mode. No Keel server and no
database are involved."""

import base64
import html
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from defusedxml import ElementTree as ET
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.authn_request import OneLogin_Saml2_Authn_Request
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings

from tests.sso.saml_idp import MODES, SamlIdP

SP_ENTITY_ID = "http://testserver/sso/saml/test/metadata/"
ACS_URL = "http://testserver/sso/saml/test/acs/"
PASSWORD = "correct horse battery"
EMAIL = "ada@example.org"
GROUPS = ["keel-admins", "keel-reviewers"]
RELAY_STATE = "http://testserver/after/?next=%2Fportfolio%2F"

# What the SP's request handler sees when the browser posts to its ACS.
ACS_REQUEST = {
    "https": "off",
    "http_host": "testserver",
    "script_name": "/sso/saml/test/acs/",
    "get_data": {},
    "post_data": {},
}
MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
SAML = "{urn:oasis:names:tc:SAML:2.0:assertion}"
KEY = re.compile(r'name="key" value="([^"]+)"')
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)">')


@pytest.fixture(scope="module")
def idp():
    idp = SamlIdP(sp_entity_id=SP_ENTITY_ID, acs_url=ACS_URL).start()
    idp.set_user(
        "ada",
        password=PASSWORD,
        email=EMAIL,
        given_name="Ada",
        family_name="Lovelace",
        groups=GROUPS,
    )
    yield idp
    idp.stop()


@pytest.fixture(autouse=True)
def _mode_ok(idp):
    idp.set_mode("ok")


def sp_settings(idp: SamlIdP, *, strict: bool = True, binding: str = C.BINDING_HTTP_REDIRECT):
    """python3-saml settings for the SP, the IdP's part read from the IdP's metadata URL, as
    an administrator configures allauth's SAML provider."""
    idp_data = OneLogin_Saml2_IdPMetadataParser.parse_remote(
        idp.metadata_url, timeout=10, required_sso_binding=binding
    )
    own = {
        "strict": strict,
        "sp": {
            "entityId": SP_ENTITY_ID,
            "assertionConsumerService": {"url": ACS_URL, "binding": C.BINDING_HTTP_POST},
            "NameIDFormat": C.NAMEID_EMAIL_ADDRESS,
        },
        "security": {
            "authnRequestsSigned": False,
            "wantAssertionsSigned": True,
            "wantMessagesSigned": False,
            "allowSingleLabelDomains": True,  # "testserver"
        },
    }
    return OneLogin_Saml2_IdPMetadataParser.merge_settings(own, idp_data)


def start_sso(idp: SamlIdP, *, binding: str = C.BINDING_HTTP_REDIRECT, session=None):
    """SP-initiated SSO up to the IdP's login page: returns (session, AuthnRequest ID, page)."""
    session = session or requests.Session()
    settings = sp_settings(idp, binding=binding)
    if binding == C.BINDING_HTTP_REDIRECT:
        auth = OneLogin_Saml2_Auth(ACS_REQUEST, settings)
        page = session.get(auth.login(return_to=RELAY_STATE), timeout=10)
        request_id = auth.get_last_request_id()
    else:
        authn_request = OneLogin_Saml2_Authn_Request(OneLogin_Saml2_Settings(settings))
        page = session.post(
            idp.sso_post_url,
            data={
                "SAMLRequest": authn_request.get_request(deflate=False),
                "RelayState": RELAY_STATE,
            },
            timeout=10,
        )
        request_id = authn_request.get_id()
    assert page.status_code == 200, page.text[:500]
    return session, request_id, page


def sign_in(session, idp: SamlIdP, login_page, *, username="ada", password=PASSWORD):
    """Fill in and submit the IdP's login form."""
    key = KEY.search(login_page.text).group(1)
    return session.post(
        f"{idp.url}/login",
        data={"key": key, "username": username, "password": password},
        timeout=10,
    )


def posted_form(page) -> tuple[str, dict[str, str]]:
    """The auto-submitting form: (action, hidden fields)."""
    action = html.unescape(FORM_ACTION.search(page.text).group(1))
    fields = {name: html.unescape(value) for name, value in HIDDEN.findall(page.text)}
    return action, fields


def validate(idp: SamlIdP, saml_response: str, request_id: str, *, strict: bool = True):
    """python3-saml's verdict on the SAMLResponse, as the SP's ACS view reaches it."""
    settings = OneLogin_Saml2_Settings(sp_settings(idp, strict=strict), sp_validation_only=True)
    response = OneLogin_Saml2_Response(settings, saml_response)
    request_data = {**ACS_REQUEST, "post_data": {"SAMLResponse": saml_response}}
    return response, response.is_valid(request_data, request_id=request_id)


def full_sso(idp: SamlIdP, **kwargs):
    """A whole sign-in: returns (SAMLResponse, RelayState, AuthnRequest ID)."""
    session, request_id, page = start_sso(idp, **kwargs)
    posted = sign_in(session, idp, page)
    assert posted.status_code == 200, posted.text[:500]
    action, fields = posted_form(posted)
    assert action == ACS_URL
    return fields["SAMLResponse"], fields.get("RelayState"), request_id


def test_metadata_describes_the_idp(idp):
    root = ET.fromstring(requests.get(idp.metadata_url, timeout=10).content)
    assert root.get("entityID") == idp.entity_id == f"{idp.url}/metadata"
    descriptor = root.find(f"{MD}IDPSSODescriptor")
    assert descriptor.get("protocolSupportEnumeration") == C.NS_SAMLP
    services = {
        s.get("Binding"): s.get("Location") for s in descriptor.iter(f"{MD}SingleSignOnService")
    }
    assert services == {
        C.BINDING_HTTP_REDIRECT: f"{idp.url}/sso/redirect",
        C.BINDING_HTTP_POST: f"{idp.url}/sso/post",
    }
    assert idp.sso_url == services[C.BINDING_HTTP_REDIRECT]
    key = descriptor.find(f"{MD}KeyDescriptor")
    assert key.get("use") == "signing"
    assert key.find(f".//{DS}X509Certificate").text.strip() == idp.certificate_b64

    certificate = x509.load_pem_x509_certificate(idp.certificate_pem.encode())
    assert certificate.public_key().key_size == 2048
    assert isinstance(certificate.signature_hash_algorithm, hashes.SHA256)
    assert base64.b64decode(idp.certificate_b64) == certificate.public_bytes(Encoding.DER)


@pytest.mark.parametrize("binding", [C.BINDING_HTTP_REDIRECT, C.BINDING_HTTP_POST])
def test_ok_response_is_valid_for_python3_saml(idp, binding):
    saml_response, relay_state, request_id = full_sso(idp, binding=binding)
    response, valid = validate(idp, saml_response, request_id)

    assert valid, response.get_error()
    assert relay_state == RELAY_STATE
    assert response.get_nameid() == EMAIL
    assert response.get_nameid_format() == C.NAMEID_EMAIL_ADDRESS
    assert response.get_attributes() == {
        "email": [EMAIL],
        "givenName": ["Ada"],
        "sn": ["Lovelace"],
        "uid": ["ada"],
        "groups": GROUPS,
    }
    signed = response.process_signed_elements()
    assert f"{{{C.NS_SAMLP}}}Response" in signed
    assert f"{{{C.NS_SAML}}}Assertion" in signed


def test_the_assertion_carries_the_names_and_times_asked_for(idp):
    saml_response, _, request_id = full_sso(idp)
    document = base64.b64decode(saml_response).decode()
    root = ET.fromstring(document)
    assertion = root.find(f"{SAML}Assertion")

    attributes = {a.get("Name"): a for a in assertion.iter(f"{SAML}Attribute")}
    assert set(attributes) == {"email", "givenName", "sn", "uid", "groups"}
    assert [v.text for v in attributes["groups"].findall(f"{SAML}AttributeValue")] == GROUPS
    assert root.get("InResponseTo") == request_id
    assert assertion.find(f".//{SAML}Audience").text == SP_ENTITY_ID
    assert "rsa-sha256" in document and "xmlenc#sha256" in document
    assert 'Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"' not in document
    assert assertion.find(f".//{SAML}AuthnContextClassRef").text == (
        "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
    )


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("unsigned", r"sign"),
        ("expired", r"expired|NotOnOrAfter"),
        ("wrong_audience", r"audience"),
    ],
)
def test_negative_modes_are_refused_by_python3_saml(idp, mode, error):
    idp.set_mode(mode)
    saml_response, _, request_id = full_sso(idp)

    response, valid = validate(idp, saml_response, request_id)
    assert not valid
    assert re.search(error, response.get_error(), re.IGNORECASE), response.get_error()

    if mode != "unsigned":
        # The only fault is the one asked for: the signatures hold over the altered content.
        response, valid = validate(idp, saml_response, request_id, strict=False)
        assert valid, response.get_error()
        assert len(response.process_signed_elements()) == 2


def test_expired_assertion_is_two_hours_old(idp):
    idp.set_mode("expired")
    saml_response, _, _ = full_sso(idp)
    root = ET.fromstring(base64.b64decode(saml_response))
    assertion = root.find(f"{SAML}Assertion")
    response_instant = root.get("IssueInstant")
    times = {
        "IssueInstant": assertion.get("IssueInstant"),
        "Conditions": assertion.find(f"{SAML}Conditions").get("NotOnOrAfter"),
        "SubjectConfirmationData": assertion.find(f".//{SAML}SubjectConfirmationData").get(
            "NotOnOrAfter"
        ),
    }

    def parse(value):
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")

    now = parse(response_instant)
    assert 7100 <= (now - parse(times["IssueInstant"])).total_seconds() <= 7300
    for name in ("Conditions", "SubjectConfirmationData"):
        assert 6700 <= (now - parse(times[name])).total_seconds() <= 7000, name


def test_wrong_password_shows_the_form_again(idp):
    session, request_id, page = start_sso(idp)
    assert '<label for="username">Username</label>' in page.text
    assert '<label for="password">Password</label>' in page.text
    assert ">Sign in</button>" in page.text

    for username, password in [("ada", "wrong"), ("nobody", PASSWORD)]:
        again = sign_in(session, idp, page, username=username, password=password)
        assert again.status_code == 200
        assert "Wrong username or password" in again.text
        assert "SAMLResponse" not in again.text

    # The request is still open: the right password answers it.
    posted = sign_in(session, idp, page)
    _, fields = posted_form(posted)
    response, valid = validate(idp, fields["SAMLResponse"], request_id)
    assert valid, response.get_error()


def test_response_page_posts_itself_and_has_a_fallback_button(idp):
    session, _, page = start_sso(idp)
    posted = sign_in(session, idp, page)
    assert "<noscript>" in posted.text
    assert '<button type="submit">Continue</button>' in posted.text
    assert "document.forms[0].submit()" in posted.text


def test_a_sign_in_request_is_answered_once(idp):
    session, _, page = start_sso(idp)
    assert sign_in(session, idp, page).status_code == 200
    assert sign_in(session, idp, page).status_code == 400


def test_bad_authn_requests_are_refused(idp):
    assert requests.get(idp.sso_url, timeout=10).status_code == 400  # no SAMLRequest

    settings = sp_settings(idp)
    settings["sp"]["entityId"] = "https://stranger.example/sp"
    url = OneLogin_Saml2_Auth(ACS_REQUEST, settings).login()
    refused = requests.get(url, timeout=10)
    assert refused.status_code == 400
    assert "unknown issuer" in refused.text

    settings = sp_settings(idp)
    settings["sp"]["assertionConsumerService"]["url"] = "http://evil.example/acs/"
    refused = requests.get(OneLogin_Saml2_Auth(ACS_REQUEST, settings).login(), timeout=10)
    assert refused.status_code == 400
    assert "AssertionConsumerServiceURL" in refused.text


def test_concurrent_sign_ins(idp):
    barrier = threading.Barrier(4)

    def one(_):
        barrier.wait(timeout=10)
        saml_response, _, request_id = full_sso(idp)
        return validate(idp, saml_response, request_id)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(one, range(4)))
    assert all(valid for _, valid in results), [r.get_error() for r, _ in results]


def test_set_mode_knows_the_modes(idp):
    assert MODES == ("ok", "unsigned", "expired", "wrong_audience")
    with pytest.raises(ValueError, match="unknown mode"):
        idp.set_mode("unsigned_response_signed")
