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
    # Governance content (issue 19): publishing a questionnaire version. Not an initiative's
    # gate: no control is required at it and its requests have no initiative.
    QUESTIONNAIRE = "questionnaire", "Questionnaire publication"


# Gates that approve governance content rather than an initiative.
CONTENT_GATES = frozenset({Gate.QUESTIONNAIRE})
# The gates an initiative (or its models and GPU requests) passes: controls are required at
# these only.
INITIATIVE_GATES = tuple(gate for gate in Gate if gate not in CONTENT_GATES)


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


MIN_JUSTIFICATION_LENGTH = 20
