"""The demo organisation's fixed tables: business units, role logins and people, capabilities
and subjects, stage mixes and paths, GPU types, vendors and pools, vendor models and model
families, and the constants (seed, batch size, natural-key formats) the builder works with.

Nothing here touches the database; :mod:`demo.organisation` and its mixins read these tables.
"""

import re
from decimal import Decimal
from typing import NamedTuple

from core.choices import Role
from inventory.gpu.choices import AllocationPurpose, PoolKind, PricingModel, Provider
from inventory.registry.choices import DiligenceStatus, Hosting, ModelType
from portfolio.initiatives.choices import (
    AIType,
    AutonomyLevel,
    DataSensitivity,
    Stage,
    UseCaseCategory,
)

# Demo-only and printed by the command on purpose: every demo account shares it.
DEMO_PASSWORD = "keel-demo-2026"  # noqa: S105
SEED = 2026
BATCH_SIZE = 2000

BASE_INITIATIVES = 120
BASE_ALLOCATIONS = 200
BASE_EXTERNAL_ID = "demo-{:04d}"
SCALE_EXTERNAL_PREFIX = "demo-scale-"
BASE_ALLOCATION_MARKER = "demo-alloc-"
SCALE_ALLOCATION_MARKER = "demo-scale-alloc-"
MARKER_PATTERN = re.compile(r"^\[(demo-(?:scale-)?alloc-)(\d+)\]")

# ---------------------------------------------------------------------------------------------
# The organisation
# ---------------------------------------------------------------------------------------------

# (code, name, cost centre, parent code)
BUSINESS_UNITS = (
    ("RETAIL", "Retail Banking", "CC-1100", None),
    ("COMM", "Commercial Banking", "CC-1200", None),
    ("INSURE", "Insurance", "CC-1300", None),
    ("WEALTH", "Wealth Management", "CC-1400", None),
    ("OPS", "Operations", "CC-2100", None),
    ("RISK", "Risk & Compliance", "CC-3100", None),
    ("TECH", "Technology", "CC-4100", None),
    ("COE", "AI Centre of Excellence", "CC-4200", "TECH"),
)
# How many initiatives each unit owns, relatively.
UNIT_WEIGHTS = {
    "RETAIL": 20,
    "COMM": 12,
    "INSURE": 18,
    "WEALTH": 9,
    "OPS": 14,
    "RISK": 12,
    "TECH": 9,
    "COE": 6,
}


class Login(NamedTuple):
    username: str
    first_name: str
    last_name: str
    role: str
    unit: str


# One login per role, as printed at the end of the command, and a second CoE reviewer (so
# one can cover for the other; ``demo.approvals.seed_demo_delegation``).
ROLE_LOGINS = (
    Login("member", "Maya", "Patel", Role.BU_MEMBER, "RETAIL"),
    Login("lead", "Liam", "O'Connor", Role.BU_LEAD, "RETAIL"),
    Login("insurer", "Ines", "Moreau", Role.BU_MEMBER, "INSURE"),
    Login("reviewer", "Ravi", "Shah", Role.COE_REVIEWER, "COE"),
    Login("reviewer2", "Rosa", "Alvarez", Role.COE_REVIEWER, "COE"),
    Login("coeadmin", "Chloe", "Adams", Role.COE_ADMIN, "COE"),
    Login("risk", "Rachel", "Kim", Role.RISK_OFFICER, "RISK"),
    Login("platform", "Pavel", "Novak", Role.PLATFORM_ENGINEER, "TECH"),
    Login("exec", "Evelyn", "Carter", Role.EXECUTIVE, "COE"),
    Login("admin", "Adam", "Brooks", Role.ADMIN, "COE"),
)

# Named owners per unit; the first of each unit (except RETAIL, led by ``lead``) is its
# BU lead and head.
PEOPLE = {
    "RETAIL": ("Sofia Rossi", "Daniel Mensah", "Hannah Weber", "Omar Haddad"),
    "COMM": ("Grace Liu", "Tomasz Kowalski", "Aisha Bello", "Jonas Berg"),
    "INSURE": ("Fiona Walsh", "Mateo Garcia", "Priya Nair", "Lukas Fischer"),
    "WEALTH": ("Charlotte Dubois", "Kenji Tanaka", "Zara Ahmed", "Oliver Hughes"),
    "OPS": ("Nadia Petrova", "Samuel Osei", "Emma Lindqvist", "Carlos Mendes"),
    "RISK": ("Victoria Hale", "Arjun Mehta", "Leah Cohen", "Felix Wagner"),
    "TECH": ("Marcus Reid", "Yuki Sato", "Elena Popescu", "Ben Clarke"),
    "COE": ("Isabel Ortiz", "Noah Fraser", "Amara Eze", "Henrik Larsen"),
}

