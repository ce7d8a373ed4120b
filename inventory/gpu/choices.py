from django.db import models


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


class SharingMode(models.TextChoices):
    EXCLUSIVE = "exclusive", "Exclusive (whole GPUs)"
    TIME_SLICED = "time_sliced", "Time-sliced"
    MIG = "mig", "MIG partitions"
