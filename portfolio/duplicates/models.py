"""Duplicate candidates: pairs of initiatives that look alike, and what the CoE decided."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from portfolio.duplicates.choices import DUPLICATE_TRANSITIONS, DuplicateStatus
from portfolio.initiatives.models import Initiative


class DuplicateCandidate(models.Model):
    """Two initiatives of different BUs that look alike, and what the CoE decided.

    Stored once per pair with ``first_id < second_id``; a dismissed pair is never re-flagged.
    """

    first = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    status = models.CharField(
        max_length=10, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN
    )
    detected_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="duplicate_pair_unique"),
            models.CheckConstraint(
                condition=Q(first__lt=F("second")), name="duplicate_pair_ordered"
            ),
        ]
        indexes = [models.Index(fields=["status", "-score"])]

    def __str__(self):
        return f"{self.first_id}~{self.second_id} ({self.score:.2f}, {self.status})"

    def can_become(self, status: str) -> bool:
        """The pair may move to ``status`` (also used to show or hide its buttons)."""
        return status in DUPLICATE_TRANSITIONS.get(self.status, frozenset())