# Extra owners for ``--scale`` organisations.
# fmt: off
FIRST_NAMES = (
    "Alex", "Amelia", "Ana", "Anton", "Bea", "Boris", "Cara", "Dev", "Dina", "Eli", "Eva",
    "Farah", "Finn", "Gia", "Hugo", "Ida", "Ivan", "Jade", "Jon", "Kai", "Kira", "Lars", "Lina",
    "Luca", "Mara", "Milo", "Nia", "Nils", "Olga", "Owen", "Pia", "Raj", "Rosa", "Sami", "Tara",
    "Theo", "Uma", "Vera", "Wen", "Yara",
)
LAST_NAMES = (
    "Abbott", "Alvarez", "Baker", "Banda", "Chen", "Costa", "Das", "Dunn", "Evans", "Falk",
    "Ford", "Gill", "Grant", "Hart", "Ito", "Jensen", "Joshi", "Khan", "Lam", "Lopez", "Maier",
    "Mbeki", "Moss", "Ng", "Novak", "Okoro", "Park", "Quinn", "Roy", "Sato", "Silva", "Stone",
    "Tan", "Ueda", "Vidal", "Wolfe", "Xu", "Young", "Zhou", "Zorn",
)
# fmt: on


# ---------------------------------------------------------------------------------------------
# What initiatives are about
# ---------------------------------------------------------------------------------------------


class Capability(NamedTuple):
    label: str
    category: str
    ai_types: tuple[str, ...]
    autonomy: tuple[str, ...]
    purpose: str
    outputs: str


