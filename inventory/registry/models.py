"""The AI model registry: models, their versions and model cards, evaluation metrics,
monitoring reports, review reminders, and the vendor register."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from core.models import BusinessUnit, CustomFieldsModel, TransitionFieldGuard
from inventory.registry.choices import (
    GATED_VERSION_STATUSES,
    VERSION_TRANSITIONS,
    DiligenceStatus,
    Hosting,
    ModelStatus,
    ModelType,
    MonitoringSource,
    MonitoringStatus,
    ReminderKind,
    VendorProductKind,
)
from portfolio.initiatives.models import Initiative


class Vendor(CustomFieldsModel):
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


class AIModel(CustomFieldsModel):
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
    # ``inventory.registry.services.model_tiers_refresh`` whenever a tier or a link changes.
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


class ModelVersion(TransitionFieldGuard, CustomFieldsModel):
    """One version of a model with its own lifecycle and review dates.

    ``status`` only changes through ``inventory.registry.services.model_version_change_status``.
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
