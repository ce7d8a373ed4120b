"""Governance: the versioned risk questionnaire, risk assessments with overrides, and the
control library with per-initiative results."""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from core.choices import Role
from core.models import BusinessUnit
from portfolio.models import Initiative

from .choices import (
    OPEN_REQUEST_STATUSES,
    AnswerType,
    Applicability,
    AssessmentStatus,
    ControlKind,
    EscalationReason,
    Gate,
    ImportStatus,
    NISTFunction,
    Outcome,
    ReportKind,
    ReportStatus,
    RequestStatus,
    ResultStatus,
    Tier,
)


class PrivateStorage(FileSystemStorage):
    """Files outside the web root with no public URL (a permission-checked view streams
    them). The location is read from settings on each use."""

    @property
    def base_location(self):
        return str(settings.KEEL_PRIVATE_STORAGE)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return None


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


class ApprovalPolicy(models.Model):
    """Ordered approval steps for one tier × gate. Edits create a new version; a request keeps
    a snapshot of the version it was submitted under."""

    tier = models.PositiveSmallIntegerField(choices=Tier.choices)
    gate = models.CharField(max_length=16, choices=Gate.choices)
    version = models.PositiveIntegerField(default=1)
    is_active = models.BooleanField(default=True)
    # Tier 4: no gate passes, whatever the steps.
    blocks_gate = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["gate", "tier", "-version"]
        verbose_name_plural = "approval policies"
        constraints = [
            models.UniqueConstraint(
                fields=["tier", "gate", "version"], name="approval_policy_unique_version"
            ),
            models.UniqueConstraint(
                fields=["tier", "gate"],
                condition=Q(is_active=True),
                name="approval_policy_one_active",
            ),
        ]

    def __str__(self):
        return f"{self.get_gate_display()} · Tier {self.tier} · v{self.version}"

    def snapshot(self) -> dict:
        """The policy as plain data, frozen into each request at submission."""
        return {
            "policy_id": self.pk,
            "tier": self.tier,
            "gate": self.gate,
            "version": self.version,
            "blocks_gate": self.blocks_gate,
            "steps": [step.snapshot() for step in self.steps.all()],
        }


class ApprovalStep(models.Model):
    policy = models.ForeignKey(ApprovalPolicy, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=100)
    required_role = models.CharField(max_length=32, choices=Role.choices)
    approvals_needed = models.PositiveSmallIntegerField(default=1)
    sla_hours = models.PositiveIntegerField(default=72)
    escalation_role = models.CharField(max_length=32, choices=Role.choices, default=Role.COE_ADMIN)
    fast_path_allowed = models.BooleanField(
        default=False, help_text="Approve automatically when every automated control passes."
    )

    class Meta:
        ordering = ["policy", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(approvals_needed__gte=1), name="step_needs_approval"
            ),
            models.CheckConstraint(condition=Q(sla_hours__gte=1), name="step_sla_positive"),
        ]

    def __str__(self):
        return f"{self.order + 1}. {self.name}"

    def snapshot(self) -> dict:
        return {
            "name": self.name,
            "role": self.required_role,
            "approvals": self.approvals_needed,
            "sla_hours": self.sla_hours,
            "escalation_role": self.escalation_role,
            "fast_path": self.fast_path_allowed,
        }


class ApprovalRequest(models.Model):
    """A request to pass a gate, decided step by step against its policy snapshot."""

    initiative = models.ForeignKey(
        Initiative, on_delete=models.CASCADE, related_name="approval_requests"
    )
    gate = models.CharField(max_length=16, choices=Gate.choices)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices)
    policy = models.ForeignKey(ApprovalPolicy, on_delete=models.PROTECT, related_name="requests")
    policy_snapshot = models.JSONField()
    # What a gpu_request / model_release request is about (the initiative for the others).
    subject_type = models.CharField(max_length=64, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=20, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    round = models.PositiveSmallIntegerField(default=1)
    current_step = models.PositiveSmallIntegerField(default=0)
    step_due_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    # Roles that may decide the current step, as ",role,role," (queue look-ups stay in SQL):
    # the step's role, plus the escalation level's once escalated by SLA, or only the
    # escalation level's after a disagreement.
    acting_roles = models.CharField(max_length=200, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="submitted_requests"
    )
    submitted_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    fast_tracked = models.BooleanField(default=False)
    comment = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["step_due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["initiative", "gate", "subject_type", "subject_id"],
                condition=Q(status__in=["pending", "changes_requested"]),
                name="one_open_request_per_gate",
            ),
        ]
        indexes = [models.Index(fields=["status", "step_due_at"])]

    def __str__(self):
        return f"{self.get_gate_display()} gate for {self.initiative_id} ({self.status})"

    def get_absolute_url(self):
        return reverse("governance:request_detail", args=[self.pk])

    @property
    def steps(self) -> list[dict]:
        return self.policy_snapshot.get("steps", [])

    @property
    def step(self) -> dict | None:
        steps = self.steps
        return steps[self.current_step] if self.current_step < len(steps) else None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REQUEST_STATUSES

    def is_overdue(self, now=None) -> bool:
        return (
            self.status == RequestStatus.PENDING
            and self.step_due_at is not None
            and self.step_due_at < (now or timezone.now())
        )


