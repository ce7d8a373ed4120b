"""Passkeys (WebAuthn) as a second factor after the password (issue 18, item 3), on
django-otp-webauthn: each passkey is a django-otp device, so ``MFAMiddleware``, the recovery
codes and an administrator's reset (``core.mfa``) apply to it as to an authenticator app.

A ceremony has two steps. *Begin* returns the options for the browser's
``navigator.credentials.create()`` / ``.get()`` and keeps the challenge in the session;
*complete* takes it out of the session first (so a response is accepted at most once),
then py_webauthn checks the response against it, the relying party ID and the allowed
origins (settings ``OTP_WEBAUTHN_*``), and for an assertion the signature and sign count.
"""

import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp_webauthn import exceptions as webauthn_errors
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.utils import rewrite_exceptions

from core.audit import record_event
from core.mfa import factor_enabled, has_factor, mfa_required, remember_device

logger = logging.getLogger("keel.passkeys")

REGISTER_STATE_KEY = "_keel_passkey_register"
VERIFY_STATE_KEY = "_keel_passkey_verify"
NAME_MAX_LENGTH = 64  # django-otp's Device.name
DEFAULT_NAME = "Passkey"


class PasskeyRefused(Exception):
    """A ceremony step refused, with a message for the person and an HTTP status."""

    def __init__(self, message: str, *, status: int = 400, code: str = "refused"):
        super().__init__(message)
        self.status = status
        self.code = code


# The library's error codes, in words for the person at the browser.
MESSAGES = {
    "invalid_state": "That passkey request has expired or was already used. Try again.",
    "invalid_registration_response": "The passkey could not be checked. Try again.",
    "invalid_authentication_response": (
        "That passkey could not be verified. Try again, or use a code from your app."
    ),
    "credential_not_found": "That passkey is not registered with Keel (was it removed?).",
    "credential_user_mismatch": "That passkey belongs to someone else's account.",
    "credential_disabled": "That passkey is not set up yet.",
    "user_disabled": "This account is deactivated.",
}


def _refused(error: webauthn_errors.OTPWebAuthnApiError) -> PasskeyRefused:
    message = MESSAGES.get(error.code, str(error))
    return PasskeyRefused(message, status=error.status_code, code=error.code)


def _helper(request):
    return WebAuthnCredential.get_webauthn_helper(request=request)


def _take_state(request, key: str) -> dict:
    """The ceremony's challenge, removed from the session (saved at once) before anything is
    checked, so neither an error nor a second try can reuse it."""
    state = request.session.pop(key, None)
    request.session.save()
    if not state:
        raise _refused(webauthn_errors.InvalidState())
    return state


def can_add_passkey(user) -> bool:
    """Signed in, and verified with a second factor when the person already has one (else a
    stolen password could add the thief's passkey)."""
    return user.is_authenticated and (user.is_verified() or not has_factor(user))


def passkey_register_begin(request) -> dict:
    """Options for ``navigator.credentials.create()``; the person's passkeys are excluded."""
    if not can_add_passkey(request.user):
        raise PermissionDenied("Verify with your second factor before adding a passkey.")
    options, state = _helper(request).register_begin(user=request.user)
    request.session[REGISTER_STATE_KEY] = state
    return options


def passkey_register_complete(request, *, credential: dict, name: str = ""):
    """Check the browser's new credential and keep it as a passkey named ``name``: audited
    ``mfa.enabled`` (device "passkey"). Returns ``(passkey, recovery_codes)``, the codes
    only with a first factor ([] otherwise)."""
    user = request.user
    if not can_add_passkey(user):
        raise PermissionDenied("Verify with your second factor before adding a passkey.")
    state = _take_state(request, REGISTER_STATE_KEY)
    name = (name or "").strip()[:NAME_MAX_LENGTH] or _default_name(user)
    try:
        with transaction.atomic(), rewrite_exceptions(logger=logger):
            passkey = _helper(request).register_complete(user=user, state=state, data=credential)
            passkey.name = name
            passkey.save(update_fields=["name"])
            codes = factor_enabled(request, device=passkey, kind="passkey", name=name)
    except webauthn_errors.OTPWebAuthnApiError as error:
        raise _refused(error) from error
    return passkey, codes


