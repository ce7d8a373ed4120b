"""GPU FinOps results: waste findings and the monthly chargeback (months and their lines)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from core.models import BusinessUnit
from inventory.finops.choices import (
    OPEN_FINDING_STATUSES,
    ChargebackStatus,
    FindingKind,
    FindingStatus,
    IdleSharePolicy,
)
from inventory.gpu.models import GPUAllocation, GPUPool
from inventory.usage.models import GPUDevice
from portfolio.initiatives.models import Initiative


class Finding(models.Model):
    """Waste found in the GPU estate, with what it costs per month. One open finding per
    kind and subject (re-runs update it); acknowledged or resolved with a reason."""

    kind = models.CharField(max_length=20, choices=FindingKind.choices)
    status = models.CharField(
        max_length=12, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )
    # What the finding is about, e.g. "allocation:12", "device:5", "reservation:cr-0123".
    subject_key = models.CharField(max_length=300)
    allocation = models.ForeignKey(
        GPUAllocation, null=True, blank=True, on_delete=models.CASCADE, related_name="findings"
    )
    device = models.ForeignKey(
        GPUDevice, null=True, blank=True, on_delete=models.CASCADE, related_name="findings"
    )
    pool = models.ForeignKey(
        GPUPool, null=True, blank=True, on_delete=models.CASCADE, related_name="findings"
    )
    business_unit = models.ForeignKey(
        BusinessUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="findings"
    )
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.SET_NULL, related_name="findings"
    )
    summary = models.CharField(max_length=300)
    detail = models.JSONField(default=dict, blank=True)
    monthly_waste = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="USD")
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)
    acted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    acted_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-monthly_waste", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject_key"],
                condition=Q(status__in=sorted(OPEN_FINDING_STATUSES)),
                name="finding_one_open_per_subject",
            ),
        ]
        indexes = [models.Index(fields=["status", "kind"])]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.summary}"

    def get_absolute_url(self):
        return reverse("inventory:finding_detail", args=[self.pk])


class ChargebackMonth(models.Model):
    """A month's chargeback: recomputed on demand while open; frozen once closed (reopening
    is explicit and audited)."""

    month = models.DateField(unique=True)  # first day of the month
    status = models.CharField(
        max_length=10, choices=ChargebackStatus.choices, default=ChargebackStatus.OPEN
    )
    policy = models.CharField(
        max_length=12, choices=IdleSharePolicy.choices, default=IdleSharePolicy.PROPORTIONAL
    )
    currency = models.CharField(max_length=3, default="USD")
    computed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-month"]

    def __str__(self):
        return f"Chargeback {self.month:%Y-%m} ({self.status})"


class ChargebackLine(models.Model):
    """One amount of a month's chargeback: direct cost of an allocation, a BU's share of idle
    or shared cost, or orphaned / unattributed cost shown apart."""

    class Kind(models.TextChoices):
        DIRECT = "direct", "Direct cost"
        IDLE_SHARE = "idle_share", "Share of idle cost"
        SHARED_SHARE = "shared_share", "Share of shared cost"
        IDLE = "idle", "Idle cost (kept separate)"
        ORPHANED = "orphaned", "Orphaned"
        UNATTRIBUTED = "unattributed", "Unattributed"
        ADJUSTMENT = "adjustment", "Credits, tax and corrections"

    class Source(models.TextChoices):
        FOCUS = "focus", "Imported cost (EffectiveCost)"
        RATE = "rate", "GPU-hours × rate card"
        POLICY = "policy", "Share under the policy"

    chargeback = models.ForeignKey(ChargebackMonth, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=14, choices=Kind.choices)
    source = models.CharField(max_length=8, choices=Source.choices)
    business_unit = models.ForeignKey(
        BusinessUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    allocation = models.ForeignKey(
        GPUAllocation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pool = models.ForeignKey(
        GPUPool, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    gpu_hours = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))
    amount = models.DecimalField(max_digits=18, decimal_places=6)

    class Meta:
        ordering = ["business_unit", "kind", "id"]
        indexes = [models.Index(fields=["chargeback", "business_unit"])]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount}"
