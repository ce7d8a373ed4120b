"""Identity providers for the single sign-on tests, each a real server on its own port with
its own keys: an OpenID Connect provider (Authlib, ``oidc_provider.py``) and a SAML 2.0 IdP
(pysaml2, ``saml_idp.py``). Keel is configured against them the way an administrator does,
with Social application rows."""

import re

import pytest
import requests
from allauth.socialaccount.models import SocialApp

from tests.sso.oidc_provider import OidcProvider

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


def start_oidc(base_url: str, session: requests.Session | None = None):
    """Press "Sign in with Corp Login" as a browser would: returns (session, the
    provider's authorization URL)."""
    session = session or requests.Session()
    login_page = session.get(f"{base_url}/accounts/login/", timeout=10)
    token = CSRF.search(login_page.text).group(1)
    response = session.post(
        f"{base_url}/sso/oidc/{OIDC_ID}/login/",
        data={"csrfmiddlewaretoken": token, "process": "login"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:500]
    return session, response.headers["Location"]


def authorize_at_provider(session: requests.Session, authorize_url: str, sub: str) -> str:
    """Authenticate as ``sub`` at the provider; returns Keel's callback URL (code, state)."""
    response = session.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text[:500]
    return response.headers["Location"]


def is_signed_in(session: requests.Session, base_url: str) -> bool:
    """Whether Keel treats this session as signed in (a page that needs it answers 200)."""
    response = session.get(f"{base_url}/account/sessions/", allow_redirects=False, timeout=10)
    return response.status_code == 200


# The browser journeys here use the same Chromium fixtures as tests/browser.
from tests.browser.conftest import browser, console_errors, page  # noqa: E402, F401
