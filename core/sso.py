"""Single sign-on (issue 18, items 1–2) on django-allauth: OpenID Connect and SAML 2.0
identity providers, several at once, configured from the environment
(``config.sso_settings``) or in the admin (Social applications).

What Keel adds to allauth:
- OpenID Connect always uses the authorization code flow with PKCE (S256) and a ``nonce``
  that must come back in the ID token; ``state`` is allauth's one-time state.
- Just-in-time provisioning: a first sign-in creates the person (or links the invited
  person with the same email address — never a superuser, whose break-glass account stays
  local); every sign-in recomputes their directory-granted memberships from the groups claim
  (``core.directory.memberships_sync``, audited).
- A sign-in the provider or Keel refuses (tampered state, replayed code, wrong audience, an
  unsigned or expired SAML assertion) ends on a page that says why, with no session.
- Two-factor sign-in is the identity provider's job for SSO sessions: Keel's own code is
  asked only after a local password.
"""

import hmac
import logging
import secrets
from urllib.parse import urlsplit

import jwt
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from allauth.socialaccount.providers.base.constants import AuthError
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from django.conf import settings
from django.contrib.auth import get_user_model
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from core import mfa
from core.audit import record_event
from core.choices import GrantedVia
from core.directory import memberships_sync
from core.permissions import memberships_of

logger = logging.getLogger(__name__)

NONCE_KEY = "keel_nonce"
SSO_SESSION_KEY = mfa.SSO_SESSION_KEY
SSO_GROUPS_KEY = "_keel_sso_groups"  # shown on the no-access page
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class KeelOpenIDConnectProvider(OpenIDConnectProvider):
    """allauth's OpenID Connect provider with PKCE on by default and a per-request nonce,
    kept in the sign-in's one-time state and compared with the ID token's."""

    pkce_enabled_default = True
    package = "allauth.socialaccount.providers.openid_connect"  # its URLs, templates

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        nonce = secrets.token_urlsafe(32)
        auth_params = dict(kwargs.pop("auth_params", None) or self.get_auth_params())
        auth_params["nonce"] = nonce
        kwargs[NONCE_KEY] = nonce
        return super().redirect(request, process, next_url, data, auth_params=auth_params, **kwargs)


def _origin(url: str) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def sso_providers(request) -> list[dict]:
    """The providers the sign-in page offers: name, the URL its button posts to, the
    provider id (for group mappings) and the origin the browser is sent on to (the page's
    ``form-action`` must allow it)."""
    providers = []
    for app in get_social_adapter().list_apps(request):
        provider = app.get_provider(request)
        try:
            url = provider.get_login_url(request)
        except NoReverseMatch:
            continue
        idp = app.settings.get("idp") or {}
        where = app.settings.get("server_url") or idp.get("sso_url") or idp.get("metadata_url")
        providers.append(
            {
                "name": app.name,
                "url": url,
                "kind": provider.id,
                "id": provider.sub_id,
                "origin": _origin(where),
            }
        )
    return sorted(providers, key=lambda p: p["name"].lower())


def groups_claim(sociallogin) -> tuple[str, list[str]]:
    """(claim name, groups) from the provider's answer: the ID token and userinfo for
    OpenID Connect, the assertion's attributes for SAML."""
    app = sociallogin.provider.app
    claim = app.settings.get("keel_groups_claim") or "groups"
    data = sociallogin.account.extra_data or {}
    if sociallogin.provider.id == "openid_connect":
        value = None
        for part in ("userinfo", "id_token"):
            if claim in (data.get(part) or {}):
                value = data[part][claim]
                break
    else:
        value = data.get(claim)
    if value is None:
        return claim, []
    if isinstance(value, str):
        value = [value]
    return claim, [str(v) for v in value if str(v).strip()]


def _audit_refusal(provider, reason: str) -> None:
    logger.warning("Single sign-on refused (%s): %s", getattr(provider, "sub_id", ""), reason)
    record_event(
        actor=None,
        action="sso.refused",
        object_type="sso",
        object_id=getattr(provider, "sub_id", "") or "",
        after={"provider": getattr(getattr(provider, "app", None), "name", ""), "reason": reason},
    )


def _refuse(request, provider, reason: str):
    _audit_refusal(provider, reason)
    return render(
        request,
        "socialaccount/authentication_error.html",
        {"auth_error": {"provider": provider, "code": AuthError.UNKNOWN}, "keel_reason": reason},
        status=403,
    )


def refuse_unsolicited(request, organization_slug: str):
    from allauth.socialaccount.providers.saml.utils import get_app_or_404

    provider = get_app_or_404(request, organization_slug).get_provider(request)
    return _refuse(
        request,
        provider,
        "This SAML response does not answer a sign-in started in this browser (replayed or "
        "unsolicited).",
    )


