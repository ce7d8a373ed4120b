"""Reads of duplicate detection, scoped to the people who decide about duplicates."""

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from portfolio.duplicates.choices import DuplicateStatus
from portfolio.duplicates.models import DuplicateCandidate
from portfolio.duplicates.permissions import can_review_duplicates
from portfolio.initiatives.choices import ENDED_STAGES
from portfolio.initiatives.models import Initiative

# Both sides shown with their unit, and who decided: the page's rows cost one query.
_RELATED = ("first__business_unit", "second__business_unit", "decided_by")


def _both_sides_live() -> Q:
    return (
        Q(
            first__merged_into__isnull=True,
            second__merged_into__isnull=True,
        )
        & ~Q(first__stage__in=ENDED_STAGES)
        & ~Q(second__stage__in=ENDED_STAGES)
    )


def duplicate_candidates(*, user) -> QuerySet[DuplicateCandidate]:
    """Every pair the user may see: all of them for duplicate reviewers, none otherwise."""
    if not can_review_duplicates(user):
        return DuplicateCandidate.objects.none()
    return DuplicateCandidate.objects.select_related(*_RELATED)


def duplicate_candidate_list(
    *, user, status: str = DuplicateStatus.OPEN
) -> QuerySet[DuplicateCandidate]:
    """Pairs of one status, best score first. Open pairs whose initiatives ended or were
    merged meanwhile are left out (the next refresh removes them)."""
    candidates = duplicate_candidates(user=user).filter(status=status)
    if status == DuplicateStatus.OPEN:
        candidates = candidates.filter(_both_sides_live())
    return candidates.order_by("-score", "pk")


def duplicate_candidate_get(*, user, pk) -> DuplicateCandidate:
    """One pair, or 404 for anyone who does not review duplicates."""
    return get_object_or_404(duplicate_candidates(user=user), pk=pk)


def duplicates_of(*, user, initiative: Initiative) -> list[tuple[DuplicateCandidate, Initiative]]:
    """The open and related pairs of ``initiative`` as (pair, the other initiative), open
    first and best score first."""
    pairs = (
        duplicate_candidates(user=user)
        .filter(Q(first=initiative) | Q(second=initiative))
        .filter(
            Q(status=DuplicateStatus.RELATED) | Q(_both_sides_live(), status=DuplicateStatus.OPEN)
        )
        .order_by("status", "-score", "pk")
    )
    return [(pair, pair.second if pair.first_id == initiative.pk else pair.first) for pair in pairs]
