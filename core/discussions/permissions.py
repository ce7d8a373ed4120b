"""Who may change a comment. Reading and posting need only sight of the subject
(``selectors.can_see_subject``); these predicates also show or hide the buttons."""

import datetime

from django.conf import settings
from django.utils import timezone

from core.permissions import can_manage_organisation


def edit_window() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.KEEL_COMMENT_EDIT_MINUTES)


def _own_and_recent(user, comment, now=None) -> bool:
    now = now or timezone.now()
    return (
        user.is_authenticated
        and comment.author_id == user.pk
        and not comment.is_deleted
        and now - comment.created_at <= edit_window()
    )


def can_edit_comment(user, comment, now=None) -> bool:
    """The author, within ``KEEL_COMMENT_EDIT_MINUTES`` of posting."""
    return _own_and_recent(user, comment, now)


def can_delete_comment(user, comment, now=None) -> bool:
    """The author within the edit window; CoE admins and administrators (moderation) any
    time."""
    if comment.is_deleted:
        return False
    return _own_and_recent(user, comment, now) or can_manage_organisation(user)
