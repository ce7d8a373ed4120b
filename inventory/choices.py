from django.db import models


class ModelType(models.TextChoices):
    CLASSICAL_ML = "classical_ml", "Classical ML"
    DEEP_LEARNING = "deep_learning", "Deep learning"
    FOUNDATION = "foundation", "LLM / foundation model"
    VENDOR_API = "vendor_api", "Vendor API"


class Hosting(models.TextChoices):
    ON_PREM = "on_prem", "On-premises"
    CLOUD = "cloud", "Our cloud"
    VENDOR = "vendor", "Vendor-hosted"
    EDGE = "edge", "Edge / device"


class ModelStatus(models.TextChoices):
    DEVELOPMENT = "development", "Development"
    VALIDATION = "validation", "Validation"
    APPROVED = "approved", "Approved"
    PRODUCTION = "production", "Production"
    DEPRECATED = "deprecated", "Deprecated"
    RETIRED = "retired", "Retired"


class MonitoringStatus(models.TextChoices):
    HEALTHY = "healthy", "Healthy"
    WARNING = "warning", "Warning"
    DRIFTING = "drifting", "Drifting"
    UNKNOWN = "unknown", "Unknown"


class Provider(models.TextChoices):
    AWS = "aws", "AWS"
    GCP = "gcp", "Google Cloud"
    AZURE = "azure", "Azure"
    ON_PREM = "on_prem", "On-premises"
    OTHER = "other", "Other"


class PoolKind(models.TextChoices):
    CLOUD_ACCOUNT = "cloud_account", "Cloud account"
    KUBERNETES = "kubernetes", "Kubernetes node pool"
    SLURM = "slurm", "Slurm partition"
    ON_PREM_CLUSTER = "on_prem_cluster", "On-prem cluster"


class PricingModel(models.TextChoices):
    ON_DEMAND = "on_demand", "On-demand"
    RESERVED = "reserved", "Reserved"
    SPOT = "spot", "Spot"
    OWNED = "owned", "Owned"


class AllocationPurpose(models.TextChoices):
    EXPERIMENTATION = "experimentation", "Experimentation"
    TRAINING = "training", "Training"
    FINE_TUNING = "fine_tuning", "Fine-tuning"
    INFERENCE = "inference", "Inference"


# The one table of allowed version status changes: from-status -> allowed to-statuses.
# Production is reached only through an approved ``model_release`` gate request
# (``governance`` applies it by calling ``model_version_change_status(via_gate=...)``).
VERSION_TRANSITIONS: dict[str, frozenset[str]] = {
    ModelStatus.DEVELOPMENT: frozenset({ModelStatus.VALIDATION, ModelStatus.RETIRED}),
    ModelStatus.VALIDATION: frozenset(
        {ModelStatus.DEVELOPMENT, ModelStatus.APPROVED, ModelStatus.RETIRED}
    ),
    ModelStatus.APPROVED: frozenset(
        {ModelStatus.VALIDATION, ModelStatus.PRODUCTION, ModelStatus.RETIRED}
    ),
    ModelStatus.PRODUCTION: frozenset({ModelStatus.DEPRECATED}),
    ModelStatus.DEPRECATED: frozenset({ModelStatus.RETIRED}),
    ModelStatus.RETIRED: frozenset(),
}
GATED_VERSION_STATUSES = frozenset({ModelStatus.PRODUCTION})
# Versions whose validation is on a review schedule (reminders, overdue list).
REVIEWED_VERSION_STATUSES = frozenset({ModelStatus.APPROVED, ModelStatus.PRODUCTION})


class MonitoringSource(models.TextChoices):
    API = "api", "Monitoring job (API)"
    MANUAL = "manual", "Entered by hand"


class ReminderKind(models.TextChoices):
    DAYS_30 = "days_30", "30 days before"
    DAYS_7 = "days_7", "7 days before"
    OVERDUE = "overdue", "Overdue (escalated)"