def _id_token_reason(exception) -> str:
    cause = exception.__cause__
    if isinstance(cause, jwt.InvalidAudienceError):
        return "The ID token was issued for another application (wrong audience)."
    if isinstance(cause, jwt.ExpiredSignatureError):
        return "The ID token has expired."
    if isinstance(cause, jwt.InvalidIssuerError):
        return "The ID token comes from another issuer."
    return "The identity provider's ID token is not valid for Keel."


def failure_reason(*, error, exception, extra_context) -> str:
    """Why a sign-in failed, in words a person (and the audit log) can use."""
    if extra_context.get("saml_errors"):
        detail = extra_context.get("saml_last_error_reason") or ""
        lowered = detail.lower()
        if "signature" in lowered or "signed" in lowered:
            return f"The SAML assertion is not signed by the identity provider. ({detail})"
        if "audience" in lowered:
            return f"The SAML assertion is addressed to another service (audience). ({detail})"
        if "expired" in lowered or "notonorafter" in lowered or "notbefore" in lowered:
            return f"The SAML assertion is outside its validity period. ({detail})"
        return f"The SAML response was refused. ({detail})"
    if "state_id" in extra_context:
        return (
            "This answer does not belong to a sign-in started here (missing, tampered or "
            "already used state)."
        )
    if isinstance(exception, OAuth2Error):
        if "id_token" in str(exception).lower():
            return _id_token_reason(exception)
        return (
            "The identity provider refused the authorization code (already used, expired "
            "or not issued to Keel)."
        )
    if error == AuthError.DENIED:
        return "The identity provider denied the sign-in."
    if exception is not None:
        return f"The sign-in could not be completed ({exception.__class__.__name__})."
    return "The identity provider's answer could not be used."


class KeelSocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin) -> bool:
        return settings.KEEL_SSO_JIT

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ):
        if extra_context is None:
            return
        reason = failure_reason(error=error, exception=exception, extra_context=extra_context)
        extra_context["keel_reason"] = reason
        _audit_refusal(provider, reason)

    def pre_social_login(self, request, sociallogin):
        provider = sociallogin.provider
        if sociallogin.state is None:
            raise ImmediateHttpResponse(
                _refuse(request, provider, "This answer does not belong to a sign-in started here.")
            )
        if provider.id == "openid_connect":
            expected = sociallogin.state.get(NONCE_KEY) or ""
            returned = ((sociallogin.account.extra_data or {}).get("id_token") or {}).get("nonce")
            if not expected or not returned or not hmac.compare_digest(expected, str(returned)):
                raise ImmediateHttpResponse(
                    _refuse(
                        request,
                        provider,
                        "The ID token does not carry this sign-in's nonce (a replayed token).",
                    )
                )
        sociallogin.user.backend = MODEL_BACKEND

    def authenticate_by_email(self, sociallogin):
        """Link a first sign-in to the person invited with the same email. Enterprise
        providers configured by an administrator vouch for their users' addresses; a
        superuser is never linked (their break-glass account stays local)."""
        if not sociallogin.provider.app.settings.get("keel_trust_email", True):
            return super().authenticate_by_email(sociallogin)
        for address in sociallogin.email_addresses:
            email = (address.email or "").strip()
            if not email:
                continue
            user = (
                get_user_model()
                .objects.filter(email__iexact=email, is_superuser=False)
                .order_by("pk")
                .first()
            )
            if user is not None:
                return user, email
        return None

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        if not user.username and user.email:
            user.username = user.email
        return user


class KeelAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False  # people come from the directory or a CoE admin's invitation

    def post_login(self, request, user, *, signal_kwargs=None, redirect_url=None, **kwargs):
        """After an SSO sign-in, before the redirect is chosen: recompute the person's
        memberships; someone left with no role lands on the page that says whom to ask."""
        sociallogin = (signal_kwargs or {}).get("sociallogin")
        if sociallogin is not None:
            sso_after_login(request, user, sociallogin)
            if not user.is_superuser and not memberships_of(user):
                redirect_url = reverse("no_access")
        return super().post_login(
            request, user, signal_kwargs=signal_kwargs, redirect_url=redirect_url, **kwargs
        )


def sso_after_login(request, user, sociallogin) -> dict | None:
    """Remember the session came through SSO and make the person's directory-granted
    memberships what the groups the provider sent map to (audited)."""
    provider = sociallogin.provider
    claim, groups = groups_claim(sociallogin)
    if hasattr(request, "session"):
        request.session[SSO_SESSION_KEY] = provider.sub_id
        request.session[SSO_GROUPS_KEY] = sorted(groups)[:50]
    change = memberships_sync(
        user=user,
        groups=groups,
        provider=provider.sub_id,
        via=GrantedVia.GROUP_MAPPING,
        claim=claim,
    )
    record_event(
        actor=user,
        action="sso.signed_in",
        target=user,
        after={"provider": provider.sub_id, "claim": claim, "groups": sorted(groups)},
    )
    return change


def signed_in_through_sso(request) -> bool:
    return bool(getattr(request, "session", None) and request.session.get(SSO_SESSION_KEY))