CAPABILITIES = {
    "extraction": Capability(
        "extraction",
        UseCaseCategory.INFORMATION_SYNTHESIS,
        (AIType.NLP, AIType.COMPUTER_VISION, AIType.GENERATIVE),
        (AutonomyLevel.HUMAN_IN_THE_LOOP, AutonomyLevel.HUMAN_ON_THE_LOOP),
        "Extract the key fields from {obj} so that {team} stop re-keying them, cutting "
        "handling time by about {pct}%.",
        "Structured fields extracted from {obj}, each with a confidence score; fields below "
        "the threshold are routed to a person.",
    ),
    "classification": Capability(
        "classification",
        UseCaseCategory.HIGH_VOLUME_DECISIONS,
        (AIType.NLP, AIType.CLASSICAL_ML),
        (
            AutonomyLevel.HUMAN_ON_THE_LOOP,
            AutonomyLevel.HUMAN_IN_THE_LOOP,
            AutonomyLevel.FULLY_AUTOMATED,
        ),
        "Classify {obj} as they arrive so that they reach the right queue first time; "
        "{team} expect {pct}% fewer hand-offs.",
        "A category and a confidence for each item; low-confidence items go to manual review.",
    ),
    "summarisation": Capability(
        "summarisation",
        UseCaseCategory.INFORMATION_SYNTHESIS,
        (AIType.GENERATIVE,),
        (AutonomyLevel.ADVISORY, AutonomyLevel.HUMAN_IN_THE_LOOP),
        "Summarise {obj} so that {team} read one page instead of the whole file, saving "
        "about {pct}% of review time.",
        "A draft summary of {obj} with citations to the source passages, checked by a "
        "person before use.",
    ),
    "triage": Capability(
        "triage assistant",
        UseCaseCategory.HIGH_VOLUME_DECISIONS,
        (AIType.GENERATIVE, AIType.NLP, AIType.CLASSICAL_ML),
        (AutonomyLevel.HUMAN_IN_THE_LOOP, AutonomyLevel.ADVISORY),
        "Prioritise {obj} by urgency and complexity so that {team} handle the critical ones "
        "first; target {pct}% faster first response.",
        "A priority, a suggested queue and a one-line rationale for each of the {obj}.",
    ),
    "detection": Capability(
        "pattern detection",
        UseCaseCategory.PATTERN_RECOGNITION,
        (AIType.CLASSICAL_ML,),
        (AutonomyLevel.HUMAN_IN_THE_LOOP, AutonomyLevel.HUMAN_ON_THE_LOOP),
        "Detect suspicious patterns in {obj} earlier and with fewer false positives; "
        "{team} expect {pct}% fewer false alerts.",
        "A risk score with its top contributing factors for each case; scores above the "
        "threshold open a case for {team}.",
    ),
    "anomaly": Capability(
        "anomaly detection",
        UseCaseCategory.PATTERN_RECOGNITION,
        (AIType.CLASSICAL_ML,),
        (AutonomyLevel.ADVISORY, AutonomyLevel.HUMAN_ON_THE_LOOP),
        "Spot unusual behaviour in {obj} within minutes rather than at month end, so that "
        "{team} fix issues before they grow; target {pct}% less manual checking.",
        "Anomaly alerts with the expected and observed values and a severity.",
    ),
    "forecasting": Capability(
        "forecasting",
        UseCaseCategory.PATTERN_RECOGNITION,
        (AIType.CLASSICAL_ML,),
        (AutonomyLevel.ADVISORY,),
        "Forecast {obj} weeks ahead so that {team} plan with confidence; target {pct}% "
        "lower forecast error than the spreadsheet baseline.",
        "Weekly forecasts with prediction intervals, refreshed nightly.",
    ),
    "scoring": Capability(
        "scoring model",
        UseCaseCategory.HIGH_VOLUME_DECISIONS,
        (AIType.CLASSICAL_ML,),
        (
            AutonomyLevel.HUMAN_IN_THE_LOOP,
            AutonomyLevel.HUMAN_ON_THE_LOOP,
            AutonomyLevel.FULLY_AUTOMATED,
        ),
        "Score {obj} consistently so that {team} decide straightforward cases in minutes; "
        "target {pct}% of cases decided on the first pass.",
        "A score, a recommended decision and reason codes for each application.",
    ),
    "copilot": Capability(
        "copilot",
        UseCaseCategory.GENERATION,
        (AIType.GENERATIVE,),
        (AutonomyLevel.ADVISORY, AutonomyLevel.HUMAN_IN_THE_LOOP),
        "Draft first versions of {obj} for {team} to edit, freeing about {pct}% of their "
        "writing time.",
        "Draft text grounded in approved sources; nothing is sent without a person's review.",
    ),
    "qa": Capability(
        "Q&A assistant",
        UseCaseCategory.INFORMATION_SYNTHESIS,
        (AIType.GENERATIVE,),
        (AutonomyLevel.ADVISORY,),
        "Answer questions about {obj} in seconds with sources, so that {team} stop searching "
        "several systems; target {pct}% fewer escalations.",
        "Answers with links to the source documents, or a referral when unsure.",
    ),
    "agent": Capability(
        "resolution agent",
        UseCaseCategory.HIGH_VOLUME_DECISIONS,
        (AIType.AGENTIC,),
        (AutonomyLevel.HUMAN_ON_THE_LOOP, AutonomyLevel.HUMAN_IN_THE_LOOP),
        "Resolve routine {obj} end to end through approved tools, leaving {team} the complex "
        "ones; target {pct}% of volume resolved without hand-off.",
        "Actions taken in the case system with a full trace; unusual cases are handed to {team}.",
    ),
    "damage": Capability(
        "damage assessment",
        UseCaseCategory.PATTERN_RECOGNITION,
        (AIType.COMPUTER_VISION,),
        (AutonomyLevel.HUMAN_IN_THE_LOOP,),
        "Estimate damage from {obj} so that {team} settle simple claims the same day; target "
        "{pct}% faster settlement.",
        "Damaged parts, a severity and a repair-cost band for each photo set.",
    ),
    "verification": Capability(
        "verification",
        UseCaseCategory.PATTERN_RECOGNITION,
        (AIType.COMPUTER_VISION,),
        (AutonomyLevel.HUMAN_IN_THE_LOOP, AutonomyLevel.HUMAN_ON_THE_LOOP),
        "Check {obj} for tampering and mismatches automatically so that {team} review only "
        "doubtful ones; target {pct}% fewer manual checks.",
        "A pass, fail or refer outcome with the checks that failed.",
    ),
    "nba": Capability(
        "next-best-action",
        UseCaseCategory.HIGH_VOLUME_DECISIONS,
        (AIType.REINFORCEMENT_LEARNING, AIType.CLASSICAL_ML),
        (AutonomyLevel.ADVISORY,),
        "Suggest the next best action for {obj} so that {team} have better-timed "
        "conversations; target {pct}% higher retention.",
        "A ranked list of suggested actions with the expected uplift of each.",
    ),
}


class Subject(NamedTuple):
    name: str
    obj: str
    team: str
    capabilities: tuple[str, ...]


