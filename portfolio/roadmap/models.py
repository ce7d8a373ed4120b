"""The enterprise scaling roadmap: phases, their activities, success indicators and the
indicators' recorded values."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from portfolio.initiatives.models import Initiative
from portfolio.roadmap.choices import ActivityStatus, IndicatorDirection, PhaseStatus


class RoadmapPhase(models.Model):
    """One of the four phases of the enterprise scaling programme."""

    number = models.PositiveSmallIntegerField(unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    indicative_duration = models.CharField(max_length=50, blank=True)
    planned_start = models.DateField(null=True, blank=True)
    planned_end = models.DateField(null=True, blank=True)
    actual_start = models.DateField(null=True, blank=True)
    actual_end = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=PhaseStatus.choices, default=PhaseStatus.NOT_STARTED
    )

    class Meta:
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(condition=Q(number__range=(1, 4)), name="phase_number_1_4"),
            models.CheckConstraint(
                condition=Q(planned_end__isnull=True)
                | Q(planned_start__isnull=True)
                | Q(planned_end__gte=F("planned_start")),
                name="phase_planned_end_after_start",
            ),
        ]

    def __str__(self):
        return f"Phase {self.number}: {self.name}"


class RoadmapActivity(models.Model):
    phase = models.ForeignKey(RoadmapPhase, on_delete=models.CASCADE, related_name="activities")
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=ActivityStatus.choices, default=ActivityStatus.PLANNED
    )
    initiatives = models.ManyToManyField(Initiative, blank=True, related_name="roadmap_activities")

    class Meta:
        ordering = ["phase", "due_on", "id"]
        verbose_name_plural = "roadmap activities"

    def __str__(self):
        return self.title


class SuccessIndicator(models.Model):
    """A phase's success indicator: entered by hand, or computed by a registered function
    (``computed_by`` names it) that stores one dated value per day."""

    phase = models.ForeignKey(RoadmapPhase, on_delete=models.CASCADE, related_name="indicators")
    key = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=20, blank=True)
    target = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    direction = models.CharField(
        max_length=6,
        choices=IndicatorDirection.choices,
        default=IndicatorDirection.HIGHER_IS_BETTER,
    )
    computed_by = models.CharField(max_length=60, blank=True)
    current_value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["phase", "key"]

    def __str__(self):
        return self.name


class IndicatorValue(models.Model):
    indicator = models.ForeignKey(SuccessIndicator, on_delete=models.CASCADE, related_name="values")
    on_date = models.DateField()
    value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["indicator", "on_date"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "on_date"], name="one_value_per_day"),
        ]

    def __str__(self):
        return f"{self.indicator_id} {self.on_date}: {self.value}"
