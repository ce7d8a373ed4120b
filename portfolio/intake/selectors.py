"""Reads of the registration wizard: a user's unfinished drafts."""

from django.db.models import Q, QuerySet

from portfolio.initiatives.choices import Stage
from portfolio.initiatives.models import Initiative
from portfolio.initiatives.selectors import scope_initiatives


def wizard_drafts(*, user) -> QuerySet[Initiative]:
    """The user's unfinished registrations: drafts they created or own, newest first."""
    return scope_initiatives(
        Initiative.objects.filter(stage=Stage.DRAFT)
        .filter(Q(created_by=user) | Q(accountable_owner=user))
        .select_related("business_unit")
        .order_by("-updated_at", "-id"),
        user,
    )
