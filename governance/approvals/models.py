"""Approval policies (versioned, as data), requests with their decisions and escalations,
and delegations (holiday cover)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from core.choices import Role
from governance.approvals.choices import (
    OPEN_REQUEST_STATUSES,
    EscalationReason,
    Outcome,
    RequestStatus,
)
from governance.risk.choices import CONTENT_GATES, Gate, Tier
from governance.risk.models import Questionnaire
from portfolio.initiatives.models import Initiative


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

    # None only for a governance-content request (a questionnaire publication).
    initiative = models.ForeignKey(
        Initiative,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="approval_requests",
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
            # NULL initiatives never collide above, so content requests have their own.
            models.UniqueConstraint(
                fields=["gate", "subject_type", "subject_id"],
                condition=Q(initiative__isnull=True, status__in=["pending", "changes_requested"]),
                name="one_open_content_request",
            ),
            models.CheckConstraint(
                condition=Q(initiative__isnull=False) | Q(gate__in=sorted(CONTENT_GATES)),
                name="request_initiative_unless_content",
            ),
        ]
        indexes = [models.Index(fields=["status", "step_due_at"])]

    def __str__(self):
        return f"{self.get_gate_display()} gate for {self.reference} ({self.status})"

    def get_absolute_url(self):
        return reverse("governance:request_detail", args=[self.pk])

    @property
    def is_content(self) -> bool:
        """About governance content (a questionnaire version), not an initiative."""
        return self.initiative_id is None

    @property
    def reference(self) -> str:
        """What people call the request's subject: the initiative's reference, or the
        questionnaire version a content request publishes."""
        if self.initiative_id is not None:
            return self.initiative.reference
        questionnaire = Questionnaire.objects.filter(pk=self.subject_id or None).first()
        return f"Questionnaire v{questionnaire.version}" if questionnaire else "Questionnaire"

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


class DelegateEligibility(models.TextChoices):
    SAME_ROLE = "same_role", "Colleagues holding one of the delegator's approver roles"
    COE = "coe", "Any member of the CoE (a CoE role, or a member of the CoE business unit)"
    FLAGGED = "flagged", "Holders of the “may act as delegate” permission"


class DelegationRule(models.Model):
    """Who may be chosen as a delegate: one row (pk 1), set by administrators through
    ``governance.approvals.delegation.delegation_rule_set``; without it, ``same_role``.

    Whatever the rule, colleagues holding one of the delegator's approver roles stay eligible,
    the delegate must be active, and separation of duties applies to the delegate too."""

    eligible = models.CharField(
        "who may act as delegate",
        max_length=12,
        choices=DelegateEligibility.choices,
        default=DelegateEligibility.SAME_ROLE,
    )
    coe_business_unit = models.ForeignKey(
        "core.BusinessUnit",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="CoE business unit",
        help_text="With “any member of the CoE”: its members are eligible too.",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        permissions = [("act_as_delegate", "May act as delegate for approvals")]

    def __str__(self):
        return self.get_eligible_display()