# (subject, what it works on, who uses it, capabilities); titles read "<subject> <capability>".
# fmt: off
SUBJECTS = {
    code: tuple(Subject(name, obj, team, tuple(caps.split())) for name, obj, team, caps in rows)
    for code, rows in {
        "RETAIL": (
            ("Mortgage document", "mortgage application documents", "mortgage underwriters",
             "extraction classification summarisation"),
            ("Customer complaint", "customer complaints", "the complaints team",
             "triage summarisation classification"),
            ("Card dispute", "card disputes", "the disputes team", "triage agent classification"),
            ("Current account churn", "current-account customers", "relationship managers",
             "forecasting nba"),
            ("KYC document", "identity documents", "onboarding analysts",
             "verification extraction"),
            ("Personal loan", "personal-loan applications", "credit officers", "scoring"),
            ("Card fraud", "card payments", "the cards fraud team", "detection anomaly"),
            ("Mobile app", "mobile-app chats", "digital support agents", "qa agent"),
            ("Branch appointment", "branch appointment demand", "branch managers",
             "forecasting"),
        ),
        "COMM": (
            ("Trade finance document", "trade-finance documents", "trade operations",
             "extraction classification"),
            ("SME credit memo", "SME credit memos", "credit analysts", "copilot summarisation"),
            ("Cash-flow", "client cash-flow positions", "treasury advisers", "forecasting"),
            ("Covenant", "loan covenants", "portfolio managers", "extraction anomaly"),
            ("Commercial lending", "commercial loan applications", "relationship managers",
             "scoring qa"),
            ("Corporate payment", "corporate payments", "payments operations",
             "anomaly detection"),
        ),
        "INSURE": (
            ("Claims", "incoming claims", "claims handlers", "triage summarisation"),
            ("Motor claims", "photos of damaged vehicles", "motor assessors", "damage"),
            ("Property claims", "property-claim photos and reports", "property assessors",
             "damage triage"),
            ("Underwriting submission", "broker underwriting submissions", "underwriters",
             "extraction triage summarisation"),
            ("Fraudulent claim", "claims", "the counter-fraud unit", "detection scoring"),
            ("Policy wording", "policy wordings", "product teams", "qa copilot"),
            ("Customer complaint", "policyholder complaints", "the complaints team",
             "summarisation classification"),
            ("Broker email", "broker emails", "the broker desk", "triage classification"),
        ),
        "WEALTH": (
            ("Portfolio rebalancing", "client portfolios", "investment managers",
             "nba forecasting"),
            ("Client suitability", "suitability reports", "advisers", "copilot classification"),
            ("Investment research", "research reports", "investment analysts",
             "summarisation qa"),
            ("Adviser meeting notes", "adviser meeting transcripts", "financial advisers",
             "summarisation copilot"),
            ("Client attrition", "wealth clients", "private bankers", "forecasting nba"),
        ),
        "OPS": (
            ("Payment exception", "payment exceptions", "payment operations",
             "triage agent classification"),
            ("Mailroom document", "inbound post and scans", "the mailroom",
             "classification extraction"),
            ("Contact-centre call", "contact-centre calls", "contact-centre agents",
             "summarisation qa"),
            ("Reconciliation break", "reconciliation breaks", "reconciliation analysts",
             "anomaly agent"),
            ("Supplier invoice", "supplier invoices", "accounts payable", "extraction"),
            ("Workforce demand", "contact-centre demand", "workforce planners", "forecasting"),
        ),
        "RISK": (
            ("Fraud", "card and payment transactions", "fraud analysts", "detection scoring"),
            ("Card fraud", "card transactions", "fraud analysts", "anomaly"),
            ("AML transaction", "customer transactions", "the financial-crime unit",
             "detection triage"),
            ("Sanctions screening", "sanctions alerts", "screening analysts",
             "triage classification"),
            ("Credit risk", "borrower early-warning signals", "credit risk officers",
             "forecasting scoring"),
            ("Regulatory change", "regulatory publications", "compliance officers",
             "summarisation qa"),
            ("Model risk documentation", "model documentation", "model validators", "copilot"),
        ),
        "TECH": (
            ("Incident ticket", "IT incident tickets", "the service desk",
             "triage summarisation classification"),
            ("Code review", "pull requests", "software engineers", "copilot agent"),
            ("Log", "application and infrastructure logs", "site reliability engineers",
             "anomaly"),
            ("Legacy COBOL code", "COBOL programs", "mainframe engineers",
             "summarisation copilot"),
            ("Cloud cost", "cloud spend", "FinOps analysts", "forecasting anomaly"),
            ("IT service desk", "employee IT requests", "service-desk agents", "agent qa"),
        ),
        "COE": (
            ("Enterprise knowledge", "policies, procedures and product documents",
             "staff across the bank", "qa"),
            ("Enterprise document", "scanned documents from every business unit",
             "operations teams", "extraction classification"),
            ("Meeting", "internal meetings", "staff across the bank", "summarisation"),
            ("Model output", "production model outputs", "model owners", "anomaly"),
            ("Prompt-injection", "prompts sent to internal assistants", "the CoE",
             "classification"),
            ("Customer letter translation", "customer letters", "operations teams", "copilot"),
        ),
    }.items()
}
# fmt: on

PROBLEMS = (
    "{Team} handle {obj} largely by hand. Volumes grew {growth}% last year and backlogs now "
    "breach service levels.",
    "Handling {obj} takes {team} hours of repetitive work, and quality varies between teams "
    "and sites.",
    "{Team} cannot keep up with {obj}; cases wait days and customers complain about delays.",
    "Knowledge about {obj} sits in several systems and a few experts' heads, so {team} spend "
    "much of their day searching.",
)