def _default_name(user) -> str:
    count = WebAuthnCredential.objects.filter(user=user).count()
    return DEFAULT_NAME if count == 0 else f"{DEFAULT_NAME} {count + 1}"


def passkey_verify_begin(request) -> dict:
    """Options for ``navigator.credentials.get()``, offering the person's own passkeys."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied("Sign in with your password first.")
    if not passkey_list(user=user).exists():
        raise PasskeyRefused("You have no passkey: use a code from your app.", status=404)
    options, state = _helper(request).authenticate_begin(user=user, require_user_verification=False)
    request.session[VERIFY_STATE_KEY] = state
    return options


def passkey_verify(request, *, credential: dict):
    """The second step of signing in with a passkey: check the assertion (challenge, origin,
    relying party, signature, sign count) for one of the person's own passkeys; on success
    the session is verified. Returns the passkey."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied("Sign in with your password first.")
    state = _take_state(request, VERIFY_STATE_KEY)
    try:
        with rewrite_exceptions(logger=logger):
            passkey = _helper(request).authenticate_complete(
                user=user, state=state, data=credential
            )
        if not passkey.confirmed:
            raise webauthn_errors.CredentialDisabled()
        if not user.is_active:
            raise webauthn_errors.UserDisabled()
    except webauthn_errors.OTPWebAuthnApiError as error:
        raise _refused(error) from error
    otp_login(request, passkey)
    return passkey


def passkey_list(*, user):
    """The person's passkeys, oldest first (one query)."""
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("created_at", "pk")


def _own_passkey(user, pk) -> WebAuthnCredential:
    """One of the person's own passkeys, locked; anyone else's is a 404."""
    passkey = (
        WebAuthnCredential.objects.select_for_update().filter(user=user, pk=pk).first()
        if str(pk).isdigit()
        else None
    )
    if passkey is None:
        raise Http404("No such passkey.")
    return passkey


def passkey_rename(*, actor, pk, name: str) -> WebAuthnCredential:
    """Rename one of the actor's passkeys (audited ``mfa.passkey_renamed``)."""
    name = (name or "").strip()[:NAME_MAX_LENGTH]
    if not name:
        raise ValueError("Give the passkey a name.")
    with transaction.atomic():
        passkey = _own_passkey(actor, pk)
        old = passkey.name
        passkey.name = name
        passkey.save(update_fields=["name"])
        record_event(
            actor=actor,
            action="mfa.passkey_renamed",
            target=actor,
            before={"passkey": passkey.pk, "name": old},
            after={"passkey": passkey.pk, "name": name},
        )
    return passkey


def passkey_remove(request, *, pk) -> bool:
    """Remove one of the person's passkeys (audited ``mfa.passkey_removed``). Removing the
    last factor turns two-factor sign-in off, recovery codes included, which is refused
    when the person's role requires it. Returns whether two-factor sign-in is still on."""
    user = request.user
    with transaction.atomic():
        passkey = _own_passkey(user, pk)
        last = not has_factor(user, besides=passkey)
        if last and mfa_required(user):
            raise PermissionDenied(
                "Your role requires two-factor sign-in: add another passkey or an "
                "authenticator app before removing your last one."
            )
        removed = {"passkey": passkey.pk, "name": passkey.name}
        signed_in_with_it = _session_device_id(user) == passkey.persistent_id
        passkey.delete()
        if last:
            StaticDevice.objects.filter(user=user).delete()
        elif signed_in_with_it:
            # django-otp ties the session's verification to the device used, so removing it
            # would send the person back to the second step mid-visit; they did pass it, so
            # the session stays verified, through one of the factors they still have.
            otp_login(request, _remaining_factor(user))
        record_event(
            actor=user,
            action="mfa.passkey_removed",
            target=user,
            before=removed,
            after={"two_factor": not last},
        )
    remember_device(request, not last)
    return not last


def _session_device_id(user) -> str | None:
    device = getattr(user, "otp_device", None)  # set by django-otp's OTPMiddleware
    return device.persistent_id if device is not None else None


def _remaining_factor(user):
    return next(
        device
        for device in devices_for_user(user, confirmed=True)
        if not isinstance(device, StaticDevice)
    )
