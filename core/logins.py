"""Sign-in lockouts (issue 18): django-axes counts failed sign-ins per username and per
address and refuses sign-in while either is locked out (``config.settings`` AXES_*). Here:
the lockout written to the audit chain, the list of locked sign-ins for CoE admins, and the
audited unlock."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from core.audit import record_event
from core.permissions import can_manage_organisation


def can_unlock(actor) -> bool:
    return bool(actor.is_authenticated and (actor.is_superuser or can_manage_organisation(actor)))


def record_lockout(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    """``axes.signals.user_locked_out`` receiver: the lockout in the audit chain (the username
    as typed, which may name nobody; the address)."""
    record_event(
        actor=None,
        action="login.locked_out",
        object_type="login",
        object_id=(username or "")[:64],
        after={"username": username or "", "ip_address": ip_address or ""},
    )


def locked_sign_ins(*, actor):
    """The usernames and addresses locked out now (failures at the limit within the cool-off),
    newest first."""
    from axes.models import AccessAttempt

    if not can_unlock(actor):
        raise PermissionDenied("Only CoE admins can see locked sign-ins.")
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return AccessAttempt.objects.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=since
    ).order_by("-attempt_time", "-id")


def sign_in_unlock(*, actor, attempt_id: int) -> int:
    """Lift one lockout: the attempts of its username and of its address are cleared.
    Audited; returns how many attempt rows were removed."""
    from axes.models import AccessAttempt
    from axes.utils import reset

    if not can_unlock(actor):
        raise PermissionDenied("Only CoE admins can unlock sign-ins.")
    attempt = AccessAttempt.objects.filter(pk=attempt_id).first()
    if attempt is None:
        return 0
    with transaction.atomic():
        removed = 0
        if attempt.username:
            removed += reset(username=attempt.username)
        if attempt.ip_address:
            removed += reset(ip=attempt.ip_address)
        record_event(
            actor=actor,
            action="login.unlocked",
            object_type="login",
            object_id=(attempt.username or "")[:64],
            before={"username": attempt.username or "", "ip_address": attempt.ip_address or ""},
            after={"attempts_removed": removed},
        )
    return removed


def record_password_changed(*, user) -> None:
    """A person changed their own password (``KeelPasswordChangeView``): audited; their other
    browser sessions stop at their next request (Django's session auth hash)."""
    record_event(actor=user, action="user.password_changed", target=user)
