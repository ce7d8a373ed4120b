from django.db import models


class Role(models.TextChoices):
    BU_MEMBER = "bu_member", "BU member"
    BU_LEAD = "bu_lead", "BU lead"
    COE_REVIEWER = "coe_reviewer", "CoE reviewer"
    COE_ADMIN = "coe_admin", "CoE admin"
    RISK_OFFICER = "risk_officer", "Risk officer"
    PLATFORM_ENGINEER = "platform_engineer", "Platform engineer"
    EXECUTIVE = "executive", "Executive"
    ADMIN = "admin", "Administrator"


# Roles that read the whole organisation's portfolio, not just their own BU's.
ORGANISATION_WIDE_READ_ROLES = frozenset(
    {
        Role.COE_REVIEWER,
        Role.COE_ADMIN,
        Role.RISK_OFFICER,
        Role.EXECUTIVE,
        Role.ADMIN,
        Role.PLATFORM_ENGINEER,
    }
)
# Roles that may change any BU's initiatives.
ORGANISATION_WIDE_WRITE_ROLES = frozenset({Role.COE_ADMIN, Role.ADMIN})
# Roles that register and edit their own BU's initiatives.
BU_WRITE_ROLES = frozenset({Role.BU_MEMBER, Role.BU_LEAD})
# Roles that keep the GPU and model inventory.
INVENTORY_WRITE_ROLES = frozenset({Role.PLATFORM_ENGINEER, Role.COE_ADMIN, Role.ADMIN})


class NotificationKind(models.TextChoices):
    """What a notification (and a webhook event) is about; users choose email per kind."""

    APPROVAL_REQUESTED = "approval_requested", "Approval requested"
    APPROVAL_DECIDED = "approval_decided", "Approval decided"
    APPROVAL_ESCALATED = "approval_escalated", "Approval escalated"
    GATE_BLOCKED = "gate_blocked", "Gate blocked"
    MODEL_REVIEW = "model_review", "Model review due or overdue"
    MODEL_DRIFT = "model_drift", "Model drifting"
    GPU_FINDING = "gpu_finding", "GPU waste finding"
    AUDIT_ALERT = "audit_alert", "Audit alert"
    MENTION = "mention", "Mentioned in a discussion"
    GENERAL = "general", "General"


class TokenScope(models.TextChoices):
    READ = "read", "Read only"
    READ_WRITE = "read_write", "Read and write"


class GrantedVia(models.TextChoices):
    """How a membership was granted (the People page shows it)."""

    MANUAL = "manual", "Granted by hand"
    GROUP_MAPPING = "group_mapping", "Directory group mapping"
    SCIM = "scim", "SCIM provisioning"


class CustomFieldType(models.TextChoices):
    """The value types of a custom field (``core.customfields`` validates each)."""

    TEXT = "text", "Text"
    LONG_TEXT = "long_text", "Long text"
    INTEGER = "integer", "Integer"
    DECIMAL = "decimal", "Decimal"
    DATE = "date", "Date"
    BOOLEAN = "boolean", "Yes/no"
    CHOICE = "choice", "Choice"
    MULTI_CHOICE = "multi_choice", "Multiple choice"
    URL = "url", "Web link (URL)"
    USER = "user", "Person"
    BUSINESS_UNIT = "business_unit", "Business unit"


class CustomFieldRequired(models.TextChoices):
    NEVER = "never", "Optional"
    ALWAYS = "always", "Always required"
    FROM_STAGE = "from_stage", "Required from a stage on (a gate blocker when missing)"
