from django.db import models


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    WITHDRAWN = "withdrawn", "Withdrawn"


# Statuses from which a request can still change.
OPEN_REQUEST_STATUSES = frozenset({RequestStatus.PENDING, RequestStatus.CHANGES_REQUESTED})

# The one table of request transitions (the engine's services enforce it).
REQUEST_TRANSITIONS = {
    RequestStatus.PENDING: frozenset(
        {
            RequestStatus.APPROVED,
            RequestStatus.REJECTED,
            RequestStatus.CHANGES_REQUESTED,
            RequestStatus.WITHDRAWN,
        }
    ),
    RequestStatus.CHANGES_REQUESTED: frozenset({RequestStatus.PENDING, RequestStatus.WITHDRAWN}),
    # A reviewer may escalate a disagreement: the request reopens one level up.
    RequestStatus.REJECTED: frozenset({RequestStatus.PENDING}),
    RequestStatus.APPROVED: frozenset(),
    RequestStatus.WITHDRAWN: frozenset(),
}


class Outcome(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    REQUEST_CHANGES = "request_changes", "Request changes"


class EscalationReason(models.TextChoices):
    SLA = "sla", "SLA breached"
    DISAGREEMENT = "disagreement", "Approvers disagree"
