from django.db import models


class AnswerType(models.TextChoices):
    SINGLE = "single", "Single choice"
    MULTI = "multi", "Multiple choice"
    YES_NO = "yes_no", "Yes / no"
    NUMBER = "number", "Number"


class Tier(models.IntegerChoices):
    MINIMAL = 1, "Tier 1 · minimal"
    LIMITED = 2, "Tier 2 · limited"
    HIGH = 3, "Tier 3 · high"
    UNACCEPTABLE = 4, "Tier 4 · unacceptable"


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", "In progress"
    COMPLETED = "completed", "Completed"
    SUPERSEDED = "superseded", "Superseded"


class Gate(models.TextChoices):
    INTAKE = "intake", "Intake"
    PILOT = "pilot", "Pilot"
    PRODUCTION = "production", "Production"
    SCALE = "scale", "Scale"
    GPU_REQUEST = "gpu_request", "GPU request"
    MODEL_RELEASE = "model_release", "Model release"


class ControlKind(models.TextChoices):
    AUTOMATED = "automated", "Automated"
    MANUAL = "manual", "Manual (evidence)"


class Applicability(models.TextChoices):
    ALWAYS = "always", "Always"
    PERSONAL_DATA = "personal_data", "When personal data is used"
    GENERATIVE = "generative", "When generative AI is used"
    THIRD_PARTY = "third_party", "When a third-party model is used"
    PEOPLE_FACING = "people_facing", "When people outside the team see outputs"
    HAS_MODELS = "has_models", "When models are linked"


class NISTFunction(models.TextChoices):
    GOVERN = "govern", "Govern"
    MAP = "map", "Map"
    MEASURE = "measure", "Measure"
    MANAGE = "manage", "Manage"


class ResultStatus(models.TextChoices):
    PENDING = "pending", "Not yet evidenced"
    PASSING = "passing", "Passing"
    FAILING = "failing", "Failing"
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    WAIVED = "waived", "Waived"


# Statuses that satisfy a required control (a waiver only until it expires).
SATISFYING_STATUSES = frozenset({ResultStatus.PASSING, ResultStatus.NOT_APPLICABLE})


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


class ImportStatus(models.TextChoices):
    """An inventory import job's life: upload → mapping → dry run → confirm → run."""

    UPLOADED = "uploaded", "Uploaded (map the columns)"
    PREVIEWED = "previewed", "Dry run done (confirm to import)"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Importing"
    SUCCEEDED = "succeeded", "Imported"
    FAILED = "failed", "Failed (nothing imported)"


class ImportRowAction(models.TextChoices):
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    SKIP = "skip", "Skip (unchanged or duplicate)"
    REJECT = "reject", "Reject"


class ReportKind(models.TextChoices):
    BOARD_PACK = "board_pack", "Board pack"
    DOSSIER = "dossier", "Governance dossier"


class ReportStatus(models.TextChoices):
    """A generated PDF's life: queued → running → ready (or failed); expired after 30 days."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Generating"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired (file deleted)"