# (stakeholders, data sensitivities to draw from, jurisdictions to draw from)
UNIT_PROFILES = {
    "RETAIL": (
        "Retail customers; branch and contact-centre staff",
        (DataSensitivity.PERSONAL,) * 5
        + (DataSensitivity.CONFIDENTIAL,) * 2
        + (DataSensitivity.SPECIAL_CATEGORY,),
        ("UK", "UK, EU", "UK, Ireland"),
    ),
    "COMM": (
        "Business clients; relationship managers",
        (DataSensitivity.CONFIDENTIAL,) * 4 + (DataSensitivity.PERSONAL,) * 2,
        ("UK", "UK, EU", "UK, EU, US"),
    ),
    "INSURE": (
        "Policyholders and claimants; brokers; claims handlers",
        (DataSensitivity.PERSONAL,) * 4
        + (DataSensitivity.SPECIAL_CATEGORY,) * 2
        + (DataSensitivity.CONFIDENTIAL,),
        ("UK", "UK, EU", "EU"),
    ),
    "WEALTH": (
        "Private clients; financial advisers",
        (DataSensitivity.PERSONAL,) * 3 + (DataSensitivity.CONFIDENTIAL,) * 3,
        ("UK", "UK, EU", "UK, Switzerland"),
    ),
    "OPS": (
        "Operations staff; customers whose cases are processed",
        (DataSensitivity.CONFIDENTIAL,) * 3
        + (DataSensitivity.PERSONAL,) * 3
        + (DataSensitivity.INTERNAL,) * 2,
        ("UK", "UK, EU", "UK, India"),
    ),
    "RISK": (
        "Customers subject to monitoring; risk and compliance staff",
        (DataSensitivity.PERSONAL,) * 3 + (DataSensitivity.CONFIDENTIAL,) * 3,
        ("UK, EU", "UK, EU, US", "UK"),
    ),
    "TECH": (
        "Employees; engineering teams",
        (DataSensitivity.INTERNAL,) * 4 + (DataSensitivity.CONFIDENTIAL,) * 2,
        ("UK", "UK, EU", "UK, India"),
    ),
    "COE": (
        "All employees; business units adopting shared AI services",
        (DataSensitivity.INTERNAL,) * 3
        + (DataSensitivity.CONFIDENTIAL,) * 2
        + (DataSensitivity.PUBLIC,),
        ("UK, EU", "UK, EU, US", "UK"),
    ),
}

SCALE_QUALIFIERS = (
    "(UK)",
    "(EU)",
    "(US)",
    "(Ireland)",
    "– phase 2",
    "v2",
    "for high-volume teams",
    "(North region pilot)",
)

# Stage mix of the 120 base initiatives (sums to BASE_INITIATIVES) and weights for --scale.
BASE_STAGE_MIX = {
    Stage.DRAFT: 12,
    Stage.PROPOSED: 14,
    Stage.PILOT: 28,
    Stage.PRODUCTION: 24,
    Stage.SCALED: 12,
    Stage.PAUSED: 8,
    Stage.RETIRED: 12,
    Stage.REJECTED: 10,
}

# Every path follows STAGE_TRANSITIONS; the tests check it on the seeded history.
PATHS = {
    Stage.DRAFT: ((Stage.DRAFT,),),
    Stage.PROPOSED: ((Stage.DRAFT, Stage.PROPOSED),),
    Stage.PILOT: ((Stage.DRAFT, Stage.PROPOSED, Stage.PILOT),),
    Stage.PRODUCTION: ((Stage.DRAFT, Stage.PROPOSED, Stage.PILOT, Stage.PRODUCTION),),
    Stage.SCALED: ((Stage.DRAFT, Stage.PROPOSED, Stage.PILOT, Stage.PRODUCTION, Stage.SCALED),),
    Stage.PAUSED: (
        (Stage.DRAFT, Stage.PROPOSED, Stage.PAUSED),
        (Stage.DRAFT, Stage.PROPOSED, Stage.PILOT, Stage.PAUSED),
        (Stage.DRAFT, Stage.PROPOSED, Stage.PILOT, Stage.PRODUCTION, Stage.PAUSED),
    ),
    Stage.RETIRED: (
        (Stage.DRAFT, Stage.RETIRED),
        (Stage.DRAFT, Stage.PROPOSED, Stage.RETIRED),
        (Stage.DRAFT, Stage.PROPOSED, Stage.PILOT, Stage.RETIRED),
        (Stage.DRAFT, Stage.PROPOSED, Stage.PILOT, Stage.PRODUCTION, Stage.RETIRED),
        (
            Stage.DRAFT,
            Stage.PROPOSED,
            Stage.PILOT,
            Stage.PRODUCTION,
            Stage.SCALED,
            Stage.RETIRED,
        ),
    ),
    Stage.REJECTED: (
        (Stage.DRAFT, Stage.PROPOSED, Stage.REJECTED),
        (Stage.DRAFT, Stage.PROPOSED, Stage.PILOT, Stage.REJECTED),
    ),
}
# Age in days (range) of an initiative at each stage.
AGE_DAYS = {
    Stage.DRAFT: (3, 150),
    Stage.PROPOSED: (14, 240),
    Stage.PILOT: (60, 600),
    Stage.PRODUCTION: (150, 900),
    Stage.SCALED: (300, 1100),
    Stage.PAUSED: (90, 800),
    Stage.RETIRED: (150, 1100),
    Stage.REJECTED: (30, 600),
}
STAGE_REASONS = {
    Stage.PAUSED: (
        "Paused until the data-sharing agreement with the data owner is signed.",
        "Budget re-prioritised to the next planning cycle.",
        "Vendor contract under renegotiation.",
        "Waiting for the platform team's GPU capacity.",
    ),
    Stage.RETIRED: (
        "Superseded by the shared enterprise assistant.",
        "Benefits did not materialise at the expected scale.",
        "Vendor product discontinued.",
        "Process redesigned; the use case no longer exists.",
    ),
    Stage.REJECTED: (
        "Outside risk appetite: fully automated decisions on customers are not allowed here.",
        "Training data quality insufficient for the intended use.",
        "Duplicates an initiative already in production in another business unit.",
        "Business case does not cover the run cost.",
    ),
}
GATE_NAMES = {Stage.PILOT: "pilot", Stage.PRODUCTION: "production", Stage.SCALED: "scale"}

