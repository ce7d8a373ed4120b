from django.db import models


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
