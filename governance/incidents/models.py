"""Incidents, the reporting regimes that give them deadlines, their reports and corrective
actions, and the business units' regulated sectors."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.models import BusinessUnit, CustomFieldsModel, TransitionFieldGuard
from governance.incidents.choices import (
    INCIDENT_TRANSITIONS,
    REASSESSMENT_SEVERITIES,
    SERIOUS_CATEGORIES,
    ActionStatus,
    DraftStatus,
    IncidentCategory,
    IncidentStatus,
    ReportKind,
    ReportState,
    Sector,
    Severity,
)
from governance.risk.models import evidence_storage
from inventory.registry.models import ModelVersion
from portfolio.initiatives.models import Initiative

REFERENCE_PREFIX = "INC-"
SEQUENCE_NAME = "incident"


def format_reference(number: int) -> str:
    return f"{REFERENCE_PREFIX}{number:04d}"


def incident_file_path(instance, filename):
    return f"incidents/{instance.incident_id}/{filename}"


class Incident(TransitionFieldGuard, CustomFieldsModel):
    """An AI incident: what happened to which initiatives and models, how serious it is, and
    when the organisation detected it, became aware of it and established a causal link.

    ``status`` only changes through ``governance.incidents.services.incident_transition``.
    """

    transition_field = "status"
    transition_message = "Status changes go through incidents.services.incident_transition."

    reference = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField("what happened")
    category = models.CharField(max_length=32, choices=IncidentCategory.choices)
    severity = models.CharField(max_length=4, choices=Severity.choices, default=Severity.SEV3)
    status = models.CharField(
        max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.REPORTED
    )
    # Facts the EU AI Act's shorter deadlines turn on (Art. 73(3) and 73(4)) and GDPR Art. 33.
    death_suspected = models.BooleanField(
        "a death may be linked", default=False, help_text="EU AI Act Art. 73(4): 10 days."
    )
    widespread_infringement = models.BooleanField(
        "widespread infringement",
        default=False,
        help_text="EU AI Act Art. 3(61) and Art. 73(3): 2 days.",
    )
    personal_data_breach = models.BooleanField(
        "personal-data breach", default=False, help_text="GDPR Art. 4(12) and Art. 33: 72 hours."
    )
    initiatives = models.ManyToManyField(Initiative, related_name="incidents")
    model_versions = models.ManyToManyField(ModelVersion, related_name="incidents", blank=True)
    business_units = models.ManyToManyField(
        BusinessUnit, related_name="incidents_affecting", blank=True, verbose_name="BUs affected"
    )
    detected_at = models.DateTimeField()
    became_aware_at = models.DateTimeField("became aware at")
    causal_link_at = models.DateTimeField("causal link established at", null=True, blank=True)
    triaged_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    immediate_actions = models.TextField(blank=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reported_incidents"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_incidents",
    )
    draft_status = models.CharField(
        max_length=8, choices=DraftStatus.choices, default=DraftStatus.NONE, blank=True
    )
    draft_file = models.FileField(
        storage=evidence_storage, upload_to="incidents/drafts/", blank=True, max_length=300
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-became_aware_at", "-id"]
        indexes = [models.Index(fields=["status", "severity"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=IncidentStatus.values), name="incident_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(became_aware_at__gte=models.F("detected_at")),
                name="incident_aware_not_before_detected",
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.title}"

    def get_absolute_url(self):
        return reverse("governance:incident_detail", args=[self.pk])

    def clean(self):
        from django.core.exceptions import ValidationError

        # The clocks run from these moments: a time without its zone is ambiguous.
        naive = {
            name: "Give the time with its time zone."
            for name in ("detected_at", "became_aware_at", "causal_link_at")
            if getattr(self, name) is not None and timezone.is_naive(getattr(self, name))
        }
        if naive:
            raise ValidationError(naive)
        if self.detected_at and self.became_aware_at and self.became_aware_at < self.detected_at:
            raise ValidationError(
                {"became_aware_at": "Awareness cannot come before the incident was detected."}
            )
        if self.causal_link_at and self.detected_at and self.causal_link_at < self.detected_at:
            raise ValidationError(
                {"causal_link_at": "A causal link cannot be established before detection."}
            )

    def can_move_to(self, status: str) -> bool:
        return status in INCIDENT_TRANSITIONS.get(self.status, frozenset())

    @property
    def is_serious(self) -> bool:
        """A serious incident of the EU AI Act, Art. 3(49)."""
        return self.category in SERIOUS_CATEGORIES

    @property
    def flags_reassessment(self) -> bool:
        return self.is_serious or self.severity in REASSESSMENT_SEVERITIES

    @property
    def is_open(self) -> bool:
        return self.status != IncidentStatus.CLOSED


class ReportingRegime(models.Model):
    """A reporting obligation as data: when it applies (``conditions`` over the incident's
    and initiatives' facts, see ``governance.incidents.regimes``) and its reports' deadlines
    (``deadlines``: per report kind, rules whose first match gives the limits; the due time
    is the earliest limit). Admins edit regimes; reports keep the due time they were given."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    legal_basis = models.CharField(max_length=300)
    recipient = models.CharField("reported to", max_length=200)
    conditions = models.JSONField(default=dict, blank=True)
    deadlines = models.JSONField(default=list)
    initial_may_be_incomplete = models.BooleanField(default=False)
    warn_before_hours = models.PositiveIntegerField(default=24)
    escalate_before_hours = models.PositiveIntegerField(default=4)
    is_active = models.BooleanField(default=True)
    notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.name


class IncidentReport(models.Model):
    """One report an incident owes a regulator under one regime: its due time (fixed at
    triage; never recomputed unless the incident is triaged again) and, once sent, when, to
    whom, the recipient's reference and a copy of what was sent (private storage)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="reports")
    regime = models.ForeignKey(ReportingRegime, on_delete=models.PROTECT, related_name="reports")
    kind = models.CharField(max_length=12, choices=ReportKind.choices)
    order = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField()
    basis = models.CharField("deadline rule", max_length=300, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_to = models.CharField(max_length=200, blank=True)
    submitted_reference = models.CharField("recipient's reference", max_length=100, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file = models.FileField(
        storage=evidence_storage, upload_to=incident_file_path, blank=True, max_length=300
    )
    # Markers of the sweep's messages: each is set by a conditional UPDATE, so it is sent once.
    warned_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_at", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "regime", "kind"], name="incident_report_unique_kind"
            )
        ]
        indexes = [models.Index(fields=["submitted_at", "due_at"])]

    def __str__(self):
        return f"{self.incident.reference} · {self.regime.code} {self.kind}"

    def state(self, now=None) -> str:
        now = now or timezone.now()
        if self.submitted_at is not None:
            return (
                ReportState.SUBMITTED_LATE
                if self.submitted_at > self.due_at
                else ReportState.SUBMITTED
            )
        return ReportState.MISSED if self.due_at < now else ReportState.DUE

    def get_state_display(self) -> str:
        return ReportState(self.state()).label

    @property
    def is_open(self) -> bool:
        return self.submitted_at is None


class CorrectiveAction(models.Model):
    """A corrective action of an incident. An open action blocks closing the incident unless
    a risk officer waives it with a reason."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="actions")
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField()
    status = models.CharField(max_length=8, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)
    waiver_reason = models.TextField(blank=True)
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_on", "id"]

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == ActionStatus.OPEN


class BusinessUnitSector(models.Model):
    """A business unit's regulated sector. Core's ``BusinessUnit`` knows nothing of
    regulation, so governance keeps the mapping; regimes name sectors in their conditions."""

    business_unit = models.OneToOneField(
        BusinessUnit, on_delete=models.CASCADE, related_name="incident_sector"
    )
    sector = models.CharField(max_length=32, choices=Sector.choices)

    def __str__(self):
        return f"{self.business_unit}: {self.get_sector_display()}"
