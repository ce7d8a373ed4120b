"""Personal API tokens (issue 18): create (the key shown once), list, revoke, and check a
presented key. The API's ``core.api.authentication.BearerTokenAuthentication`` and the token
pages call these; permission checks are here.

A key is ``keel_<prefix>_<secret>``: the prefix (8 hex characters, unique) finds the row, the
SHA-256 of the whole key is compared in constant time. Keys carry 256 bits of randomness, so a
fast hash is the right one (as for other high-entropy API keys); a slow password hash would
only slow every API call.
"""

import datetime
import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from core.audit import record_event
from core.choices import TokenScope
from core.exceptions import Conflict
from core.models import ApiToken
from core.permissions import can_manage_organisation

KEY_PREFIX = "keel_"
DEFAULT_DAYS = 90
# A used token's last-use time and address are written at most this often (not every call).
LAST_USED_EVERY = datetime.timedelta(minutes=1)


class TokenRefused(Exception):
    """The presented key is unknown, revoked or expired, or its user is deactivated; the
    message says which (shown to the API client with the 401)."""


def max_days() -> int:
    return int(getattr(settings, "KEEL_API_TOKEN_MAX_DAYS", 365))


def can_manage_tokens(actor) -> bool:
    """CoE admins and administrators see and revoke everyone's tokens."""
    return bool(actor.is_authenticated and (actor.is_superuser or can_manage_organisation(actor)))


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_create(*, actor, name: str, days: int | None = None, scope: str = TokenScope.READ):
    """A new token of ``actor`` and its key (returned once, never stored). Field errors for
    a missing name, a lifetime outside 1 to ``max_days()`` or an unknown scope."""
    if not actor.is_authenticated or not actor.is_active:
        raise PermissionDenied("Sign in to create an API token.")
    name = (name or "").strip()
    days = DEFAULT_DAYS if days in (None, "") else days
    errors = {}
    if not name:
        errors["name"] = "Give the token a name, e.g. what will use it."
    elif len(name) > 100:
        errors["name"] = "At most 100 characters."
    try:
        days = int(days)
    except (TypeError, ValueError):
        errors["days"] = "A whole number of days."
    else:
        if not 1 <= days <= max_days():
            errors["days"] = f"Between 1 and {max_days()} days."
    if scope not in TokenScope.values:
        errors["scope"] = "Read only or read and write."
    if errors:
        raise ValidationError(errors)
    prefix = secrets.token_hex(4)
    while ApiToken.objects.filter(prefix=prefix).exists():
        prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=actor,
            name=name,
            prefix=prefix,
            key_hash=_hash(key),
            scope=scope,
            expires_at=timezone.now() + datetime.timedelta(days=days),
        )
        record_event(
            actor=actor,
            action="api_token.created",
            target=token,
            after={
                "name": name,
                "prefix": prefix,
                "scope": scope,
                "expires_at": token.expires_at.isoformat(),
            },
        )
    return token, key


def token_revoke(*, actor, token: ApiToken) -> ApiToken:
    """Revoke ``token``: its owner or a token admin; a revoked token stays listed."""
    if token.user_id != actor.pk and not can_manage_tokens(actor):
        raise PermissionDenied("Only the token's owner or a CoE admin can revoke it.")
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            raise Conflict("This token is already revoked.")
        locked.revoked_at, locked.revoked_by = timezone.now(), actor
        locked.save(update_fields=["revoked_at", "revoked_by"])
        record_event(
            actor=actor,
            action="api_token.revoked",
            target=locked,
            before={"state": "active"},
            after={"state": "revoked", "owner": locked.user_id},
        )
    return locked


def tokens_of(user):
    """``user``'s tokens, newest first."""
    return ApiToken.objects.filter(user=user).select_related("revoked_by")


def all_tokens(*, actor, q: str = ""):
    """Everyone's tokens, for token admins; ``q`` matches the username, name or prefix."""
    if not can_manage_tokens(actor):
        raise PermissionDenied("Only CoE admins can see everyone's API tokens.")
    tokens = ApiToken.objects.select_related("user", "revoked_by")
    q = q.strip()
    if q:
        tokens = tokens.filter(
            Q(user__username__icontains=q) | Q(name__icontains=q) | Q(prefix__istartswith=q)
        )
    return tokens


def token_get(*, actor, pk) -> ApiToken:
    """A token the actor may act on (their own, or any for token admins); else 404."""
    tokens = ApiToken.objects.all() if can_manage_tokens(actor) else tokens_of(actor)
    token = tokens.filter(pk=pk).select_related("user").first()
    if token is None:
        raise Http404("No such API token.")
    return token


def authenticate_key(key: str, *, ip: str | None = None) -> ApiToken:
    """The active token ``key`` names (its user loaded); ``TokenRefused`` saying why not.
    Records the last use (time and address) at most once a minute per token."""
    if not key.startswith(KEY_PREFIX) or key.count("_") < 2:
        raise TokenRefused("Not a Keel API token.")
    prefix = key[len(KEY_PREFIX) :].split("_", 1)[0]
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.key_hash, _hash(key)):
        raise TokenRefused("Unknown API token.")
    now = timezone.now()
    if token.revoked_at is not None:
        raise TokenRefused("This API token was revoked.")
    if token.expires_at <= now:
        raise TokenRefused(f"This API token expired on {token.expires_at:%Y-%m-%d}.")
    if not token.user.is_active:
        raise TokenRefused("This API token's user is deactivated.")
    stale = token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY
    if stale or (ip and ip != token.last_used_ip):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=ip or None)
        token.last_used_at, token.last_used_ip = now, ip or None
    return token
