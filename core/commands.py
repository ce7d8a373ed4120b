"""Small helpers shared by the management commands."""

import datetime

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def iso_date(value: str) -> datetime.date:
    """An argparse ``type``: a date as YYYY-MM-DD, else a clear CommandError."""
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Expected a date as YYYY-MM-DD, not {value!r}.") from None


def user_named(username: str):
    """The user a command acts as (its actions are audited under that name)."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"No user {username!r}: pass --user with an existing username.")
    return user
