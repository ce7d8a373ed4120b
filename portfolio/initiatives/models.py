"""Initiatives (AI use cases) and their deployments to business units."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from core.models import BusinessUnit, CustomFieldsModel, TransitionFieldGuard
from portfolio.initiatives.choices import (
    ADOPTABLE_STAGES,
    ENDED_STAGES,
    LIVE_STAGES,
    STAGE_TRANSITIONS,
    AIType,
    AutonomyLevel,
    DataSensitivity,
    DeploymentStatus,
    EUAIActRole,
    Sourcing,
    Stage,
    UseCaseCategory,
)

REFERENCE_PREFIX = "AI-"

_web_link = URLValidator(schemes=["http", "https"])


def is_web_link(value: str) -> bool:
    """An http(s) URL: other schemes (javascript:, data:) must never become links."""
    try:
        _web_link(value)
    except ValidationError:
        return False
    return True


def format_reference(number: int) -> str:
    return f"{REFERENCE_PREFIX}{number:04d}"


class Initiative(TransitionFieldGuard, CustomFieldsModel):
    """An AI initiative (use case or pilot) with exactly one accountable owner.

    ``stage`` only changes through ``portfolio.initiatives.services.initiative_change_stage``.
    """

    transition_field = "stage"
    transition_message = "Stage changes go through portfolio.services.initiative_change_stage."

    reference = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=200)
    problem_statement = models.TextField(blank=True)
    purpose = models.TextField("intended purpose and expected benefits", blank=True)
    outputs = models.TextField("AI outputs", blank=True)
    category = models.CharField(
        "use-case category",
        max_length=32,
        choices=UseCaseCategory.choices,
        default=UseCaseCategory.OTHER,
    )
    business_unit = models.ForeignKey(
        BusinessUnit,
        on_delete=models.PROTECT,
        related_name="initiatives",
        verbose_name="owning business unit",
    )
    accountable_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_initiatives"
    )
    technical_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="technically_led_initiatives",
    )
    executive_sponsor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sponsored_initiatives",
    )
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.DRAFT)
    roadmap_phase = models.PositiveSmallIntegerField(
        null=True, blank=True, choices=[(n, f"Phase {n}") for n in range(1, 5)]
    )
    initiated_on = models.DateField(null=True, blank=True)
    pilot_started_on = models.DateField(null=True, blank=True)
    production_on = models.DateField(null=True, blank=True)
    retired_on = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    expected_annual_value = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True
    )
    expected_annual_cost = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True
    )
    realised_value = models.DecimalField(
        "realised annual value",
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Value per year actually delivered, measured as of the date below.",
    )
    realised_value_as_of = models.DateField("realised value as of", null=True, blank=True)
    value_evidence_url = models.CharField(
        "value evidence link",
        max_length=500,
        blank=True,
        help_text="An http(s) link to the measurement behind the realised value.",
    )
    data_sensitivity = models.CharField(
        max_length=20, choices=DataSensitivity.choices, default=DataSensitivity.INTERNAL
    )
    # Unknown (None / "") when an imported inventory does not say: never a default posing as
    # a fact. Forms still start from "no" and "in-house".
    uses_pii = models.BooleanField("uses personal data (PII)", null=True, blank=True, default=False)
    sourcing = models.CharField(
        "developed", max_length=10, choices=Sourcing.choices, default=Sourcing.IN_HOUSE, blank=True
    )
    ai_type = models.CharField(
        "AI type", max_length=32, choices=AIType.choices, default=AIType.CLASSICAL_ML
    )
    autonomy_level = models.CharField(
        "autonomy and human involvement",
        max_length=32,
        choices=AutonomyLevel.choices,
        default=AutonomyLevel.ADVISORY,
    )
    impacted_stakeholders = models.TextField(blank=True)
    jurisdictions = models.CharField(
        max_length=300, blank=True, help_text="Where it is used, e.g. EU, UK, US-CA."
    )
    eu_ai_act_role = models.CharField(
        "EU AI Act operator role", max_length=16, choices=EUAIActRole.choices, blank=True
    )
    external_id = models.CharField(
        "external register id", max_length=100, blank=True, db_index=True
    )
    tags = models.CharField(max_length=300, blank=True, help_text="Comma-separated.")
    # Set by a bulk import that could not match a named owner to a user: a placeholder
    # person stands in until someone confirms who it is.
    owner_to_confirm = models.BooleanField("owner to confirm", default=False)
    # Registration wizard: the last step completed (0 = basics not yet saved), for resuming.
    wizard_step = models.PositiveSmallIntegerField(default=0)
    # Set when this initiative was merged into another (it is then retired).
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    links = models.TextField(blank=True, help_text="One URL per line (repository, docs …).")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(roadmap_phase__isnull=True) | Q(roadmap_phase__range=(1, 4)),
                name="initiative_roadmap_phase_1_to_4",
            ),
            models.CheckConstraint(
                condition=Q(expected_annual_value__isnull=True) | Q(expected_annual_value__gte=0),
                name="initiative_expected_value_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(expected_annual_cost__isnull=True) | Q(expected_annual_cost__gte=0),
                name="initiative_expected_cost_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(production_on__isnull=True)
                | Q(pilot_started_on__isnull=True)
                | Q(production_on__gte=F("pilot_started_on")),
                name="initiative_production_after_pilot",
            ),
            models.CheckConstraint(
                condition=Q(retired_on__isnull=True)
                | Q(initiated_on__isnull=True)
                | Q(retired_on__gte=F("initiated_on")),
                name="initiative_retired_after_initiated",
            ),
            models.CheckConstraint(
                condition=Q(stage__in=Stage.values), name="initiative_stage_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["business_unit", "stage"]),
            models.Index(fields=["stage"]),
            # Matches the default list order, so the first page needs no sort.
            models.Index(fields=["-created_at", "-id"], name="initiative_recent_idx"),
        ]

    def __str__(self):
        return f"{self.reference} {self.title}"

    def get_absolute_url(self):
        return reverse("portfolio:initiative_detail", args=[self.pk])

    def clean(self):
        errors = {}
        if (
            self.pilot_started_on
            and self.production_on
            and self.production_on < self.pilot_started_on
        ):
            errors["production_on"] = "Production cannot start before the pilot."
        if self.initiated_on and self.retired_on and self.retired_on < self.initiated_on:
            errors["retired_on"] = "An initiative cannot retire before it was initiated."
        for field in ("expected_annual_value", "expected_annual_cost", "realised_value"):
            value = getattr(self, field)
            if value is not None and value < 0:
                errors[field] = "Enter an amount of zero or more."
        if self.value_evidence_url and not is_web_link(self.value_evidence_url):
            errors["value_evidence_url"] = "Only an http(s) address is accepted."
        if self.realised_value_as_of and self.realised_value is None:
            errors["realised_value"] = "Enter the realised value this date is for."
        invalid_links = [link for link in self.link_list if not is_web_link(link)]
        if invalid_links:
            errors["links"] = f"Only http(s) addresses are accepted: {', '.join(invalid_links[:3])}"
        if errors:
            raise ValidationError(errors)

    def can_move_to(self, stage: str) -> bool:
        return stage in STAGE_TRANSITIONS.get(self.stage, frozenset())

    def can_be_adopted(self) -> bool:
        """Whether other business units may plan to adopt it (also hides the button)."""
        return self.stage in ADOPTABLE_STAGES

    @property
    def is_live(self) -> bool:
        """In a live stage and not merged (``choices.LIVE_STAGES``)."""
        return self.stage in LIVE_STAGES and self.merged_into_id is None

    @property
    def has_ended(self) -> bool:
        return self.stage in ENDED_STAGES

    @property
    def tag_list(self) -> list[str]:
        return [tag.strip() for tag in self.tags.split(",") if tag.strip()]

    @property
    def link_list(self) -> list[str]:
        return [line.strip() for line in self.links.splitlines() if line.strip()]


class StageChange(models.Model):
    """History of an initiative's stage with dates, for cycle-time metrics."""

    initiative = models.ForeignKey(
        Initiative, on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.CharField(max_length=16, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=16, choices=Stage.choices)
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self):
        return f"{self.initiative_id}: {self.from_stage or '∅'} → {self.to_stage}"


class Deployment(models.Model):
    """An initiative adopted by a business unit (its own or another)."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="deployments")
    business_unit = models.ForeignKey(
        BusinessUnit, on_delete=models.PROTECT, related_name="deployments"
    )
    status = models.CharField(
        max_length=16, choices=DeploymentStatus.choices, default=DeploymentStatus.PLANNED
    )
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["initiative", "business_unit"], name="deployment_unique_per_bu"
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True)
                | Q(started_on__isnull=True)
                | Q(ended_on__gte=F("started_on")),
                name="deployment_end_after_start",
            ),
        ]
        indexes = [models.Index(fields=["business_unit", "status"])]

    def __str__(self):
        return f"{self.initiative.reference} @ {self.business_unit.code}"

    def clean(self):
        if self.started_on and self.ended_on and self.ended_on < self.started_on:
            raise ValidationError({"ended_on": "The end date cannot be before the start date."})