class VendorProductKind(models.TextChoices):
    FOUNDATION_API = "foundation_api", "Foundation-model API"
    SAAS_AI = "saas_ai", "SaaS AI product"
    MODEL_LICENCE = "model_licence", "Licensed model"
    OTHER = "other", "Other"


class DiligenceStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    APPROVED = "approved", "Approved"
    CONDITIONAL = "conditional", "Approved with conditions"
    REJECTED = "rejected", "Rejected"


# --- GPU FinOps ---------------------------------------------------------------------------


class SharingMode(models.TextChoices):
    EXCLUSIVE = "exclusive", "Exclusive (whole GPUs)"
    TIME_SLICED = "time_sliced", "Time-sliced"
    MIG = "mig", "MIG partitions"


class ExternalKeyKind(models.TextChoices):
    """How usage and cost records name a workload; each key points at one initiative,
    business unit or allocation."""

    K8S_NAMESPACE = "k8s_namespace", "Kubernetes namespace"
    K8S_LABEL = "k8s_label", "Kubernetes label (key=value)"
    SLURM_ACCOUNT = "slurm_account", "Slurm account"
    SLURM_WCKEY = "slurm_wckey", "Slurm WCKey"
    CLOUD_SUB_ACCOUNT = "cloud_sub_account", "Cloud sub-account"
    COST_TAG = "cost_tag", "Cost tag value"
    RESOURCE_ID = "resource_id", "Cloud resource id"
    DEVICE = "device", "GPU device (host:gpu)"


class GPURequestStatus(models.TextChoices):
    PENDING = "pending", "Awaiting approval"
    APPROVED = "approved", "Approved (allocated)"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


class IngestKind(models.TextChoices):
    DCGM_TEXT = "dcgm_text", "dcgm-exporter scrape (Prometheus text)"
    PROMETHEUS_JSON = "prometheus_json", "Prometheus query_range JSON"
    SLURM_SACCT = "slurm_sacct", "Slurm sacct -P"
    USAGE_CSV = "usage_csv", "Usage CSV"
    FOCUS = "focus", "FOCUS cost export"


class IngestStatus(models.TextChoices):
    IMPORTED = "imported", "Imported"
    FAILED = "failed", "Failed (nothing written)"


class CostCategory(models.TextChoices):
    """What a cost line is, for chargeback: only usage is charged to allocations."""

    USAGE = "usage", "GPU usage"
    IDLE_COMMITMENT = "idle_commitment", "Unused commitment / reservation"
    NON_GPU = "non_gpu", "Other (non-GPU) usage"
    PURCHASE = "purchase", "Purchase"
    CREDIT = "credit", "Credit"
    TAX = "tax", "Tax"
    CORRECTION = "correction", "Correction"
    ADJUSTMENT = "adjustment", "Adjustment"


class CostMatch(models.TextChoices):
    RESOURCE_ID = "resource_id", "Resource id"
    COST_TAG = "cost_tag", "Cost tag"
    SUB_ACCOUNT = "sub_account", "Sub-account"
    NONE = "none", "Unattributed"


class FindingKind(models.TextChoices):
    IDLE = "idle", "Idle"
    ORPHANED = "orphaned", "Orphaned"
    OVER_PROVISIONED = "over_provisioned", "Over-provisioned"
    UNUSED_RESERVATION = "unused_reservation", "Unused reservation"
    EXPIRING = "expiring", "Expiring"


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


OPEN_FINDING_STATUSES = frozenset({FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED})


class IdleSharePolicy(models.TextChoices):
    SEPARATE = "separate", "Keep separate"
    PROPORTIONAL = "proportional", "Proportional to direct cost"
    EVEN = "even", "Even across business units"


class ChargebackStatus(models.TextChoices):
    OPEN = "open", "Open (recomputed on demand)"
    CLOSED = "closed", "Closed (frozen)"
