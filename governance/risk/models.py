"""Governance: the versioned risk questionnaire, risk assessments with overrides, and the
control library with per-initiative results."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.storage import PrivateStorage
from governance.risk.choices import (
    AnswerType,
    Applicability,
    AssessmentStatus,
    ControlKind,
    Gate,
    NISTFunction,
    ResultStatus,
    Tier,
)
from portfolio.initiatives.models import Initiative


def evidence_storage():
    return PrivateStorage()


def evidence_path(instance, filename):
    return f"evidence/{instance.initiative_id}/{instance.control.code}/{filename}"


class Questionnaire(models.Model):
    """One version of the risk questionnaire. Once published it never changes; at most one
    version is active (offered for new assessments)."""

    version = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=200)
    is_active = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_questionnaire"
            ),
            models.CheckConstraint(
                condition=Q(is_active=False) | Q(published_at__isnull=False),
                name="active_questionnaire_is_published",
            ),
        ]

    def __str__(self):
        return f"{self.title} v{self.version}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class Question(models.Model):
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="questions"
    )
    key = models.SlugField(max_length=50)
    order = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=300)
    help_text = models.TextField(blank=True)
    answer_type = models.CharField(max_length=10, choices=AnswerType.choices)
    # NUMBER questions: [[minimum, weight], …]
    number_bands = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["questionnaire", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "key"], name="question_unique_key")
        ]

    def __str__(self):
        return self.text


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    key = models.SlugField(max_length=50)
    label = models.CharField(max_length=300)
    order = models.PositiveSmallIntegerField(default=0)
    weight = models.PositiveSmallIntegerField(default=0)
    tier_floor = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.MINIMAL)
    reason = models.CharField(
        max_length=300,
        blank=True,
        help_text="Plain-words rationale when this answer drives the tier.",
    )

    class Meta:
        ordering = ["question", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["question", "key"], name="choice_unique_key"),
            models.CheckConstraint(condition=Q(tier_floor__range=(1, 4)), name="choice_floor_1_4"),
        ]

    def __str__(self):
        return self.label


class RiskAssessment(models.Model):
    """Answers of one initiative to one questionnaire version, with the computed tier.

    The newest completed assessment of an initiative is its current one (``is_current``).
    A risk officer's override is kept beside the computed tier, never instead of it.
    """

    initiative = models.ForeignKey(
        Initiative, on_delete=models.CASCADE, related_name="risk_assessments"
    )
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.PROTECT, related_name="assessments"
    )
    answers = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=12, choices=AssessmentStatus.choices, default=AssessmentStatus.DRAFT
    )
    is_current = models.BooleanField(default=False)
    computed_tier = models.PositiveSmallIntegerField(choices=Tier.choices, null=True, blank=True)
    score = models.PositiveIntegerField(default=0)
    rationale = models.JSONField(default=list, blank=True)
    # What the assessment was made on; a change to any of these requires reassessment.
    subject_fingerprint = models.CharField(max_length=64, blank=True)
    # From an imported inventory's impact answers ("from import, not yet assessed"): the tier
    # is provisional until someone answers the questionnaire.
    provisional = models.BooleanField(default=False)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    override_tier = models.PositiveSmallIntegerField(choices=Tier.choices, null=True, blank=True)
    override_justification = models.TextField(blank=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    overridden_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["initiative"], condition=Q(is_current=True), name="one_current_assessment"
            ),
            models.UniqueConstraint(
                fields=["initiative"],
                condition=Q(status="draft"),
                name="one_draft_assessment",
            ),
            models.CheckConstraint(
                condition=Q(override_tier__isnull=True) | ~Q(override_justification=""),
                name="override_needs_justification",
            ),
            models.CheckConstraint(
                condition=Q(is_current=False) | Q(status="completed"),
                name="current_assessment_is_completed",
            ),
        ]
        indexes = [models.Index(fields=["is_current", "computed_tier"])]

    def __str__(self):
        return f"Assessment of {self.initiative_id} (v{self.questionnaire_id})"

    @property
    def effective_tier(self) -> int | None:
        return self.override_tier or self.computed_tier


class Control(models.Model):
    """A control of the library, mapped to the EU AI Act, NIST AI RMF and ISO/IEC 42001."""

    code = models.CharField(max_length=20, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=ControlKind.choices)
    applies_when = models.CharField(
        max_length=20, choices=Applicability.choices, default=Applicability.ALWAYS
    )
    eu_ai_act_article = models.CharField("EU AI Act article", max_length=50, blank=True)
    nist_function = models.CharField(
        "NIST AI RMF function", max_length=10, choices=NISTFunction.choices, blank=True
    )
    iso_42001_clause = models.CharField("ISO/IEC 42001 clause", max_length=50, blank=True)
    # How many points of the inherent risk score a passing required control takes off
    # (governance.risk.residual); 0 for a control that documents rather than mitigates.
    mitigation_weight = models.PositiveSmallIntegerField(
        default=1,
        help_text="Points of the inherent risk score this control removes while it passes "
        "and is required.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.title}"


class ControlRequirement(models.Model):
    """A control is required at ``gate`` for initiatives of ``minimum_tier`` or above."""

    control = models.ForeignKey(Control, on_delete=models.CASCADE, related_name="requirements")
    gate = models.CharField(max_length=16, choices=Gate.choices)
    minimum_tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.MINIMAL)

    class Meta:
        ordering = ["gate", "control__code"]
        constraints = [
            models.UniqueConstraint(fields=["control", "gate"], name="requirement_unique_gate"),
        ]

    def __str__(self):
        return f"{self.control.code} at {self.gate} (tier ≥ {self.minimum_tier})"


class ControlResult(models.Model):
    """The state of one control for one initiative, with evidence and review."""

    initiative = models.ForeignKey(
        Initiative, on_delete=models.CASCADE, related_name="control_results"
    )
    control = models.ForeignKey(Control, on_delete=models.PROTECT, related_name="results")
    status = models.CharField(
        max_length=16, choices=ResultStatus.choices, default=ResultStatus.PENDING
    )
    detail = models.TextField(blank=True)
    evidence_file = models.FileField(
        upload_to=evidence_path, storage=evidence_storage, blank=True, max_length=300
    )
    evidence_link = models.URLField(blank=True, max_length=500)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    waiver_expires_on = models.DateField(null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    # Required for this initiative now (its tier, the gates passed and the next one); kept
    # by controls_evaluate so compliance scores are plain SQL aggregates.
    is_required = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["control__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["initiative", "control"], name="one_result_per_control"
            ),
            models.CheckConstraint(
                condition=~Q(status="waived") | Q(waiver_expires_on__isnull=False),
                name="waiver_has_expiry",
            ),
        ]

    def __str__(self):
        return f"{self.control.code} for {self.initiative_id}: {self.status}"