class Decision(models.Model):
    """One approver's outcome on one step of one round of a request."""

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="decisions")
    round = models.PositiveSmallIntegerField()
    step_index = models.PositiveSmallIntegerField()
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approval_decisions"
    )
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="delegated_decisions",
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "round", "step_index", "approver"],
                name="one_decision_per_person_per_step",
            ),
        ]

    def __str__(self):
        return f"{self.approver_id} {self.outcome} step {self.step_index} of {self.request_id}"


class Escalation(models.Model):
    """A request step escalated one level (CoE lead → risk officer → executive)."""

    request = models.ForeignKey(
        ApprovalRequest, on_delete=models.CASCADE, related_name="escalations"
    )
    round = models.PositiveSmallIntegerField()
    step_index = models.PositiveSmallIntegerField()
    level = models.PositiveSmallIntegerField()
    to_role = models.CharField(max_length=32, choices=Role.choices)
    reason = models.CharField(max_length=16, choices=EscalationReason.choices)
    note = models.TextField(blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "round", "step_index", "level"], name="one_escalation_per_level"
            ),
        ]

    def __str__(self):
        return f"{self.request_id} escalated to {self.to_role} (level {self.level})"


class Delegation(models.Model):
    """Holiday cover: ``delegate`` may decide for ``delegator`` between the dates."""

    delegator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delegations_given"
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delegations_received"
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="delegation_end_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(delegator=F("delegate")), name="delegation_not_to_self"
            ),
        ]

    def __str__(self):
        return f"{self.delegator_id} → {self.delegate_id} ({self.starts_on}–{self.ends_on})"


# --- Bulk inventory import (issue 8) -------------------------------------------------------


class ImportPreset(models.Model):
    """A named column mapping: the built-in ``keel`` and ``us-federal-2024`` presets (see
    ``governance.bulk_import.presets``) plus the ones people save from the mapping step."""

    name = models.CharField(max_length=100, unique=True)
    # The built-in preset whose value rules (synonyms, external id) this one starts from.
    base = models.CharField(max_length=30, default="keel")
    # Column header (as written in the file) → Keel field name ("" = ignore the column).
    mapping = models.JSONField(default=dict)
    options = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ImportJob(models.Model):
    """One uploaded inventory file through mapping, dry run and the import itself; the file
    stays in the row so the Celery worker reads exactly what was previewed."""

    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.PositiveIntegerField(default=0)
    content = models.BinaryField()
    preset = models.CharField(max_length=100, default="keel")  # built-in or saved preset name
    mapping = models.JSONField(default=dict, blank=True)
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    # Dry-run report: counts per action and every rejected row's line and reason.
    preview = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="import_jobs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Import #{self.pk} {self.filename} ({self.status})"

    def get_absolute_url(self):
        return reverse("governance:import_detail", args=[self.pk])

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == ImportStatus.SUCCEEDED else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))


def report_path(instance, filename):
    return f"reports/{instance.created_at:%Y/%m}/{filename}"


# Generated PDFs are kept this long, then the file is deleted and the row marked expired.
REPORT_RETENTION_DAYS = 30


class ReportFile(models.Model):
    """One generated PDF (a board pack or an initiative's governance dossier), built by a
    Celery task as the user who asked for it, so it shows exactly what they may see."""

    kind = models.CharField(max_length=12, choices=ReportKind.choices)
    status = models.CharField(
        max_length=8, choices=ReportStatus.choices, default=ReportStatus.QUEUED
    )
    # Board pack filters (None: every unit the requester may see) / the dossier's subject.
    business_unit = models.ForeignKey(
        BusinessUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    months = models.PositiveSmallIntegerField(default=6)
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.CASCADE, related_name="reports"
    )
    # The filters as applied, in words, for the list and the PDF's cover.
    filters_label = models.CharField(max_length=300, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)  # 0-100
    progress_label = models.CharField(max_length=100, blank=True)
    file = models.FileField(storage=evidence_storage, upload_to=report_path, blank=True)
    size_bytes = models.PositiveIntegerField(default=0)
    page_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["created_by", "-created_at"]),
            models.Index(fields=["status", "expires_at"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    def get_absolute_url(self):
        return reverse("dashboard:report_detail", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in (ReportStatus.READY, ReportStatus.FAILED, ReportStatus.EXPIRED)
