"""Who may review and merge duplicate candidates."""

from core.permissions import has_any_role, writes_whole_organisation
from portfolio.duplicates.matching import DUPLICATE_REVIEW_ROLES


def can_review_duplicates(user) -> bool:
    """CoE reviewers and admins, risk officers and administrators see possible duplicates,
    link them as related and dismiss them."""
    return has_any_role(user, DUPLICATE_REVIEW_ROLES)


def can_merge_duplicates(user) -> bool:
    """Merging retires one initiative, so it needs the right to change any initiative's stage
    (CoE admins and administrators): otherwise merge would retire what its actor cannot."""
    return can_review_duplicates(user) and writes_whole_organisation(user)
