"""Models and their versions, vendors, and the GPU estate (types, pools, allocations)."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from core.models import BusinessUnit, TransitionFieldGuard
from portfolio.choices import ENDED_STAGES
from portfolio.models import Initiative

from .choices import (
    GATED_VERSION_STATUSES,
    VERSION_TRANSITIONS,
    AllocationPurpose,
    DiligenceStatus,
    Hosting,
    ModelStatus,
    ModelType,
    MonitoringSource,
    MonitoringStatus,
    PoolKind,
    PricingModel,
    Provider,
    ReminderKind,
    VendorProductKind,
)


class Vendor(models.Model):
    """A third-party AI provider, with its contract, data-processing terms and due diligence."""

    name = models.CharField(max_length=200, unique=True)
    website = models.URLField(blank=True)
    description = models.TextField(blank=True)
    contract_reference = models.CharField(max_length=100, blank=True)
    contract_ends_on = models.DateField(null=True, blank=True)
    data_processing_terms = models.TextField(
        blank=True, help_text="Where data is processed, retention, training on customer data."
    )
    dpa_signed = models.BooleanField("data-processing agreement signed", default=False)
    due_diligence_status = models.CharField(
        max_length=16, choices=DiligenceStatus.choices, default=DiligenceStatus.NOT_STARTED
    )
    due_diligence_on = models.DateField("due diligence date", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("inventory:vendor_detail", args=[self.pk])


class VendorProduct(models.Model):
    """An AI product a vendor sells: a foundation-model API, a SaaS AI tool, a model licence."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="products")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=VendorProductKind.choices)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["vendor__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "name"], name="vendor_product_unique"),
        ]

    def __str__(self):
        return f"{self.vendor.name} {self.name}"


class AIModel(models.Model):
    """A model in the inventory; it may serve several initiatives."""

    name = models.CharField(max_length=200)
    model_type = models.CharField(max_length=20, choices=ModelType.choices)
    vendor = models.ForeignKey(
        Vendor, null=True, blank=True, on_delete=models.PROTECT, related_name="models"
    )
    vendor_product = models.ForeignKey(
        VendorProduct, null=True, blank=True, on_delete=models.PROTECT, related_name="models"
    )
    licence = models.CharField(max_length=100, blank=True)
    hosting = models.CharField(max_length=10, choices=Hosting.choices, default=Hosting.CLOUD)
    business_unit = models.ForeignKey(
        BusinessUnit, on_delete=models.PROTECT, related_name="ai_models"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_models"
    )
    initiatives = models.ManyToManyField(Initiative, blank=True, related_name="ai_models")
    description = models.TextField(blank=True)
    # The highest risk tier of the initiatives it serves, kept by
    # ``inventory.services.model_tiers_refresh`` whenever a tier or a link changes.
    effective_tier = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "AI model"
        constraints = [
            models.UniqueConstraint(fields=["business_unit", "name"], name="ai_model_unique_name"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("inventory:model_detail", args=[self.pk])

    def clean(self):
        if self.vendor_product_id and self.vendor_id != self.vendor_product.vendor_id:
            raise ValidationError({"vendor_product": "This product belongs to another vendor."})


class ModelVersion(TransitionFieldGuard, models.Model):
    """One version of a model with its own lifecycle and review dates.

    ``status`` only changes through ``inventory.model_services.model_version_change_status``.
    """

    transition_field = "status"
    transition_message = "Status changes go through model_version_change_status."

    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=50)
    status = models.CharField(
        max_length=16, choices=ModelStatus.choices, default=ModelStatus.DEVELOPMENT
    )
    artefact_uri = models.CharField(max_length=500, blank=True)
    released_on = models.DateField(null=True, blank=True)
    last_validated_on = models.DateField(null=True, blank=True)
    next_review_due = models.DateField(null=True, blank=True)
    monitoring_status = models.CharField(
        max_length=10, choices=MonitoringStatus.choices, default=MonitoringStatus.UNKNOWN
    )
    monitoring_updated_at = models.DateTimeField(null=True, blank=True)
    # The last metric values reported with the monitoring status: {name: number}.
    last_metrics = models.JSONField(default=dict, blank=True)
    training_data_summary = models.TextField(blank=True)
    # The model card.
    intended_use = models.TextField(blank=True)
    out_of_scope_uses = models.TextField(blank=True)
    limitations = models.TextField(blank=True)
    ethical_considerations = models.TextField(blank=True)
    fairness_evaluation = models.TextField(blank=True)
    human_oversight = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Fields a model card must fill before the card counts as complete.
    MODEL_CARD_REQUIRED = ("intended_use", "limitations", "human_oversight")
    RELEASE_REQUIRED = "A version reaches production only through an approved model release."

    class Meta:
        ordering = ["model", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["model", "version"], name="model_version_unique"),
        ]

    def __str__(self):
        return f"{self.model.name} {self.version}"

    def save(self, *args, **kwargs):
        """A new version starts before production (the ``model_release`` gate decides that);
        status changes of a saved one are refused (``TransitionFieldGuard``)."""
        if not self.pk and self.status in GATED_VERSION_STATUSES:
            raise ValidationError({"status": self.RELEASE_REQUIRED})
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("inventory:model_detail", args=[self.model_id]) + f"#version-{self.pk}"

    def can_move_to(self, status: str) -> bool:
        return status in VERSION_TRANSITIONS.get(self.status, frozenset())

    def missing_model_card_fields(self) -> list[str]:
        return [
            str(self._meta.get_field(name).verbose_name)
            for name in self.MODEL_CARD_REQUIRED
            if not getattr(self, name).strip()
        ]


