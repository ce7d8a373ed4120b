"""Usage and cost ingest: batches, GPU devices, raw samples, Slurm jobs, the daily roll-up,
FOCUS cost records, and the external keys that attribute them to workloads."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import BusinessUnit
from inventory.gpu.models import GPUAllocation, GPUPool, GPUType
from inventory.usage.choices import (
    CostCategory,
    CostMatch,
    ExternalKeyKind,
    IngestKind,
    IngestStatus,
)
from portfolio.initiatives.models import Initiative


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


class PodRecord(models.Model):
    """A Kubernetes pod's GPU holding from a pod list (``k8s_pods``) or one OpenCost
    allocation window (``opencost``); re-imported (same source, cluster, namespace, pod and
    start) it is updated. ``gpu_count`` is the share of GPUs held to 0.001 (milli-GPU);
    ``gpu_hours`` is exact to 0.000001 and counts in ``UsageDaily`` of its allocation."""

    source = models.CharField(max_length=20, choices=IngestKind.choices)
    cluster = models.CharField(max_length=100, blank=True)
    namespace = models.CharField(max_length=253, blank=True)
    pod = models.CharField(max_length=253)
    node = models.CharField(max_length=253, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    gpu_model = models.CharField(max_length=100, blank=True)
    gpu_type = models.ForeignKey(
        GPUType, null=True, blank=True, on_delete=models.SET_NULL, related_name="pod_records"
    )
    num_gpu = models.PositiveIntegerField(default=0)
    gpu_milli = models.PositiveIntegerField("milli-GPU per GPU", default=0)
    mig_profile = models.CharField(max_length=20, blank=True)
    gpu_count = models.DecimalField(max_digits=9, decimal_places=3, default=Decimal("0"))
    qos = models.CharField(max_length=40, blank=True)
    phase = models.CharField(max_length=40, blank=True)
    created = models.DateTimeField(null=True, blank=True)
    start = models.DateTimeField()
    end = models.DateTimeField(null=True, blank=True)  # null while running
    counted_until = models.DateTimeField()
    gpu_hours = models.DecimalField(max_digits=16, decimal_places=6, default=Decimal("0"))
    utilisation = models.FloatField(null=True, blank=True)  # 0–1
    cost = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    allocation = models.ForeignKey(
        GPUAllocation, null=True, blank=True, on_delete=models.SET_NULL, related_name="pods"
    )
    batch = models.ForeignKey(IngestBatch, on_delete=models.CASCADE, related_name="pods")

    class Meta:
        ordering = ["-start", "pod"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "cluster", "namespace", "pod", "start"],
                name="pod_record_unique",
            ),
        ]
        indexes = [models.Index(fields=["allocation", "start"])]

    def __str__(self):
        return f"Pod {self.namespace}/{self.pod}" if self.namespace else f"Pod {self.pod}"


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
    # Sampled, Slurm and pod GPU-hours together ("GPU-hours used").
    gpu_hours = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))
    # The part of ``gpu_hours`` the samples speak for: the sample coverage's numerator.
    sampled_gpu_hours = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))

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
