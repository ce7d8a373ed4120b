"""Two-factor sign-in for local accounts (issue 18, item 3), on django-otp: a TOTP
authenticator app and passkeys (``core.passkeys``), plus ten single-use recovery codes
issued with the first of them. After the password, a person with a confirmed device enters
a code or uses a passkey before anything else (``MFAMiddleware``); administrators and CoE
admins must set one up first when ``KEEL_REQUIRE_MFA_FOR_ADMINS`` is on (the default unless
DEBUG). Enabling, disabling, an administrator's reset and each recovery code used are
audited.
"""

import qrcode
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential
from qrcode.image.svg import SvgPathImage

from core.audit import record_event
from core.choices import Role
from core.permissions import can_manage_organisation, has_any_role

# Set by core.sso on a single sign-on: the identity provider asked for the second factor.
SSO_SESSION_KEY = "_keel_sso_provider"
RECOVERY_CODES = 10
SETUP_NAME = "Authenticator app"


def mfa_required(user) -> bool:
    return bool(
        settings.KEEL_REQUIRE_MFA_FOR_ADMINS
        and user.is_authenticated
        and (user.is_superuser or has_any_role(user, {Role.ADMIN, Role.COE_ADMIN}))
    )


def has_mfa(user) -> bool:
    return user.is_authenticated and user_has_device(user, confirmed=True)


def totp_begin(user) -> TOTPDevice:
    """A new, unconfirmed TOTP device (an earlier unconfirmed one is replaced)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=SETUP_NAME, confirmed=False)


def has_totp(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_totp(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// URL as an inline SVG QR code, drawn as one <path>.

    django-otp's ``write_qrcode_image`` writes ``<svg:rect>`` elements (an XML namespace
    prefix), which the HTML parser does not treat as SVG, so the code showed blank."""
    image = qrcode.make(device.config_url, image_factory=SvgPathImage, border=2)
    return image.to_string(encoding="unicode")


def totp_confirm(request, *, token: str) -> list[str] | None:
    """Confirm the pending device with a code from the app: it becomes the person's app
    (replacing an earlier one) and this session counts as verified. Returns the recovery
    codes when this is the person's first factor (shown once), [] when they already had
    one, None when the code is wrong."""
    user = request.user
    device = pending_totp(user)
    if device is None or not device.verify_token((token or "").strip()):
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = factor_enabled(request, device=device, kind="totp")
    return codes


# The factors: recovery codes (a StaticDevice) come with the first and go with the last.
FACTOR_MODELS = (TOTPDevice, WebAuthnCredential)


def has_factor(user, *, besides=None) -> bool:
    """An authenticator app or a passkey other than ``besides``."""
    for model in FACTOR_MODELS:
        factors = model.objects.filter(user=user, confirmed=True)
        if isinstance(besides, model):
            factors = factors.exclude(pk=besides.pk)
        if factors.exists():
            return True
    return False


def factor_enabled(request, *, device, kind: str, name: str = "") -> list[str]:
    """Record a newly confirmed factor (``kind`` "totp" or "passkey") in the caller's
    transaction: audited ``mfa.enabled``; new recovery codes when it is the person's first
    factor (returned, shown once), else []. The session counts as verified."""
    user = request.user
    first = not has_factor(user, besides=device)
    codes = _new_recovery_codes(user) if first else []
    after = {"device": kind, **({"name": name} if name else {})}
    record_event(actor=user, action="mfa.enabled", target=user, after=after)
    if not user.is_verified():
        otp_login(request, device)
    remember_device(request, True)
    return codes


def _new_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=code) for code in codes])
    return codes


def mfa_verify(request, *, token: str) -> bool:
    """Check a code from the app or a recovery code; on success the session is verified."""
    token = (token or "").strip().replace(" ", "")
    for device in devices_for_user(request.user, confirmed=True, for_verify=True):
        if device.verify_token(token):
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                record_event(
                    actor=request.user,
                    action="mfa.recovery_code_used",
                    target=request.user,
                    after={"codes_left": device.token_set.count()},
                )
            return True
    return False


def mfa_disable(*, actor, user) -> None:
    """Remove a person's second factor: their own (unless it is required of them) or, for
    CoE admins and administrators, someone else's (a reset after a lost phone)."""
    if actor.pk == user.pk:
        if mfa_required(user):
            raise PermissionDenied("Two-factor sign-in is required for your role.")
    elif not (actor.is_superuser or can_manage_organisation(actor)):
        raise PermissionDenied("Only CoE admins can reset someone's two-factor sign-in.")
    with transaction.atomic():
        removed = [
            kind
            for kind, model in zip(("totp", "passkey"), FACTOR_MODELS, strict=True)
            if model.objects.filter(user=user).delete()[0]
        ]
        StaticDevice.objects.filter(user=user).delete()
        record_event(
            actor=actor,
            action="mfa.disabled" if actor.pk == user.pk else "mfa.reset",
            target=user,
            before={"devices": removed},
        )


# Whether the session's person has a second factor, remembered in the session so ordinary
# requests cost no query (set at the first request, on enabling and disabling, and cleared
# by the code page when a reset removed the device).
HAS_DEVICE_KEY = "_keel_mfa_device"


def remember_device(request, present: bool) -> None:
    request.session[HAS_DEVICE_KEY] = present


def remember_at_login(sender, request=None, user=None, **kwargs) -> None:
    """``user_logged_in`` receiver: note once per session whether a code will be asked."""
    if request is not None and hasattr(request, "session") and user is not None:
        request.session[HAS_DEVICE_KEY] = user_has_device(user, confirmed=True)


def _has_device(request) -> bool:
    present = request.session.get(HAS_DEVICE_KEY)
    if present is None:
        present = has_mfa(request.user)
        remember_device(request, present)
    return present


# Pages an unverified session may still open: the two-factor pages, signing out, assets.
OPEN_PREFIXES = ("/accounts/two-factor/", "/accounts/logout/", "/static/", "/media/")


class MFAMiddleware:
    """After the password: a person with a second factor enters a code first; an admin who
    must have one sets it up first. The API answers 403 instead of redirecting."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not user.is_verified()
            and not request.session.get(SSO_SESSION_KEY)  # the identity provider's job
            and not request.path.startswith(OPEN_PREFIXES)
        ):
            if _has_device(request):
                target = "mfa_verify"
            elif mfa_required(user):
                target = "mfa_setup"
            else:
                target = None
            if target is not None:
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {"detail": "Enter your two-factor code in the browser first."},
                        status=403,
                    )
                return redirect(f"{reverse(target)}?next={request.get_full_path()}")
        return self.get_response(request)
