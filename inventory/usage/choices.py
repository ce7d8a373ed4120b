from django.db import models


class IngestKind(models.TextChoices):
    DCGM_TEXT = "dcgm_text", "dcgm-exporter scrape (Prometheus text)"
    PROMETHEUS_JSON = "prometheus_json", "Prometheus query_range JSON"
    SLURM_SACCT = "slurm_sacct", "Slurm sacct -P"
    USAGE_CSV = "usage_csv", "Usage CSV"
    K8S_PODS = "k8s_pods", "Kubernetes pods (CSV or JSON, e.g. the openb pod trace)"
    OPENCOST = "opencost", "OpenCost allocation JSON"
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