# ---------------------------------------------------------------------------------------------
# Inventory reference data
# ---------------------------------------------------------------------------------------------

# (vendor, name, memory GB, reference hourly price USD)
GPU_TYPES = (
    ("NVIDIA", "H100 80GB", 80, "4.2000"),
    ("NVIDIA", "H200 141GB", 141, "5.5000"),
    ("NVIDIA", "A100 80GB", 80, "3.6700"),
    ("NVIDIA", "A100 40GB", 40, "2.9300"),
    ("NVIDIA", "L40S", 48, "1.9600"),
    ("NVIDIA", "L4", 24, "0.8000"),
    ("NVIDIA", "T4", 16, "0.5300"),
    ("AMD", "MI300X", 192, "4.8900"),
)

# (name, website, description, due-diligence status, days since it was completed or None):
# most vendors passed due diligence; Meta's is in progress and Mistral AI's (newly tried in
# pilots) has not started, so VEN-01 fails (or is waived) where their models serve.
# fmt: off
VENDORS = (
    ("OpenAI", "https://openai.com", "GPT models through Azure OpenAI and the OpenAI API.",
     DiligenceStatus.APPROVED, 210),
    ("Anthropic", "https://www.anthropic.com", "Claude models through Amazon Bedrock.",
     DiligenceStatus.APPROVED, 150),
    ("Google", "https://cloud.google.com/vertex-ai", "Gemini and Document AI on Vertex AI.",
     DiligenceStatus.CONDITIONAL, 120),
    ("Mistral AI", "https://mistral.ai", "Mistral models, API and open weights.",
     DiligenceStatus.NOT_STARTED, None),
    ("Cohere", "https://cohere.com", "Command and Rerank models for enterprise search.",
     DiligenceStatus.APPROVED, 300),
    ("AWS", "https://aws.amazon.com/bedrock", "Amazon Titan and Textract.",
     DiligenceStatus.APPROVED, 260),
    ("Meta", "https://llama.meta.com", "Llama open-weight models, hosted in-house.",
     DiligenceStatus.IN_PROGRESS, None),
)
# fmt: on


class PoolSpec(NamedTuple):
    name: str
    kind: str
    provider: str
    region: str
    account: str
    cluster: str
    gpu_type: str
    gpu_count: int
    pricing_model: str
    hourly_rate: str
    owning_team: str


