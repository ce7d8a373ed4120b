from django.db import models


class DuplicateStatus(models.TextChoices):
    OPEN = "open", "Possible duplicate"
    RELATED = "related", "Linked as related"
    MERGED = "merged", "Merged"
    DISMISSED = "dismissed", "Dismissed"


# What the CoE may decide about a pair: from-status -> allowed to-statuses. A dismissed or
# merged pair is final; a pair linked as related may still be merged or dismissed.
DUPLICATE_TRANSITIONS: dict[str, frozenset[str]] = {
    DuplicateStatus.OPEN: frozenset(
        {DuplicateStatus.RELATED, DuplicateStatus.MERGED, DuplicateStatus.DISMISSED}
    ),
    DuplicateStatus.RELATED: frozenset({DuplicateStatus.MERGED, DuplicateStatus.DISMISSED}),
    DuplicateStatus.MERGED: frozenset(),
    DuplicateStatus.DISMISSED: frozenset(),
}
