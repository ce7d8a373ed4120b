"""Models and their versions, vendors, and the GPU estate (types, pools, allocations)."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from core.models import BusinessUnit, TransitionFieldGuard
from portfolio.choices import ENDED_STAGES, Stage
from portfolio.models import Initiative

from .choices import (
    GATED_VERSION_STATUSES,
    OPEN_FINDING_STATUSES,
    VERSION_TRANSITIONS,
    AllocationPurpose,
    ChargebackStatus,
    CostCategory,
    CostMatch,
    DiligenceStatus,
    ExternalKeyKind,
    FindingKind,
    FindingStatus,
    GPURequestStatus,
    Hosting,
    IdleSharePolicy,
    IngestKind,
    IngestStatus,
    ModelStatus,
    ModelType,
    MonitoringSource,
    MonitoringStatus,
    PoolKind,
    PricingModel,
    Provider,
    ReminderKind,
    SharingMode,
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
    reference_hourly_price = models.DecimalField(
        "reference $/GPU-hour",
        max_digits=10,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Public list price for guidance; imported FOCUS costs always win.",
    )
    currency = models.CharField(max_length=3, default="USD")
    price_source = models.CharField(max_length=200, blank=True)
    price_as_of = models.CharField("price date", max_length=10, blank=True)
    example_instance = models.CharField(max_length=50, blank=True)
    gpus_per_instance = models.PositiveSmallIntegerField(null=True, blank=True)
    instance_hourly_price = models.DecimalField(
        max_digits=12, decimal_places=5, null=True, blank=True
    )
    # The names monitoring reports for this GPU (DCGM ``modelName``), and its MIG profiles.
    monitoring_names = models.JSONField(default=list, blank=True)
    mig_profiles = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["vendor", "name"]
        verbose_name = "GPU type"
        constraints = [
            models.CheckConstraint(
                condition=Q(reference_hourly_price__isnull=True) | Q(reference_hourly_price__gte=0),
                name="gpu_type_price_not_negative",
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
    sharing_mode = models.CharField(
        max_length=12, choices=SharingMode.choices, default=SharingMode.EXCLUSIVE
    )
    pricing_model = models.CharField(max_length=10, choices=PricingModel.choices)
    hourly_rate = models.DecimalField(
        "hourly rate per GPU", max_digits=10, decimal_places=4, default=Decimal("0")
    )
    currency = models.CharField(max_length=3, default="USD")
    # Rate card: the instance type billed for this pool's GPUs, so cost lines without a GPU
    # count can still be recognised and priced.
    instance_type = models.CharField(max_length=50, blank=True)
    gpus_per_instance = models.PositiveSmallIntegerField(null=True, blank=True)
    # A reservation or commitment bought for this pool (capacity reservation or savings plan
    # id), so its unused hours are attributed to the pool.
    commitment_id = models.CharField("reservation / commitment id", max_length=200, blank=True)
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


# An allocation is orphaned when nobody's initiative is using it: none, or one that ended or
# is paused.
ORPHANING_STAGES = frozenset({*ENDED_STAGES, Stage.PAUSED})


class GPUAllocationQuerySet(models.QuerySet):
    def orphaned(self):
        return self.filter(Q(initiative__isnull=True) | Q(initiative__stage__in=ORPHANING_STAGES))

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
        return self.initiative_id is None or self.initiative.stage in ORPHANING_STAGES


# --- GPU FinOps: matching keys, quotas, requests ------------------------------------------


class ExternalKey(models.Model):
    """A name usage or cost data uses for a workload (a Kubernetes namespace, a Slurm
    account, a cost tag value, a cloud resource id...), pointing at exactly one initiative,
    business unit or allocation. Matching prefers the allocation, then the initiative, then
    the business unit (see ``inventory.finops_matching``)."""

    kind = models.CharField(max_length=20, choices=ExternalKeyKind.choices)
    value = models.CharField(max_length=300)
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.CASCADE, related_name="external_keys"
    )
    business_unit = models.ForeignKey(
        BusinessUnit,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="external_keys",
    )
    allocation = models.ForeignKey(
        "GPUAllocation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="external_keys",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="external_key_unique"),
            models.CheckConstraint(
                condition=(
                    Q(initiative__isnull=False, business_unit__isnull=True, allocation__isnull=True)
                    | Q(
                        initiative__isnull=True,
                        business_unit__isnull=False,
                        allocation__isnull=True,
                    )
                    | Q(
                        initiative__isnull=True,
                        business_unit__isnull=True,
                        allocation__isnull=False,
                    )
                ),
                name="external_key_one_target",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.value}"


class GPUQuota(models.Model):
    """What a business unit (or one of its initiatives) may hold in a pool: the GPUs it
    deserves, a hard limit, and optionally a monthly GPU-hour budget."""

    business_unit = models.ForeignKey(
        BusinessUnit, on_delete=models.CASCADE, related_name="gpu_quotas"
    )
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.CASCADE, related_name="gpu_quotas"
    )
    pool = models.ForeignKey(GPUPool, on_delete=models.CASCADE, related_name="quotas")
    deserved_gpus = models.DecimalField(max_digits=8, decimal_places=2)
    limit_gpus = models.DecimalField(max_digits=8, decimal_places=2)
    monthly_gpu_hour_budget = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["business_unit", "pool", "initiative"]
        verbose_name = "GPU quota"
        constraints = [
            models.UniqueConstraint(
                fields=["business_unit", "pool"],
                condition=Q(initiative__isnull=True),
                name="gpu_quota_one_per_unit_pool",
            ),
            models.UniqueConstraint(
                fields=["initiative", "pool"],
                condition=Q(initiative__isnull=False),
                name="gpu_quota_one_per_initiative_pool",
            ),
            models.CheckConstraint(
                condition=Q(deserved_gpus__gte=0), name="gpu_quota_deserved_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(limit_gpus__gte=F("deserved_gpus")),
                name="gpu_quota_limit_covers_deserved",
            ),
        ]

    def __str__(self):
        scope = self.initiative.reference if self.initiative_id else self.business_unit.code
        return f"{scope} in {self.pool.name}: limit {self.limit_gpus}"

    def clean(self):
        if (
            self.deserved_gpus is not None
            and self.limit_gpus is not None
            and self.limit_gpus < self.deserved_gpus
        ):
            raise ValidationError({"limit_gpus": "The limit cannot be below the deserved GPUs."})
        if (
            self.initiative_id
            and self.business_unit_id
            and self.initiative.business_unit_id != self.business_unit_id
        ):
            raise ValidationError(
                {"initiative": "The initiative belongs to another business unit."}
            )


class GPURequest(models.Model):
    """A member's ask for GPUs for an initiative; decided through the ``gpu_request`` gate
    (fast-pathed within quota and under the size limit). Approval creates ``allocation``."""

    initiative = models.ForeignKey(
        Initiative, on_delete=models.CASCADE, related_name="gpu_requests"
    )
    business_unit = models.ForeignKey(
        BusinessUnit, on_delete=models.PROTECT, related_name="gpu_requests"
    )
    pool = models.ForeignKey(GPUPool, on_delete=models.PROTECT, related_name="requests")
    gpu_count = models.DecimalField(max_digits=8, decimal_places=2)
    purpose = models.CharField(max_length=20, choices=AllocationPurpose.choices)
    pricing_model = models.CharField(max_length=10, choices=PricingModel.choices)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    justification = models.TextField(blank=True)
    status = models.CharField(
        max_length=12, choices=GPURequestStatus.choices, default=GPURequestStatus.PENDING
    )
    fast_tracked = models.BooleanField(default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gpu_requests"
    )
    allocation = models.OneToOneField(
        GPUAllocation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="request",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "GPU request"
        constraints = [
            models.CheckConstraint(condition=Q(gpu_count__gt=0), name="gpu_request_count_positive"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="gpu_request_end_after_start",
            ),
        ]

    def __str__(self):
        return f"GPU request #{self.pk}: {self.gpu_count} × {self.pool.gpu_type.name}"

    def get_absolute_url(self):
        return reverse("inventory:gpu_request_detail", args=[self.pk])


# --- GPU FinOps: ingest ---------------------------------------------------------------------


class IngestBatch(models.Model):
    """One imported usage or cost file. A file (kind + SHA-256) imports once; importing it
    again reports the earlier batch and writes nothing."""

    kind = models.CharField(max_length=20, choices=IngestKind.choices)
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=IngestStatus.choices)
    rows_read = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ingest_batches",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ingest batches"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "sha256"],
                condition=Q(status="imported"),
                name="ingest_batch_file_once",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.filename}"


class GPUDevice(models.Model):
    """A physical GPU or MIG instance seen in monitoring data, and the allocation it was last
    matched to (none: unattributed)."""

    hostname = models.CharField(max_length=200)
    gpu = models.CharField("GPU UUID or index", max_length=100)
    mig_instance = models.CharField(max_length=20, blank=True)
    mig_profile = models.CharField(max_length=20, blank=True)
    model_name = models.CharField(max_length=100, blank=True)
    gpu_type = models.ForeignKey(
        GPUType, null=True, blank=True, on_delete=models.SET_NULL, related_name="devices"
    )
    pool = models.ForeignKey(
        GPUPool, null=True, blank=True, on_delete=models.SET_NULL, related_name="devices"
    )
    allocation = models.ForeignKey(
        GPUAllocation, null=True, blank=True, on_delete=models.SET_NULL, related_name="devices"
    )
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    last_memory_used_mib = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["hostname", "gpu", "mig_instance"]
        verbose_name = "GPU device"
        constraints = [
            models.UniqueConstraint(
                fields=["hostname", "gpu", "mig_instance"], name="gpu_device_unique"
            ),
        ]

    def __str__(self):
        mig = f" MIG {self.mig_instance}" if self.mig_instance else ""
        return f"{self.hostname}:{self.gpu}{mig}"


class UsageSample(models.Model):
    """One utilisation reading (raw; pages read ``UsageDaily``)."""

    batch = models.ForeignKey(IngestBatch, on_delete=models.CASCADE, related_name="samples")
    timestamp = models.DateTimeField()
    device = models.ForeignKey(
        GPUDevice, null=True, blank=True, on_delete=models.CASCADE, related_name="samples"
    )
    allocation = models.ForeignKey(
        GPUAllocation, null=True, blank=True, on_delete=models.CASCADE, related_name="samples"
    )
    activity = models.FloatField(null=True, blank=True)  # 0–1
    memory_used_mib = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["timestamp", "id"]
        indexes = [
            models.Index(fields=["allocation", "timestamp"]),
            models.Index(fields=["device", "timestamp"]),
        ]

    def __str__(self):
        return f"{self.timestamp:%Y-%m-%d %H:%M} {self.activity}"


class SlurmJobRecord(models.Model):
    """A Slurm job's GPU use from ``sacct``; re-imported while running, it is updated."""

    cluster = models.CharField(max_length=100, blank=True)
    job_id = models.CharField(max_length=50)
    job_name = models.CharField(max_length=200, blank=True)
    partition = models.CharField(max_length=100, blank=True)
    account = models.CharField(max_length=100, blank=True)
    wckey = models.CharField(max_length=100, blank=True)
    user = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=40, blank=True)
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)  # null while running
    elapsed_seconds = models.PositiveBigIntegerField(default=0)
    gpus = models.PositiveIntegerField(default=0)
    gpu_type = models.CharField(max_length=50, blank=True)
    gpu_hours = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))
    allocation = models.ForeignKey(
        GPUAllocation, null=True, blank=True, on_delete=models.SET_NULL, related_name="slurm_jobs"
    )
    batch = models.ForeignKey(IngestBatch, on_delete=models.CASCADE, related_name="slurm_jobs")

    class Meta:
        ordering = ["-start", "job_id"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "job_id"], name="slurm_job_unique"),
        ]

    def __str__(self):
        return f"Slurm job {self.job_id}"


