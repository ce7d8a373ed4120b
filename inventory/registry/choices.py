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