# fmt: off
POOLS = tuple(PoolSpec(*row) for row in (
    ("aws-prod-inference-h100", PoolKind.CLOUD_ACCOUNT, Provider.AWS, "us-east-1",
     "keel-prod-ml", "", "H100 80GB", 32, PricingModel.RESERVED, "2.6000", "ML Platform"),
    ("aws-genai-eks-l40s", PoolKind.KUBERNETES, Provider.AWS, "eu-west-1", "keel-genai",
     "eks-genai", "L40S", 48, PricingModel.ON_DEMAND, "1.9600", "GenAI Platform"),
    ("aws-batch-t4-spot", PoolKind.CLOUD_ACCOUNT, Provider.AWS, "eu-west-2", "keel-sandbox",
     "", "T4", 64, PricingModel.SPOT, "0.2100", "ML Platform"),
    ("gcp-vertex-train-a100-80", PoolKind.CLOUD_ACCOUNT, Provider.GCP, "europe-west4",
     "keel-ml-train", "", "A100 80GB", 48, PricingModel.ON_DEMAND, "3.9300", "ML Platform"),
    ("gcp-gke-serving-l4", PoolKind.KUBERNETES, Provider.GCP, "europe-west2", "keel-serving",
     "gke-serving-1", "L4", 64, PricingModel.RESERVED, "0.5600", "ML Platform"),
    ("azure-ml-a100-40", PoolKind.CLOUD_ACCOUNT, Provider.AZURE, "uksouth", "sub-keel-ml-prod",
     "", "A100 40GB", 32, PricingModel.RESERVED, "2.2000", "Data Science Enablement"),
    ("azure-aks-h100", PoolKind.KUBERNETES, Provider.AZURE, "swedencentral", "sub-keel-genai",
     "aks-genai-h100", "H100 80GB", 16, PricingModel.ON_DEMAND, "6.9800", "GenAI Platform"),
    ("onprem-dc1-slurm-a100", PoolKind.SLURM, Provider.ON_PREM, "London DC1", "", "hpc-dc1",
     "A100 80GB", 128, PricingModel.OWNED, "1.2000", "HPC Services"),
    ("onprem-dc2-h100-cluster", PoolKind.ON_PREM_CLUSTER, Provider.ON_PREM, "Manchester DC2",
     "", "dc2-gpu-01", "H100 80GB", 96, PricingModel.OWNED, "1.8000", "HPC Services"),
    ("onprem-dc1-mi300x-eval", PoolKind.ON_PREM_CLUSTER, Provider.ON_PREM, "London DC1", "",
     "dc1-amd-eval", "MI300X", 16, PricingModel.OWNED, "2.1000", "HPC Services"),
))
# fmt: on
# Which GPU types suit which purpose, best first.
PURPOSE_GPUS = {
    AllocationPurpose.TRAINING: ("A100 80GB", "H100 80GB", "MI300X", "H200 141GB"),
    AllocationPurpose.FINE_TUNING: ("A100 80GB", "H100 80GB", "A100 40GB", "L40S", "MI300X"),
    AllocationPurpose.INFERENCE: ("L4", "L40S", "H100 80GB", "A100 40GB", "T4"),
    AllocationPurpose.EXPERIMENTATION: ("T4", "L4", "A100 40GB", "MI300X", "L40S"),
}
PURPOSE_SHAPES = {
    # (GPU counts to draw from, duration range in days, share left open-ended)
    AllocationPurpose.TRAINING: (("4", "8", "8", "16"), (7, 90), 0.0),
    AllocationPurpose.FINE_TUNING: (("1", "2", "4", "8"), (7, 45), 0.0),
    AllocationPurpose.INFERENCE: (("0.5", "1", "1", "2", "2", "4"), (60, 365), 0.45),
    AllocationPurpose.EXPERIMENTATION: (("0.25", "0.5", "1", "1", "2"), (14, 120), 0.1),
}
# Which initiatives get GPUs, by stage (relative weights).
ALLOCATION_STAGE_WEIGHTS = {
    Stage.PILOT: 30,
    Stage.PRODUCTION: 25,
    Stage.SCALED: 15,
    Stage.PAUSED: 6,
    Stage.PROPOSED: 4,
    Stage.DRAFT: 2,
    Stage.RETIRED: 10,
    Stage.REJECTED: 5,
}
ORPHAN_NOTES = (
    "Shared data-science sandbox; no initiative recorded.",
    "Left over from the 2025 GenAI hackathon.",
    "Benchmarking capacity requested by a team that has since moved on.",
    "Reserved for a proof of concept that was never registered.",
)
PRICING_FACTORS = {
    PricingModel.ON_DEMAND: Decimal("1.00"),
    PricingModel.RESERVED: Decimal("0.62"),
    PricingModel.SPOT: Decimal("0.35"),
    PricingModel.OWNED: Decimal("0.30"),
}


class VendorModel(NamedTuple):
    vendor: str
    name: str
    model_type: str
    licence: str
    hosting: str
    serves: tuple[str, ...]  # AI types it is linked to


