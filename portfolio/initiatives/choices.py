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

# The stages of a *live* initiative, in workflow order: not a draft (not yet proposed), not
# ended (retired or rejected). A merged initiative is retired and points at its survivor
# (``merged_into``), so it is never live either; ``selectors.live_initiatives`` applies both.
# Only live initiatives count for what an initiative imposes on others: a model's effective
# tier, its review cadence and its release gate, the dashboard's risk mix and top risks.
LIVE_STAGES = (Stage.PROPOSED, Stage.PILOT, Stage.PRODUCTION, Stage.SCALED, Stage.PAUSED)


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