class EvaluationMetric(models.Model):
    """One evaluation result of a version: metric name, value, dataset and date."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="metrics")
    name = models.CharField(max_length=100)
    value = models.FloatField()
    dataset = models.CharField(max_length=200, blank=True)
    measured_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "measured_on", "id"]

    def __str__(self):
        return f"{self.name}={self.value:g} ({self.measured_on})"


class MonitoringReport(models.Model):
    """One monitoring status report of a version (the history behind its current status)."""

    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="monitoring_reports"
    )
    status = models.CharField(max_length=10, choices=MonitoringStatus.choices)
    metrics = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=10, choices=MonitoringSource.choices)
    note = models.TextField(blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reported_at = models.DateTimeField()

    class Meta:
        ordering = ["-reported_at", "-id"]
        indexes = [models.Index(fields=["version", "-reported_at"])]

    def __str__(self):
        return f"{self.version_id}: {self.status} at {self.reported_at:%Y-%m-%d %H:%M}"


class ReviewReminder(models.Model):
    """A review reminder or overdue escalation sent for one due date of a version: the unique
    constraint makes each one go out once, however often (or concurrently) the task runs."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="reminders")
    due_on = models.DateField()
    kind = models.CharField(max_length=10, choices=ReminderKind.choices)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "due_on", "kind"], name="review_reminder_once"
            ),
        ]

    def __str__(self):
        return f"{self.version_id} {self.kind} for {self.due_on}"


class GPUType(models.Model):
    """Catalogue entry for a GPU model; the reference price is guidance, not billing truth."""

    vendor = models.CharField(max_length=50, default="NVIDIA")
    name = models.CharField(max_length=100, unique=True)
    memory_gb = models.PositiveIntegerField()
    reference_hourly_price = models.DecimalField(max_digits=10, decimal_places=4)
    currency = models.CharField(max_length=3, default="USD")

    class Meta:
        ordering = ["vendor", "name"]
        verbose_name = "GPU type"
        constraints = [
            models.CheckConstraint(
                condition=Q(reference_hourly_price__gte=0), name="gpu_type_price_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.vendor} {self.name}"


class GPUPool(models.Model):
    """Where GPUs live: a cloud account, node pool, Slurm partition or on-prem cluster."""

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=PoolKind.choices)
    provider = models.CharField(max_length=10, choices=Provider.choices)
    region = models.CharField(max_length=50, blank=True)
    account = models.CharField("account or project", max_length=100, blank=True)
    cluster = models.CharField(max_length=100, blank=True)
    gpu_type = models.ForeignKey(GPUType, on_delete=models.PROTECT, related_name="pools")
    gpu_count = models.PositiveIntegerField("capacity (GPUs)")
    pricing_model = models.CharField(max_length=10, choices=PricingModel.choices)
    hourly_rate = models.DecimalField(
        "hourly rate per GPU", max_digits=10, decimal_places=4, default=Decimal("0")
    )
    currency = models.CharField(max_length=3, default="USD")
    owning_team = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "GPU pool"
        constraints = [
            models.CheckConstraint(
                condition=Q(gpu_count__gte=0), name="gpu_pool_count_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(hourly_rate__gte=0), name="gpu_pool_rate_not_negative"
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("inventory:pool_detail", args=[self.pk])


class GPUAllocationQuerySet(models.QuerySet):
    def orphaned(self):
        return self.filter(Q(initiative__isnull=True) | Q(initiative__stage__in=ENDED_STAGES))

    def active_on(self, day):
        return self.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day), starts_on__lte=day)


class GPUAllocation(models.Model):
    """GPUs of a pool given to a business unit, normally for an initiative.

    An allocation without an initiative, or whose initiative has ended, is *orphaned*.
    ``gpu_count`` may be fractional for MIG or time-sliced sharing.
    """

    pool = models.ForeignKey(GPUPool, on_delete=models.PROTECT, related_name="allocations")
    gpu_count = models.DecimalField(max_digits=8, decimal_places=2)
    initiative = models.ForeignKey(
        Initiative,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="gpu_allocations",
    )
    business_unit = models.ForeignKey(
        BusinessUnit, on_delete=models.PROTECT, related_name="gpu_allocations"
    )
    purpose = models.CharField(max_length=20, choices=AllocationPurpose.choices)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requested_gpu_allocations",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="approved_gpu_allocations",
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = GPUAllocationQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = "GPU allocation"
        constraints = [
            models.CheckConstraint(
                condition=Q(gpu_count__gt=0), name="gpu_allocation_count_positive"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="gpu_allocation_end_after_start",
            ),
        ]
        indexes = [models.Index(fields=["business_unit", "starts_on"])]

    def __str__(self):
        return f"{self.gpu_count} × {self.pool.gpu_type.name} for {self.business_unit.code}"

    def get_absolute_url(self):
        return reverse("inventory:allocation_detail", args=[self.pk])

    def clean(self):
        errors = {}
        if self.gpu_count is not None and self.gpu_count <= 0:
            errors["gpu_count"] = "Allocate more than zero GPUs."
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = "The end date cannot be before the start date."
        if errors:
            raise ValidationError(errors)

    @property
    def is_orphaned(self) -> bool:
        return self.initiative_id is None or self.initiative.stage in ENDED_STAGES
