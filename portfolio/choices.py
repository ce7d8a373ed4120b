from django.db import models


class Stage(models.TextChoices):
    DRAFT = "draft", "Draft"
    PROPOSED = "proposed", "Proposed"
    PILOT = "pilot", "Pilot"
    PRODUCTION = "production", "Production"
    SCALED = "scaled", "Scaled"
    PAUSED = "paused", "Paused"
    RETIRED = "retired", "Retired"
    REJECTED = "rejected", "Rejected"


# The one table of allowed stage transitions: from-stage -> allowed to-stages.
STAGE_TRANSITIONS: dict[str, frozenset[str]] = {
    Stage.DRAFT: frozenset({Stage.PROPOSED, Stage.RETIRED}),
    Stage.PROPOSED: frozenset({Stage.PILOT, Stage.PAUSED, Stage.REJECTED, Stage.RETIRED}),
    Stage.PILOT: frozenset({Stage.PRODUCTION, Stage.PAUSED, Stage.REJECTED, Stage.RETIRED}),
    Stage.PRODUCTION: frozenset({Stage.SCALED, Stage.PAUSED, Stage.RETIRED}),
    Stage.SCALED: frozenset({Stage.PAUSED, Stage.RETIRED}),
    Stage.PAUSED: frozenset(
        {Stage.PROPOSED, Stage.PILOT, Stage.PRODUCTION, Stage.SCALED, Stage.RETIRED}
    ),
    Stage.RETIRED: frozenset(),
    Stage.REJECTED: frozenset({Stage.DRAFT}),
}

# Moving *forward* into these stages needs an approved request of the matching governance
# gate; the governance app applies it by calling ``initiative_change_stage(via_gate=...)``.
GATED_STAGES = {
    Stage.PILOT: "pilot",
    Stage.PRODUCTION: "production",
    Stage.SCALED: "scale",
}

# Stages that end an initiative's life; their GPU allocations count as orphaned.
ENDED_STAGES = frozenset({Stage.RETIRED, Stage.REJECTED})


class UseCaseCategory(models.TextChoices):
    INFORMATION_SYNTHESIS = "information_synthesis", "Information synthesis"
    PATTERN_RECOGNITION = "pattern_recognition", "Pattern recognition"
    HIGH_VOLUME_DECISIONS = "high_volume_decisions", "High-volume decisions"
    GENERATION = "generation", "Generation"
    OTHER = "other", "Other"


class DataSensitivity(models.TextChoices):
    PUBLIC = "public", "Public"
    INTERNAL = "internal", "Internal"
    CONFIDENTIAL = "confidential", "Confidential"
    PERSONAL = "personal", "Personal"
    SPECIAL_CATEGORY = "special_category", "Special-category personal"


class Sourcing(models.TextChoices):
    IN_HOUSE = "in_house", "In-house"
    VENDOR = "vendor", "Vendor"
    BOTH = "both", "Both"


class AIType(models.TextChoices):
    CLASSICAL_ML = "classical_ml", "Classical ML"
    COMPUTER_VISION = "computer_vision", "Computer vision"
    NLP = "nlp", "NLP"
    GENERATIVE = "generative", "Generative AI"
    AGENTIC = "agentic", "Agentic"
    REINFORCEMENT_LEARNING = "reinforcement_learning", "Reinforcement learning"


class AutonomyLevel(models.TextChoices):
    ADVISORY = "advisory", "Advisory"
    HUMAN_IN_THE_LOOP = "human_in_the_loop", "Human in the loop"
    HUMAN_ON_THE_LOOP = "human_on_the_loop", "Human on the loop"
    FULLY_AUTOMATED = "fully_automated", "Fully automated"


class EUAIActRole(models.TextChoices):
    PROVIDER = "provider", "Provider"
    DEPLOYER = "deployer", "Deployer"
    IMPORTER = "importer", "Importer"
    DISTRIBUTOR = "distributor", "Distributor"


class DeploymentStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    PILOT = "pilot", "Pilot"
    PRODUCTION = "production", "Production"
    RETIRED = "retired", "Retired"


# Allowed deployment status changes. Production is reached only through an approved
# ``scale`` gate request for the deployment (``via_gate``).
DEPLOYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    DeploymentStatus.PLANNED: frozenset(
        {DeploymentStatus.PILOT, DeploymentStatus.PRODUCTION, DeploymentStatus.RETIRED}
    ),
    DeploymentStatus.PILOT: frozenset({DeploymentStatus.PRODUCTION, DeploymentStatus.RETIRED}),
    DeploymentStatus.PRODUCTION: frozenset({DeploymentStatus.RETIRED}),
    DeploymentStatus.RETIRED: frozenset(),
}
GATED_DEPLOYMENT_STATUSES = frozenset({DeploymentStatus.PRODUCTION})

# An initiative is adopted by other business units once it runs in production in its own.
ADOPTABLE_STAGES = frozenset({Stage.PRODUCTION, Stage.SCALED})


class Barrier(models.TextChoices):
    """The six barriers to scaling AI across business units."""

    INFRASTRUCTURE = "infrastructure", "Infrastructure fragmentation"
    DATA = "data", "Data fragmentation"
    TECHNICAL_DEBT = "technical_debt", "Technical debt"
    ORGANISATIONAL = "organisational", "Organisational alignment"
    GOVERNANCE = "governance", "Governance & risk"
    CHANGE = "change", "Change management"


class DuplicateStatus(models.TextChoices):
    OPEN = "open", "Possible duplicate"
    RELATED = "related", "Linked as related"
    MERGED = "merged", "Merged"
    DISMISSED = "dismissed", "Dismissed"


# What the CoE may decide about a pair: from-status -> allowed to-statuses. A dismissed or
# merged pair is final; a pair linked as related may still be merged or dismissed.
DUPLICATE_TRANSITIONS: dict[str, frozenset[str]] = {
    DuplicateStatus.OPEN: frozenset(
        {DuplicateStatus.RELATED, DuplicateStatus.MERGED, DuplicateStatus.DISMISSED}
    ),
    DuplicateStatus.RELATED: frozenset({DuplicateStatus.MERGED, DuplicateStatus.DISMISSED}),
    DuplicateStatus.MERGED: frozenset(),
    DuplicateStatus.DISMISSED: frozenset(),
}


class PhaseStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    AT_RISK = "at_risk", "At risk"


class ActivityStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    BLOCKED = "blocked", "Blocked"


class IndicatorDirection(models.TextChoices):
    HIGHER_IS_BETTER = "higher", "Higher is better"
    LOWER_IS_BETTER = "lower", "Lower is better"