_API = "Proprietary (API terms)"
_TEXT, _AGENT = (AIType.GENERATIVE,), (AIType.GENERATIVE, AIType.AGENTIC)
_DOCS = (AIType.NLP, AIType.COMPUTER_VISION)
# fmt: off
VENDOR_MODELS = tuple(VendorModel(*row) for row in (
    ("OpenAI", "GPT-4o", ModelType.VENDOR_API, _API, Hosting.VENDOR, _AGENT),
    ("OpenAI", "GPT-4o mini", ModelType.VENDOR_API, _API, Hosting.VENDOR, _TEXT),
    ("OpenAI", "text-embedding-3-large", ModelType.VENDOR_API, _API, Hosting.VENDOR,
     (AIType.GENERATIVE, AIType.NLP)),
    ("Anthropic", "Claude 3.5 Sonnet", ModelType.VENDOR_API, _API, Hosting.VENDOR, _AGENT),
    ("Anthropic", "Claude 3 Haiku", ModelType.VENDOR_API, _API, Hosting.VENDOR, _TEXT),
    ("Google", "Gemini 1.5 Pro", ModelType.VENDOR_API, _API, Hosting.VENDOR, _TEXT),
    ("Google", "Document AI Form Parser", ModelType.VENDOR_API, _API, Hosting.VENDOR, _DOCS),
    ("Mistral AI", "Mistral Large 2", ModelType.VENDOR_API, "Mistral Research Licence",
     Hosting.VENDOR, _TEXT),
    ("Mistral AI", "Mixtral 8x7B Instruct", ModelType.FOUNDATION, "Apache-2.0",
     Hosting.ON_PREM, _TEXT),
    ("Cohere", "Command R+", ModelType.VENDOR_API, _API, Hosting.VENDOR, _AGENT),
    ("Cohere", "Rerank 3", ModelType.VENDOR_API, _API, Hosting.VENDOR, _TEXT),
    ("AWS", "Amazon Textract", ModelType.VENDOR_API, _API, Hosting.VENDOR, _DOCS),
    ("AWS", "Amazon Titan Text Embeddings V2", ModelType.VENDOR_API, _API, Hosting.VENDOR,
     _TEXT),
    ("Meta", "Llama 3.1 70B Instruct", ModelType.FOUNDATION, "Llama 3.1 Community Licence",
     Hosting.CLOUD, _AGENT),
))
# fmt: on
BASE_IN_HOUSE_MODELS = 26
# Model families for in-house models by AI type: (family, model type, licence)
FAMILIES = {
    AIType.CLASSICAL_ML: (
        ("xgboost", ModelType.CLASSICAL_ML, "Internal"),
        ("lightgbm", ModelType.CLASSICAL_ML, "Internal"),
        ("logreg", ModelType.CLASSICAL_ML, "Internal"),
        ("random-forest", ModelType.CLASSICAL_ML, "Internal"),
    ),
    AIType.COMPUTER_VISION: (
        ("efficientnet", ModelType.DEEP_LEARNING, "Apache-2.0"),
        ("yolov8", ModelType.DEEP_LEARNING, "AGPL-3.0 (enterprise licence)"),
        ("vit", ModelType.DEEP_LEARNING, "Apache-2.0"),
    ),
    AIType.NLP: (
        ("deberta-v3", ModelType.DEEP_LEARNING, "MIT"),
        ("distilbert", ModelType.DEEP_LEARNING, "Apache-2.0"),
        ("layoutlmv3", ModelType.DEEP_LEARNING, "CC BY-NC-SA 4.0 (research only)"),
    ),
    AIType.GENERATIVE: (
        ("llama-3.1-8b-ft", ModelType.FOUNDATION, "Llama 3.1 Community Licence"),
        ("mistral-7b-ft", ModelType.FOUNDATION, "Apache-2.0"),
    ),
    AIType.AGENTIC: (("agent-llama-3.1-70b", ModelType.FOUNDATION, "Llama 3.1 Community Licence"),),
    AIType.REINFORCEMENT_LEARNING: (("contextual-bandit", ModelType.CLASSICAL_ML, "Internal"),),
}
STAGE_RANK = {
    Stage.DRAFT: 0,
    Stage.PROPOSED: 1,
    Stage.REJECTED: 1,
    Stage.PILOT: 2,
    Stage.PAUSED: 2,
    Stage.RETIRED: 2,
    Stage.PRODUCTION: 3,
    Stage.SCALED: 4,
}


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------

# Rows found by a natural key; the others are only ever created with a new parent.
KEYED_ROWS = (
    "business_units",
    "users",
    "memberships",
    "vendors",
    "gpu_types",
    "gpu_pools",
    "initiatives",
    "ai_models",
    "gpu_allocations",
)
REPORT_ROWS = (
    ("business_units", "business units"),
    ("users", "users"),
    ("memberships", "memberships"),
    ("vendors", "vendors"),
    ("gpu_types", "GPU types"),
    ("gpu_pools", "GPU pools"),
    ("initiatives", "initiatives"),
    ("stage_changes", "stage changes"),
    ("deployments", "deployments"),
    ("ai_models", "AI models"),
    ("model_versions", "model versions"),
    ("model_links", "model–initiative links"),
    ("gpu_allocations", "GPU allocations"),
    ("risk_assessments", "risk assessments"),
    ("overrides", "tier overrides"),
    ("approval_requests", "approval requests"),
    ("approval_decisions", "approval decisions"),
    ("delegations", "delegations"),
    ("roadmap_phases", "roadmap phases"),
    ("roadmap_activities", "roadmap activities"),
    ("barrier_assessments", "barrier assessments"),
)
