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
