"""Identity providers for the single sign-on tests, each a real server on its own port with
its own keys: an OpenID Connect provider (Authlib, ``oidc_provider.py``) and a SAML 2.0 IdP
(pysaml2, ``saml_idp.py``). Keel is configured against them the way an administrator does,
with Social application rows."""

import html
import re

import pytest
import requests
from allauth.socialaccount.models import SocialApp

from config.sso_settings import SAML_DEFAULT_ATTRIBUTES
from tests.sso.oidc_provider import OidcProvider
from tests.sso.saml_idp import SamlIdP

OIDC_ID = "corp"
OIDC_NAME = "Corp Login"
OIDC_CLIENT = "keel-client"


@pytest.fixture(scope="session")
def oidc_provider():
    provider = OidcProvider().start()
    yield provider
    provider.stop()


@pytest.fixture
def oidc_app(oidc_provider, db):
    oidc_provider.mode = "ok"
    return SocialApp.objects.create(
        provider="openid_connect",
        provider_id=OIDC_ID,
        name=OIDC_NAME,
        client_id=OIDC_CLIENT,
        secret="keel-secret",
        settings={"server_url": oidc_provider.url, "keel_groups_claim": "groups"},
    )


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def press_sign_in_with(base_url: str, path: str, session: requests.Session | None = None):
    """Press a "Sign in with …" button of Keel's sign-in page (its form posts to ``path``)
    as a browser would: returns (session, the identity provider's URL Keel redirects to)."""
    session = session or requests.Session()
    login_page = session.get(f"{base_url}/accounts/login/", timeout=10)
    token = CSRF.search(login_page.text).group(1)
    response = session.post(
        f"{base_url}{path}",
        data={"csrfmiddlewaretoken": token, "process": "login"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:500]
    return session, response.headers["Location"]


def start_oidc(base_url: str, session: requests.Session | None = None):
    """Press "Sign in with Corp Login": returns (session, the authorization URL)."""
    return press_sign_in_with(base_url, f"/sso/oidc/{OIDC_ID}/login/", session)


def authorize_at_provider(session: requests.Session, authorize_url: str, sub: str) -> str:
    """Authenticate as ``sub`` at the provider; returns Keel's callback URL (code, state)."""
    response = session.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text[:500]
    return response.headers["Location"]


def is_signed_in(session: requests.Session, base_url: str) -> bool:
    """Whether Keel treats this session as signed in (a page that needs it answers 200)."""
    response = session.get(f"{base_url}/account/sessions/", allow_redirects=False, timeout=10)
    return response.status_code == 200


SAML_SLUG = "corp-saml"
SAML_NAME = "Corp SAML"


@pytest.fixture(scope="session")
def saml_idp(live_server):
    idp = SamlIdP(
        sp_entity_id=f"{live_server.url}/sso/saml/{SAML_SLUG}/metadata/",
        acs_url=f"{live_server.url}/sso/saml/{SAML_SLUG}/acs/",
    ).start()
    yield idp
    idp.stop()


@pytest.fixture
def saml_app(saml_idp, db):
    """Keel's SAML settings as the environment would give them (config.sso_settings), with
    the IdP's metadata URL; single-label host names allowed only because tests run on
    localhost."""
    saml_idp.set_mode("ok")
    settings = {
        "idp": {"entity_id": saml_idp.entity_id, "metadata_url": saml_idp.metadata_url},
        "sp": {"entity_id": saml_idp.sp_entity_id},
        "advanced": {
            "want_assertion_signed": True,
            "reject_idp_initiated_sso": True,
            "strict": True,
            "allow_single_label_domains": True,
        },
        "attribute_mapping": dict(SAML_DEFAULT_ATTRIBUTES),
        "keel_groups_claim": "groups",
    }
    return SocialApp.objects.create(
        provider="saml",
        provider_id=saml_idp.entity_id,
        name=SAML_NAME,
        client_id=SAML_SLUG,
        settings=settings,
    )


FORM_FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


def saml_sign_in(base_url: str, username: str, password: str, session=None):
    """Press "Sign in with Corp SAML", sign in at the IdP, and post its Response to Keel's
    ACS as the IdP's page does; returns (session, Keel's final response)."""
    session, sso_url = press_sign_in_with(base_url, f"/sso/saml/{SAML_SLUG}/login/", session)
    idp_page = session.get(sso_url, timeout=10)
    fields = dict(FORM_FIELD.findall(idp_page.text))
    idp_origin = "/".join(sso_url.split("/")[:3])
    posted = session.post(
        f"{idp_origin}/login",
        data={**fields, "username": username, "password": password},
        timeout=10,
    )
    acs = html.unescape(FORM_ACTION.search(posted.text).group(1))
    answer = {k: html.unescape(v) for k, v in FORM_FIELD.findall(posted.text)}
    return session, session.post(acs, data=answer, timeout=10)


# The browser journeys here use the same Chromium fixtures as tests/browser.
from tests.browser.conftest import browser, console_errors, page  # noqa: E402, F401
