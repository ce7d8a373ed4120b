"""Single sign-on providers from the environment (issue 18), as django-allauth's
``SOCIALACCOUNT_PROVIDERS``. Providers may also be added in the admin (Social applications);
both kinds are offered on the sign-in page.

One OpenID Connect provider per ``KEEL_OIDC_<ID>_ISSUER``::

    KEEL_OIDC_ENTRA_ISSUER=https://login.microsoftonline.com/<tenant>/v2.0
    KEEL_OIDC_ENTRA_CLIENT_ID=…
    KEEL_OIDC_ENTRA_CLIENT_SECRET=…
    KEEL_OIDC_ENTRA_NAME=Microsoft Entra ID        # the button says "Sign in with <name>"
    KEEL_OIDC_ENTRA_GROUPS_CLAIM=groups            # the claim holding the directory groups
    KEEL_OIDC_ENTRA_SCOPES=openid profile email    # add "groups" where the provider wants it

One SAML 2.0 identity provider per ``KEEL_SAML_<ID>_METADATA_URL`` (or ``_ENTITY_ID`` with
``_SSO_URL`` and ``_X509CERT`` when there is no metadata URL)::

    KEEL_SAML_ADFS_METADATA_URL=https://adfs.example.com/FederationMetadata/2007-06/FederationMetadata.xml
    KEEL_SAML_ADFS_ENTITY_ID=http://adfs.example.com/adfs/services/trust
    KEEL_SAML_ADFS_NAME=ADFS
    KEEL_SAML_ADFS_SP_ENTITY_ID=https://keel.example.com/sso/saml/adfs/metadata/
    KEEL_SAML_ADFS_GROUPS_ATTRIBUTE=http://schemas.microsoft.com/ws/2008/06/identity/claims/groups
    KEEL_SAML_ADFS_SP_CERT=/run/secrets/keel-saml.crt  # optional: sign requests, decrypt
    KEEL_SAML_ADFS_SP_KEY=/run/secrets/keel-saml.key

SAML responses are checked strictly: the assertion must be signed by the IdP's certificate,
addressed to Keel's entity id (audience), inside its validity window, and in response to a
request Keel made (no IdP-initiated sign-in).
"""

import os
import re
from pathlib import Path

OIDC_DEFAULT_SCOPES = ["openid", "profile", "email"]
SAML_DEFAULT_ATTRIBUTES = {
    "uid": "uid",
    "email": "email",
    "email_verified": "email_verified",
    "first_name": "givenName",
    "last_name": "sn",
}


def _ids(environ, kind: str, suffix: str) -> list[str]:
    pattern = re.compile(rf"^KEEL_{kind}_([A-Z0-9]+)_{suffix}$")
    return sorted({m.group(1) for name in environ if (m := pattern.match(name))})


def _pem(value: str) -> str:
    """A PEM given inline or as a path to a file holding it."""
    value = (value or "").strip()
    if value and not value.startswith("-----") and Path(value).is_file():
        return Path(value).read_text()
    return value


def oidc_apps(environ=os.environ) -> list[dict]:
    apps = []
    for ident in _ids(environ, "OIDC", "ISSUER"):
        get = lambda key, default="", ident=ident: environ.get(  # noqa: E731
            f"KEEL_OIDC_{ident}_{key}", default
        )
        apps.append(
            {
                "provider_id": ident.lower(),
                "name": get("NAME") or ident.title(),
                "client_id": get("CLIENT_ID"),
                "secret": get("CLIENT_SECRET"),
                "settings": {
                    "server_url": get("ISSUER"),
                    "scope": get("SCOPES").split() or OIDC_DEFAULT_SCOPES,
                    "oauth_pkce_enabled": True,
                    "keel_groups_claim": get("GROUPS_CLAIM", "groups"),
                },
            }
        )
    return apps


def saml_apps(environ=os.environ) -> list[dict]:
    idents = set(_ids(environ, "SAML", "METADATA_URL")) | set(_ids(environ, "SAML", "SSO_URL"))
    apps = []
    for ident in sorted(idents):
        get = lambda key, default="", ident=ident: environ.get(  # noqa: E731
            f"KEEL_SAML_{ident}_{key}", default
        )
        slug = ident.lower()
        idp = {"entity_id": get("ENTITY_ID")}
        if get("METADATA_URL"):
            idp["metadata_url"] = get("METADATA_URL")
        else:
            idp.update(sso_url=get("SSO_URL"), x509cert=_pem(get("X509CERT")))
        advanced = {
            "want_assertion_signed": True,
            "reject_idp_initiated_sso": True,
            "strict": True,
        }
        if get("SP_CERT") and get("SP_KEY"):
            advanced.update(
                x509cert=_pem(get("SP_CERT")),
                private_key=_pem(get("SP_KEY")),
                authn_request_signed=True,
            )
        mapping = dict(SAML_DEFAULT_ATTRIBUTES)
        for field in ("uid", "email", "first_name", "last_name"):
            if get(f"ATTR_{field.upper()}"):
                mapping[field] = get(f"ATTR_{field.upper()}")
        apps.append(
            {
                "provider_id": idp["entity_id"],
                "name": get("NAME") or ident.title(),
                "client_id": slug,
                "settings": {
                    "idp": idp,
                    "sp": {"entity_id": get("SP_ENTITY_ID")},
                    "advanced": advanced,
                    "attribute_mapping": mapping,
                    "keel_groups_claim": get("GROUPS_ATTRIBUTE", "groups"),
                },
            }
        )
    return apps


def socialaccount_providers(environ=os.environ) -> dict:
    return {
        "openid_connect": {
            # PKCE and a nonce on every authorization request (core.sso adds the nonce).
            "provider_class": "core.sso.KeelOpenIDConnectProvider",
            "OAUTH_PKCE_ENABLED": True,
            "APPS": oidc_apps(environ),
        },
        "saml": {"APPS": saml_apps(environ)},
    }