class UsageDaily(models.Model):
    """Roll-up per allocation per day (or per unattributed device per day): what pages,
    findings and chargeback read."""

    day = models.DateField()
    allocation = models.ForeignKey(
        GPUAllocation, null=True, blank=True, on_delete=models.CASCADE, related_name="daily_usage"
    )
    device = models.ForeignKey(
        GPUDevice, null=True, blank=True, on_delete=models.CASCADE, related_name="daily_usage"
    )
    samples = models.PositiveIntegerField(default=0)
    avg_activity = models.FloatField(null=True, blank=True)  # 0–1
    p95_activity = models.FloatField(null=True, blank=True)  # 0–1
    max_memory_used_mib = models.PositiveIntegerField(null=True, blank=True)
    gpu_hours = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))

    class Meta:
        ordering = ["day"]
        verbose_name_plural = "daily usage"
        constraints = [
            models.UniqueConstraint(
                fields=["allocation", "day"],
                condition=Q(allocation__isnull=False),
                name="usage_daily_allocation_day",
            ),
            models.UniqueConstraint(
                fields=["device", "day"],
                condition=Q(allocation__isnull=True),
                name="usage_daily_device_day",
            ),
            models.CheckConstraint(
                condition=Q(allocation__isnull=False) | Q(device__isnull=False),
                name="usage_daily_has_subject",
            ),
        ]
        indexes = [models.Index(fields=["day"])]

    def __str__(self):
        return f"{self.day} {self.allocation_id or self.device_id}: {self.gpu_hours} GPU-h"


