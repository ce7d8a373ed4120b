"""Scaling-barrier assessments: one score per initiative and barrier."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from portfolio.initiatives.models import Initiative
from portfolio.scaling.choices import Barrier


class BarrierAssessment(models.Model):
    """A 1–5 score (5 = severe) and note on one scaling barrier for one initiative."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="barriers")
    barrier = models.CharField(max_length=20, choices=Barrier.choices)
    score = models.PositiveSmallIntegerField()
    note = models.TextField(blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assessed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["initiative", "barrier"]
        constraints = [
            models.UniqueConstraint(fields=["initiative", "barrier"], name="one_score_per_barrier"),
            models.CheckConstraint(condition=Q(score__range=(1, 5)), name="barrier_score_1_5"),
        ]

    def __str__(self):
        return f"{self.initiative_id} {self.barrier}={self.score}"
