"""Browser sessions per person (issue 18): recorded at sign-in, refreshed while used, listed on
the person's Sessions page, signed out one by one or all but the current one ("sign out
everywhere"). The session store stays Django's (``cached_db``); a ``UserSession`` row only
names which stored session belongs to whom."""

import datetime
from importlib import import_module

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from core.audit import record_event
from core.models import UserSession

# A session's last use is written at most this often (not on every request).
SEEN_EVERY = datetime.timedelta(minutes=5)
SEEN_KEY = "_keel_seen"


def _store(session_key):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)


def _client(request) -> dict:
    return {
        "ip_address": request.META.get("REMOTE_ADDR") or None,
        "user_agent": (request.META.get("HTTP_USER_AGENT") or "")[:300],
    }


def session_started(sender, request=None, user=None, **kwargs) -> None:
    """``user_logged_in`` receiver: the new session, with the browser and address."""
    if request is None or not hasattr(request, "session"):
        return
    if request.session.session_key is None:
        request.session.save()
    now = timezone.now()
    UserSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={"user": user, "last_seen_at": now, **_client(request)},
    )
    request.session[SEEN_KEY] = now.timestamp()


def session_ended(sender, request=None, user=None, **kwargs) -> None:
    """``user_logged_out`` receiver."""
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        UserSession.objects.filter(session_key=key).delete()


def session_seen(request) -> None:
    """Refresh the current session's last use (at most every ``SEEN_EVERY``)."""
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    if user is None or not user.is_authenticated or session is None or not session.session_key:
        return
    now = timezone.now()
    seen = session.get(SEEN_KEY)
    if seen is not None and now.timestamp() - seen < SEEN_EVERY.total_seconds():
        return
    UserSession.objects.update_or_create(
        session_key=session.session_key,
        defaults={"user": user, "last_seen_at": now, **_client(request)},
    )
    session[SEEN_KEY] = now.timestamp()


def sessions_of(user):
    return UserSession.objects.filter(user=user)


def session_sign_out(*, actor, pk: int, current_key: str) -> UserSession:
    """Sign one of the actor's own sessions out (not the current one: that is "Sign out")."""
    target = UserSession.objects.filter(pk=pk).first()
    if target is None or target.user_id != actor.pk:
        raise Http404("No such session.")
    if target.session_key == current_key:
        raise PermissionDenied("This is the session you are using: use Sign out.")
    with transaction.atomic():
        _store(target.session_key).delete()
        target.delete()
        record_event(
            actor=actor,
            action="session.signed_out",
            object_type="session",
            object_id=str(pk),
            before={"user_agent": target.user_agent, "ip_address": target.ip_address or ""},
        )
    return target


def sessions_end(*, user, keep: str | None = None) -> int:
    """End every stored session of ``user`` (but ``keep``, a session key); how many were
    ended. The caller audits: "sign out everywhere", a deactivation (People page, SCIM)."""
    keys = list(
        sessions_of(user).exclude(session_key=keep or "").values_list("session_key", flat=True)
    )
    with transaction.atomic():
        for key in keys:
            _store(key).delete()
        UserSession.objects.filter(user=user, session_key__in=keys).delete()
    return len(keys)


def sign_out_everywhere(*, actor, current_key: str) -> int:
    """End every session of the actor but the current one; how many were ended."""
    with transaction.atomic():
        ended = sessions_end(user=actor, keep=current_key)
        record_event(
            actor=actor,
            action="session.signed_out_everywhere",
            object_type="user",
            object_id=str(actor.pk),
            after={"sessions_ended": ended},
        )
    return ended


class SessionActivityMiddleware:
    """Keeps each signed-in session's last use and address for the Sessions page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session_seen(request)
        return self.get_response(request)