class CostRecord(models.Model):
    """A FOCUS cost line, classified and matched. ``effective_cost`` is charged back,
    ``billed_cost`` reconciles the invoice; unmatched GPU lines stay, as unattributed."""

    batch = models.ForeignKey(IngestBatch, on_delete=models.CASCADE, related_name="cost_records")
    line = models.PositiveIntegerField()
    fingerprint = models.CharField(max_length=64, unique=True)
    provider = models.CharField(max_length=100)
    month = models.DateField()  # first day of the charge period's month (UTC)
    charge_period_start = models.DateTimeField()
    charge_period_end = models.DateTimeField()
    category = models.CharField(max_length=20, choices=CostCategory.choices)
    charge_category = models.CharField(max_length=20)
    charge_class = models.CharField(max_length=20, blank=True)
    billed_cost = models.DecimalField(max_digits=18, decimal_places=6)
    effective_cost = models.DecimalField(max_digits=18, decimal_places=6)
    currency = models.CharField(max_length=3)
    resource_id = models.CharField(max_length=500, blank=True)
    resource_type = models.CharField(max_length=100, blank=True)
    service_name = models.CharField(max_length=200, blank=True)
    sub_account_id = models.CharField(max_length=200, blank=True)
    region = models.CharField(max_length=50, blank=True)
    pricing_category = models.CharField(max_length=30, blank=True)
    sku_id = models.CharField(max_length=200, blank=True)
    instance_type = models.CharField(max_length=50, blank=True)
    gpu_count = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    gpu_hours = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))
    commitment_id = models.CharField(max_length=500, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    matched_by = models.CharField(max_length=12, choices=CostMatch.choices)
    allocation = models.ForeignKey(
        GPUAllocation, null=True, blank=True, on_delete=models.SET_NULL, related_name="costs"
    )
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.SET_NULL, related_name="gpu_costs"
    )
    business_unit = models.ForeignKey(
        BusinessUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="gpu_costs"
    )
    pool = models.ForeignKey(
        GPUPool, null=True, blank=True, on_delete=models.SET_NULL, related_name="costs"
    )

    class Meta:
        ordering = ["charge_period_start", "id"]
        indexes = [
            models.Index(fields=["month", "category"]),
            models.Index(fields=["allocation", "month"]),
        ]

    def __str__(self):
        return f"{self.provider} {self.resource_id or self.sku_id} {self.effective_cost}"


# --- GPU FinOps: findings and chargeback ---------------------------------------------------


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
