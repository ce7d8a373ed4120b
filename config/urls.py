from allauth.socialaccount import views as sso_views
from allauth.urls import build_provider_urlpatterns
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core import views as core_views
from core.forms import KeelPasswordResetForm

urlpatterns = [
    path("", core_views.home, name="home"),
    path("accounts/login/", core_views.KeelLoginView.as_view(), name="login"),
    # The names allauth's single sign-on flow reverses (core.sso; the same pages as Keel's).
    path("accounts/login/", core_views.KeelLoginView.as_view(), name="account_login"),
    path("accounts/inactive/", core_views.account_inactive, name="account_inactive"),
    path("accounts/no-access/", core_views.no_access, name="no_access"),
    # Single sign-on: /sso/oidc/<id>/login/ (callback …/login/callback/) and
    # /sso/saml/<id>/login/ (ACS …/acs/, metadata …/metadata/), plus allauth's error pages.
    path(
        "sso/saml/<str:organization_slug>/acs/finish/",
        core_views.saml_finish_acs,
        name="saml_finish_acs",
    ),
    path("sso/", include(build_provider_urlpatterns())),
    # allauth's error and sign-up pages; not its "connections" page (a person does not attach
    # further identities: each comes from one directory).
    path("sso/login/cancelled/", sso_views.login_cancelled, name="socialaccount_login_cancelled"),
    path("sso/login/error/", sso_views.login_error, name="socialaccount_login_error"),
    path("sso/signup/", sso_views.signup, name="socialaccount_signup"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/setup/", core_views.mfa_setup, name="mfa_setup"),
    path("accounts/two-factor/verify/", core_views.mfa_verify, name="mfa_verify"),
    # Passkeys (django-otp-webauthn's helpers behind Keel's own steps, so each is audited and
    # checked as the setup and verify pages are; the library's own URLs are not mounted).
    path(
        "accounts/two-factor/passkeys/register/begin/",
        core_views.passkey_register_begin,
        name="passkey_register_begin",
    ),
    path(
        "accounts/two-factor/passkeys/register/complete/",
        core_views.passkey_register_complete,
        name="passkey_register_complete",
    ),
    path(
        "accounts/two-factor/passkeys/verify/begin/",
        core_views.passkey_verify_begin,
        name="passkey_verify_begin",
    ),
    path(
        "accounts/two-factor/passkeys/verify/complete/",
        core_views.passkey_verify_complete,
        name="passkey_verify_complete",
    ),
    # Password reset by email for local accounts (Django's views and token generator; a
    # person without a usable password, e.g. an imported placeholder, gets no email).
    path(
        "accounts/password-reset/",
        auth_views.PasswordResetView.as_view(form_class=KeelPasswordResetForm),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "accounts/password-change/",
        core_views.KeelPasswordChangeView.as_view(
            success_url=reverse_lazy("core:account_sessions")
        ),
        name="password_change",
    ),
    path("initiatives/", include("portfolio.urls")),
    path("inventory/", include("inventory.urls")),
    path("roadmap/", include("portfolio.roadmap.urls")),
    path("governance/", include("governance.urls")),
    path("dashboard/", include("governance.reporting.urls")),
    path("", include("core.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    # SCIM 2.0 provisioning for the identity provider (core.api.scim): bearer tokens only.
    path("scim/v2/", include("core.api.scim_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
