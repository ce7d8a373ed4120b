"""The demo organisation behind ``manage.py seed_demo``, and large ones for benchmarks.

Contract of :func:`seed_demo`:

* Deterministic. Every choice comes from ``random.Random`` streams with fixed seeds, so two
  databases seeded on the same day hold the same organisation. Dates are offsets from the day
  of seeding so that the demo always looks current (allocations running, reviews falling due).
* Idempotent. Every row has a natural key: a business unit's code, a username, a vendor's,
  GPU type's or pool's name, an initiative's ``external_id`` (``demo-0001``,
  ``demo-scale-000001``), a model's (business unit, name) and a marker opening an allocation's
  notes (``[demo-alloc-0001]``). A run builds the whole plan, then inserts only the rows whose
  key is missing; children (stage history, deployments, versions, model links) are created
  only with their new parent. A second run creates nothing.
* Consistent. Stage histories follow ``STAGE_TRANSITIONS``; dates satisfy the check
  constraints (production on or after pilot start, retirement on or after initiation, an
  allocation ends on or after it starts); no pool is over-committed in the sense of
  ``inventory.services._check_capacity``.
* Fast. Rows go in with ``bulk_create`` in batches of 2,000, all in one transaction.
* Audited once. Bulk seeding is a system write: one ``demo.seeded`` audit event carries the
  counts (none when the run created nothing). References come from the ``initiative``
  sequence, reserved as one block, so initiatives registered later continue the numbering.
"""

import math
import random
import re
import time as clock
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import DateTimeField
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.text import slugify

from core.audit import record_event
from core.choices import Role
from core.models import BusinessUnit, Membership
from core.services import sequence_next
from inventory.catalogue import seed_catalogue
from inventory.choices import (
    AllocationPurpose,
    Hosting,
    ModelStatus,
    ModelType,
    MonitoringStatus,
    PoolKind,
    PricingModel,
    Provider,
)
from inventory.models import AIModel, GPUAllocation, GPUPool, GPUType, ModelVersion, Vendor
from portfolio.choices import (
    AIType,
    AutonomyLevel,
    DataSensitivity,
    DeploymentStatus,
    EUAIActRole,
    Sourcing,
    Stage,
    UseCaseCategory,
)
from portfolio.models import Deployment, Initiative, StageChange, format_reference
from portfolio.services import REFERENCE_SEQUENCE

from .demo_approvals import seed_demo_approvals
from .demo_finops import seed_finops
from .demo_risk import seed_risk_assessments
from .demo_roadmap import seed_roadmap_and_barriers

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


# One login per role, as printed at the end of the command.
ROLE_LOGINS = (
    Login("member", "Maya", "Patel", Role.BU_MEMBER, "RETAIL"),
    Login("lead", "Liam", "O'Connor", Role.BU_LEAD, "RETAIL"),
    Login("insurer", "Ines", "Moreau", Role.BU_MEMBER, "INSURE"),
    Login("reviewer", "Ravi", "Shah", Role.COE_REVIEWER, "COE"),
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

VENDORS = (
    ("OpenAI", "https://openai.com", "GPT models through Azure OpenAI and the OpenAI API."),
    ("Anthropic", "https://www.anthropic.com", "Claude models through Amazon Bedrock."),
    ("Google", "https://cloud.google.com/vertex-ai", "Gemini and Document AI on Vertex AI."),
    ("Mistral AI", "https://mistral.ai", "Mistral models, API and open weights."),
    ("Cohere", "https://cohere.com", "Command and Rerank models for enterprise search."),
    ("AWS", "https://aws.amazon.com/bedrock", "Amazon Titan and Textract."),
    ("Meta", "https://llama.meta.com", "Llama open-weight models, hosted in-house."),
)


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
    ("roadmap_phases", "roadmap phases"),
    ("roadmap_activities", "roadmap activities"),
    ("barrier_assessments", "barrier assessments"),
)


@dataclass
class SeedReport:
    """What a run created and what was already there.

    ``existing`` counts the ``KEYED_ROWS`` found by their natural key before the run.
    """

    scale: int = 0
    created: Counter = field(default_factory=Counter)
    existing: Counter = field(default_factory=lambda: Counter(dict.fromkeys(KEYED_ROWS, 0)))
    logins: list = field(default_factory=list)
    skipped_allocations: int = 0
    first_reference: str = ""
    last_reference: str = ""
    seconds: float = 0.0

    @property
    def created_anything(self) -> bool:
        return any(self.created.values())

    def render(self) -> str:
        """The command's printed summary: counts, then the table of role logins."""
        lines = []
        if self.created_anything:
            lines.append(f"Demo organisation seeded in {self.seconds:.1f} s.")
        else:
            lines.append("Nothing to do: the demo organisation is already seeded.")
        if self.scale:
            lines.append(f"Scaled organisation: {self.scale:,} extra initiatives requested.")
        lines.append("")
        lines.append(f"{'':26}{'created':>10}{'already seeded':>16}")
        for key, label in REPORT_ROWS:
            existing = self.existing.get(key)
            lines.append(
                f"{label:26}{self.created[key]:>10,}"
                f"{'' if existing is None else format(existing, ','):>16}"
            )
        if self.first_reference:
            lines.append(f"\nNew references: {self.first_reference} … {self.last_reference}")
        if self.skipped_allocations:
            lines.append(
                f"{self.skipped_allocations} allocations skipped: no pool had the capacity."
            )
        lines.append("\nDemo logins (demo only, never use these passwords elsewhere):")
        header = ("username", "password", "role", "BU", "")
        rows = [header] + [
            (
                login.username,
                DEMO_PASSWORD,
                Role(login.role).label,
                login.unit,
                "" if created else "existing account, unchanged",
            )
            for login, created in self.logins
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            cells = [row[i].ljust(widths[i]) for i in range(4)] + [row[4]]
            lines.append(("  " + "  ".join(cells)).rstrip())
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def seed_demo(*, scale: int = 0) -> SeedReport:
    """Create whatever part of the demo organisation is missing and return what was done.

    ``scale`` adds a large organisation on top of the base demo: ``scale`` initiatives, about a
    third as many models, one and a half times as many GPU allocations, and the owners and
    pools they need. Runs in one transaction: a failure leaves nothing half-written.
    """
    if scale < 0:
        raise ValueError("scale must be zero or positive")
    started = clock.perf_counter()
    report = SeedReport(scale=scale)
    today = timezone.localdate()
    with transaction.atomic():
        builder = _Builder(report, today)
        builder.build_base()
        if scale:
            builder.build_scale(scale)
        else:
            # Through the services (real audit events); skipped for --scale bulk runs.
            report.created.update(seed_risk_assessments())
            report.created.update(seed_demo_approvals())
            report.created.update(seed_finops(today))
        report.created.update(seed_roadmap_and_barriers(today))
        report.seconds = clock.perf_counter() - started
        if report.created_anything:
            record_event(
                actor=None,
                action="demo.seeded",
                object_type="system",
                object_id="seed_demo",
                after={
                    "scale": scale,
                    "created": dict(sorted(report.created.items())),
                    "skipped_allocations": report.skipped_allocations,
                },
            )
    return report


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _bulk(model, rows):
    """Insert ``rows`` in batches; primary keys are set on the objects (PostgreSQL, SQLite)."""
    return model.objects.bulk_create(rows, batch_size=BATCH_SIZE)


def _aware(day: date, rng: random.Random) -> datetime:
    """A timezone-aware office-hours moment on ``day``."""
    return timezone.make_aware(
        datetime.combine(day, time(hour=rng.randint(8, 17), minute=rng.randint(0, 59)))
    )


def _money(amount: float) -> Decimal:
    """Round to whole thousands, as business cases are written."""
    return Decimal(int(round(amount / 1000.0)) * 1000).quantize(Decimal("0.01"))


def _username(full_name: str) -> str:
    """``"Liam O'Connor"`` → ``"liam.oconnor"``."""
    first, last = full_name.split(" ", 1)
    return re.sub(r"[^a-z.]", "", f"{first}.{last}".lower())


class _CapacityLedger:
    """The allocations of each pool, kept so that every one passes the capacity check.

    ``inventory.services._check_capacity`` refuses an allocation when the GPUs of all
    allocations overlapping its period, its own included, exceed the pool. The ledger keeps
    that true for every allocation, not only the newest: a new one fits when its own overlap
    sum fits *and* adding it keeps the sum of each allocation it overlaps within the pool. So
    any seeded allocation can later be edited through the services without a capacity error.
    Pools hold at most a few hundred allocations, so a linear scan is fast enough.
    """

    OPEN_END = date.max.toordinal()

    def __init__(self):
        # pool id -> [[start ordinal, end ordinal, hundredths of a GPU, overlap sum]]
        self.pools: dict[int, list[list[int]]] = defaultdict(list)

    def add(self, pool_id: int, capacity: int, amount: int, starts_on, ends_on, force=False):
        """Record the allocation if it fits (or when ``force``); True when recorded."""
        start = starts_on.toordinal()
        end = ends_on.toordinal() if ends_on else self.OPEN_END
        entries = self.pools[pool_id]
        overlapping = [entry for entry in entries if entry[0] <= end and entry[1] >= start]
        total = amount + sum(entry[2] for entry in overlapping)
        if not force and (
            total > capacity or any(entry[3] + amount > capacity for entry in overlapping)
        ):
            return False
        for entry in overlapping:
            entry[3] += amount
        entries.append([start, end, amount, total])
        return True


def _hundredths(value: Decimal) -> int:
    return int(value * 100)


# ---------------------------------------------------------------------------------------------
# The builder
# ---------------------------------------------------------------------------------------------


class _Builder:
    """Holds the run's state (units, people, pools, ledger) while the plan is inserted."""

    def __init__(self, report: SeedReport, today: date):
        self.report = report
        self.today = today
        self.units: dict[str, BusinessUnit] = {}
        self.users: dict[str, object] = {}
        self.owners: dict[str, list[str]] = defaultdict(list)  # unit code -> usernames
        self.leads: dict[str, str] = {}
        self.gpu_types: dict[str, GPUType] = {}
        self.pools: dict[str, GPUPool] = {}
        self.vendors: dict[str, Vendor] = {}
        self._password = None
        self.ledger = _CapacityLedger()
        self._ledger_pools: set[int] = set()

    # -- organisation ------------------------------------------------------------------------

    def password(self) -> str:
        """One hash for every demo account: PBKDF2 costs about half a second per call and the
        password is public anyway."""
        if self._password is None:
            self._password = make_password(DEMO_PASSWORD)
        return self._password

    def build_base(self) -> None:
        """The base demo: units, people, catalogue, 120 initiatives, 40 models, 200 allocations."""
        self._business_units()
        self._people()
        self._catalogue()
        rng = random.Random(f"{SEED}:initiatives")
        stages = [stage for stage, count in BASE_STAGE_MIX.items() for _ in range(count)]
        rng.shuffle(stages)
        units = list(UNIT_WEIGHTS)
        weights = [UNIT_WEIGHTS[code] for code in units]
        used_titles: set[tuple[str, str]] = set()
        specs = []
        for index, stage in enumerate(stages, start=1):
            code = rng.choices(units, weights)[0]
            subject, capability = self._pick_subject(rng, code, used_titles)
            specs.append(
                self._initiative_spec(
                    rng, BASE_EXTERNAL_ID.format(index), stage, code, subject, capability, ""
                )
            )
        initiatives = self._insert_initiatives(specs, existing_ids=None)
        self._base_models(specs, initiatives)
        self._allocations(
            initiatives,
            count=BASE_ALLOCATIONS,
            marker=BASE_ALLOCATION_MARKER,
            width=4,
            pools=[self.pools[pool.name] for pool in POOLS],
            rng=random.Random(f"{SEED}:allocations"),
        )

    def _business_units(self) -> None:
        for code, name, cost_centre, parent in BUSINESS_UNITS:
            unit, created = BusinessUnit.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "cost_centre": cost_centre,
                    "parent": self.units.get(parent) if parent else None,
                },
            )
            self.units[code] = unit
            self._count("business_units", created)

    def _people(self) -> None:
        User = get_user_model()
        logins = []
        for login in ROLE_LOGINS:
            user, created = User.objects.get_or_create(
                username=login.username,
                defaults={
                    "first_name": login.first_name,
                    "last_name": login.last_name,
                    "email": f"{login.username}@keel-demo.example",
                    "password": self.password(),
                    "is_staff": login.role == Role.ADMIN,
                    "is_superuser": login.role == Role.ADMIN,
                },
            )
            self._count("users", created)
            self._grant(user, login.unit, login.role)
            self.users[login.username] = user
            logins.append((login, created))
            if login.role in (Role.BU_MEMBER, Role.BU_LEAD):
                self.owners[login.unit].append(login.username)
        self.report.logins = logins
        self.leads["RETAIL"] = "lead"
        for code, names in PEOPLE.items():
            for position, full_name in enumerate(names):
                first, last = full_name.split(" ", 1)
                username = _username(full_name)
                is_lead = position == 0 and code != "RETAIL"
                user, created = User.objects.get_or_create(
                    username=username,
                    defaults={
                        "first_name": first,
                        "last_name": last,
                        "email": f"{username}@keel-demo.example",
                        "password": self.password(),
                    },
                )
                self._count("users", created)
                self._grant(user, code, Role.BU_LEAD if is_lead else Role.BU_MEMBER)
                self.users[username] = user
                self.owners[code].append(username)
                if is_lead:
                    self.leads[code] = username
        for code, unit in self.units.items():
            if unit.head_id is None:
                unit.head = self.users[self.leads[code]]
                unit.save(update_fields=["head"])

    def _grant(self, user, code: str, role: str) -> None:
        _, created = Membership.objects.get_or_create(
            user=user, business_unit=self.units[code], role=role
        )
        self._count("memberships", created)

    def _count(self, key: str, created: bool) -> None:
        if created:
            self.report.created[key] += 1
        else:
            self.report.existing[key] += 1

    def _catalogue(self) -> None:
        seed_catalogue(GPUType)  # the reference catalogue; the demo's extra types below
        for vendor_name, name, memory, price in GPU_TYPES:
            gpu_type, created = GPUType.objects.get_or_create(
                name=name,
                defaults={
                    "vendor": vendor_name,
                    "memory_gb": memory,
                    "reference_hourly_price": Decimal(price),
                },
            )
            self.gpu_types[name] = gpu_type
            self._count("gpu_types", created)
        for name, website, description in VENDORS:
            vendor, created = Vendor.objects.get_or_create(
                name=name, defaults={"website": website, "description": description}
            )
            self.vendors[name] = vendor
            self._count("vendors", created)
        for spec in POOLS:
            self._pool(spec)

    def _pool(self, spec: PoolSpec) -> GPUPool:
        pool, created = GPUPool.objects.get_or_create(
            name=spec.name,
            defaults={
                "kind": spec.kind,
                "provider": spec.provider,
                "region": spec.region,
                "account": spec.account,
                "cluster": spec.cluster,
                "gpu_type": self.gpu_types[spec.gpu_type],
                "gpu_count": spec.gpu_count,
                "pricing_model": spec.pricing_model,
                "hourly_rate": Decimal(spec.hourly_rate),
                "owning_team": spec.owning_team,
            },
        )
        self.pools[spec.name] = pool
        self._count("gpu_pools", created)
        return pool

    # -- initiatives ---------------------------------------------------------------------------

    @staticmethod
    def _pick_subject(rng, code, used_titles):
        """A (subject, capability) of the unit, avoiding repeats within the unit while it can."""
        options = [
            (subject, key)
            for subject in SUBJECTS[code]
            for key in subject.capabilities
            if (code, f"{subject.name}/{key}") not in used_titles
        ]
        if not options:
            options = [(s, key) for s in SUBJECTS[code] for key in s.capabilities]
        subject, key = rng.choice(options)
        used_titles.add((code, f"{subject.name}/{key}"))
        return subject, key

    def _initiative_spec(
        self, rng, external_id, stage, code, subject, cap_key, qualifier, owners=None
    ):
        """Everything about one initiative, drawn from ``rng``: fields, history, deployments.

        ``owners`` are the usernames to draw the accountable owner from (the unit's named
        people by default).
        """
        capability = CAPABILITIES[cap_key]
        stakeholders, sensitivities, jurisdictions = UNIT_PROFILES[code]
        title = f"{subject.name} {capability.label}"
        title = title[0].upper() + title[1:]
        if qualifier:
            title = f"{title} {qualifier}"
        pct = rng.choice((15, 20, 25, 30, 35, 40, 50, 60))
        ai_type = rng.choice(capability.ai_types)
        generative = ai_type in (AIType.GENERATIVE, AIType.AGENTIC)
        sourcing = rng.choices(
            (Sourcing.VENDOR, Sourcing.BOTH, Sourcing.IN_HOUSE),
            (45, 35, 20) if generative else (15, 15, 70),
        )[0]
        sensitivity = rng.choice(sensitivities)
        uses_pii = sensitivity in (DataSensitivity.PERSONAL, DataSensitivity.SPECIAL_CATEGORY) or (
            sensitivity == DataSensitivity.CONFIDENTIAL and rng.random() < 0.25
        )
        where = rng.choice(jurisdictions)
        if "EU" in where:
            eu_role = {
                Sourcing.VENDOR: EUAIActRole.DEPLOYER,
                Sourcing.IN_HOUSE: EUAIActRole.PROVIDER,
            }.get(sourcing) or rng.choice((EUAIActRole.PROVIDER, EUAIActRole.DEPLOYER))
        else:
            eu_role = ""
        path = rng.choice(PATHS[stage])
        lifecycle = self._lifecycle(rng, stage, path)
        reached = set(path)
        value = None if stage == Stage.DRAFT and rng.random() < 0.5 else rng.randrange(60, 4000)
        expected_value = _money(value * 1000) if value else None
        expected_cost = _money(value * 1000 * rng.uniform(0.15, 0.6)) if value else None
        realised = None
        if value and Stage.PRODUCTION in reached:
            realised = _money(value * 1000 * rng.uniform(0.3, 1.3))
        owners = owners or self.owners[code]
        owner = rng.choice(owners)
        lead_pool = [name for name in owners + self.owners["TECH"] if name != owner]
        slug = slugify(title)
        tags = [code.lower(), ai_type.replace("_", "-"), capability.category.replace("_", "-")]
        if generative:
            tags.append("genai")
        if "customer" in stakeholders.lower() or "client" in stakeholders.lower():
            tags.append("customer-facing")
        return {
            "external_id": external_id,
            "code": code,
            "stage": stage,
            "path": path,
            "lifecycle": lifecycle,
            "owner": owner,
            "technical_lead": rng.choice(lead_pool) if rng.random() < 0.75 else None,
            "sponsor": (rng.choice((self.leads[code], "exec")) if rng.random() < 0.6 else None),
            "deploy_units": rng.sample([c for c in UNIT_WEIGHTS if c != code], 3),
            "deploy_roll": rng.random(),
            "fields": {
                "title": title[:200],
                "problem_statement": rng.choice(PROBLEMS).format(
                    Team=subject.team[0].upper() + subject.team[1:],
                    team=subject.team,
                    obj=subject.obj,
                    growth=rng.choice((12, 18, 25, 30, 40)),
                ),
                "purpose": capability.purpose.format(obj=subject.obj, team=subject.team, pct=pct),
                "outputs": capability.outputs.format(obj=subject.obj, team=subject.team),
                "category": capability.category,
                "roadmap_phase": self._roadmap_phase(rng, stage),
                "initiated_on": lifecycle["dates"][0],
                "pilot_started_on": lifecycle["pilot"],
                "production_on": lifecycle["production"],
                "retired_on": lifecycle["retired"],
                "currency": "USD",
                "expected_annual_value": expected_value,
                "expected_annual_cost": expected_cost,
                "realised_value": realised,
                "data_sensitivity": sensitivity,
                "uses_pii": uses_pii,
                "sourcing": sourcing,
                "ai_type": ai_type,
                "autonomy_level": rng.choice(capability.autonomy),
                "impacted_stakeholders": stakeholders,
                "jurisdictions": where,
                "eu_ai_act_role": eu_role,
                "tags": ",".join(tags),
                "links": (
                    f"https://git.keel-demo.example/{code.lower()}/{slug}\n"
                    f"https://wiki.keel-demo.example/ai/{slug}"
                ),
            },
        }

    @staticmethod
    def _roadmap_phase(rng, stage):
        """The roadmap phase an initiative serves: later phases for more advanced ones."""
        if stage in (Stage.PRODUCTION, Stage.SCALED):
            return rng.choice((2, 3, 3, 4))
        if stage in (Stage.PILOT, Stage.PAUSED):
            return rng.choice((2, 3))
        return rng.choice((1, 2, None))

    def _lifecycle(self, rng, stage, path):
        """Dates for each step of ``path``: non-decreasing, from initiation up to today."""
        low, high = AGE_DAYS[stage]
        initiated = self.today - timedelta(days=rng.randint(low, high))
        age = (self.today - initiated).days
        dates = [initiated]
        steps = len(path) - 1
        if steps:
            span = age * rng.uniform(0.55, 0.95)
            weights = [rng.uniform(1.0, 3.0) for _ in range(steps)]
            total, running = sum(weights), 0.0
            for weight in weights:
                running += weight
                dates.append(initiated + timedelta(days=int(span * running / total)))
        reached = dict(zip(path, dates, strict=True))
        return {
            "dates": dates,
            "pilot": reached.get(Stage.PILOT),
            "production": reached.get(Stage.PRODUCTION),
            "scaled": reached.get(Stage.SCALED),
            "retired": reached.get(Stage.RETIRED),
            "ended": reached.get(Stage.RETIRED) or reached.get(Stage.REJECTED),
        }

    def _insert_initiatives(self, specs, existing_ids):
        """Insert the specs whose ``external_id`` is missing, with their history and deployments.

        Returns ``external_id -> (pk, spec)`` for every spec, old and new.
        """
        wanted = [spec["external_id"] for spec in specs]
        if existing_ids is None:
            existing = dict(
                Initiative.objects.filter(external_id__in=wanted).values_list("external_id", "pk")
            )
        else:
            existing = existing_ids
        missing = [spec for spec in specs if spec["external_id"] not in existing]
        result = {
            spec["external_id"]: (existing[spec["external_id"]], spec)
            for spec in specs
            if spec["external_id"] in existing
        }
        self.report.existing["initiatives"] += len(result)
        if not missing:
            return result
        last = sequence_next(REFERENCE_SEQUENCE, count=len(missing))
        first = last - len(missing) + 1
        users = self.users
        rows = [
            Initiative(
                reference=format_reference(first + offset),
                business_unit=self.units[spec["code"]],
                accountable_owner=users[spec["owner"]],
                technical_lead=users[spec["technical_lead"]] if spec["technical_lead"] else None,
                executive_sponsor=users[spec["sponsor"]] if spec["sponsor"] else None,
                created_by=users[spec["owner"]],
                stage=spec["stage"],
                external_id=spec["external_id"],
                **spec["fields"],
            )
            for offset, spec in enumerate(missing)
        ]
        high_water = Initiative.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        _bulk(Initiative, rows)
        # auto_now_add stamps "now" on insert; backdate to the lifecycle so "newest first" and
        # "last updated" read like a real register.
        Initiative.objects.filter(
            pk__gt=high_water,
            pk__lte=rows[-1].pk,
            external_id__startswith="demo-",
            initiated_on__isnull=False,
        ).update(
            created_at=Cast("initiated_on", DateTimeField()),
            updated_at=Cast(
                Coalesce("retired_on", "production_on", "pilot_started_on", "initiated_on"),
                DateTimeField(),
            ),
        )
        self.report.created["initiatives"] += len(rows)
        if not self.report.first_reference:
            self.report.first_reference = rows[0].reference
        self.report.last_reference = rows[-1].reference
        history, deployments = [], []
        for row, spec in zip(rows, missing, strict=True):
            result[spec["external_id"]] = (row.pk, spec)
            history.extend(self._history(row, spec))
            deployments.extend(self._deployments(row, spec))
        _bulk(StageChange, history)
        _bulk(Deployment, deployments)
        self.report.created["stage_changes"] += len(history)
        self.report.created["deployments"] += len(deployments)
        return result

    def _history(self, initiative, spec):
        """Stage-change rows for ``spec['path']``: who moved it, when, and why."""
        rng = random.Random(f"{SEED}:history:{spec['external_id']}")
        path, dates = spec["path"], spec["lifecycle"]["dates"]
        owner = self.users[spec["owner"]]
        changes = []
        previous = ""
        for stage, day in zip(path, dates, strict=True):
            reason = ""
            actor = owner
            if stage in GATE_NAMES:
                actor = self.users[rng.choice(("reviewer", "coeadmin"))]
                reason = f"Approved at the {GATE_NAMES[stage]} gate."
            elif stage in STAGE_REASONS:
                reason = rng.choice(STAGE_REASONS[stage])
                if stage == Stage.REJECTED:
                    actor = self.users[rng.choice(("reviewer", "risk"))]
                else:
                    actor = self.users[self.leads[spec["code"]]]
            changes.append(
                StageChange(
                    initiative_id=initiative.pk,
                    from_stage=previous,
                    to_stage=stage,
                    changed_at=_aware(day, rng),
                    changed_by=actor,
                    reason=reason,
                )
            )
            previous = stage
        # Same-day steps must stay in path order; _aware draws independent times.
        for earlier, later in zip(changes, changes[1:], strict=False):
            if later.changed_at <= earlier.changed_at:
                later.changed_at = earlier.changed_at + timedelta(minutes=7)
        return changes

    def _deployments(self, initiative, spec):
        """Where the initiative runs: its own unit from pilot on, and other units once scaled.

        Scaled initiatives are in production in at least two units; ended ones have their
        deployments retired on the day they ended.
        """
        life = spec["lifecycle"]
        path, stage = spec["path"], spec["stage"]
        own = self.units[spec["code"]]
        others = [self.units[code] for code in spec["deploy_units"]]
        roll = spec["deploy_roll"]
        rows = []
        if Stage.PILOT not in path:
            return rows
        ended = life["ended"]
        if Stage.PRODUCTION in path:
            own_status, own_start = DeploymentStatus.PRODUCTION, life["production"]
        else:
            own_status, own_start = DeploymentStatus.PILOT, life["pilot"]
        if ended:
            own_status = DeploymentStatus.RETIRED
        rows.append(
            Deployment(
                initiative_id=initiative.pk,
                business_unit=own,
                status=own_status,
                started_on=own_start,
                ended_on=ended,
            )
        )
        if Stage.SCALED in path:
            production, scaled = life["production"], life["scaled"]
            gap = (scaled - production).days
            for position, unit in enumerate(others[: 1 + int(roll * 3)]):
                started = production + timedelta(days=int(gap * (position + 1) / 4))
                rows.append(
                    Deployment(
                        initiative_id=initiative.pk,
                        business_unit=unit,
                        status=DeploymentStatus.RETIRED if ended else DeploymentStatus.PRODUCTION,
                        started_on=started,
                        ended_on=ended,
                    )
                )
        elif stage == Stage.PRODUCTION and roll < 0.4:
            if roll < 0.2:
                status, started = DeploymentStatus.PLANNED, None
            else:
                status = DeploymentStatus.PILOT
                started = life["production"] + (self.today - life["production"]) // 2
            rows.append(
                Deployment(
                    initiative_id=initiative.pk,
                    business_unit=others[0],
                    status=status,
                    started_on=started,
                )
            )
        elif stage == Stage.PILOT and roll < 0.2:
            rows.append(
                Deployment(
                    initiative_id=initiative.pk,
                    business_unit=others[0],
                    status=DeploymentStatus.PLANNED,
                )
            )
        return rows

    # -- models --------------------------------------------------------------------------------

    @staticmethod
    def _existing_models() -> set[tuple[int, str]]:
        """The (business unit id, name) keys of every model already registered."""
        return set(AIModel.objects.values_list("business_unit_id", "name"))

    def _base_models(self, specs, initiatives) -> None:
        """14 vendor models owned by the CoE and 26 in-house models of advanced initiatives."""
        rng = random.Random(f"{SEED}:models")
        existing = self._existing_models()
        by_type = defaultdict(list)
        for external_id, (pk, spec) in sorted(initiatives.items()):
            if STAGE_RANK[spec["stage"]] >= 1:
                by_type[spec["fields"]["ai_type"]].append((external_id, pk, spec))
        planned = []
        coe = self.units["COE"]
        for model in VENDOR_MODELS:
            candidates = [item for ai_type in model.serves for item in by_type[ai_type]]
            linked = rng.sample(candidates, min(len(candidates), rng.randint(1, 6)))
            planned.append(
                (
                    AIModel(
                        name=model.name,
                        model_type=model.model_type,
                        vendor=self.vendors[model.vendor],
                        licence=model.licence,
                        hosting=model.hosting,
                        business_unit=coe,
                        owner=self.users[rng.choice(("coeadmin", "platform"))],
                        description=f"{model.name} by {model.vendor}, approved for enterprise "
                        "use through the CoE's AI gateway.",
                    ),
                    [pk for _, pk, _ in linked],
                    max((STAGE_RANK[s["stage"]] for _, _, s in linked), default=0),
                    True,
                )
            )
        advanced = [
            (external_id, pk, spec)
            for external_id, (pk, spec) in sorted(initiatives.items())
            if STAGE_RANK[spec["stage"]] >= 2
        ]
        used_names: set[str] = set()
        for _, pk, spec in rng.sample(advanced, min(len(advanced), BASE_IN_HOUSE_MODELS)):
            model = self._in_house_model(rng, spec, "", used_names)
            siblings = [
                other_pk
                for _, other_pk, other in advanced
                if other["fields"]["ai_type"] == spec["fields"]["ai_type"] and other_pk != pk
            ]
            linked = [pk] + (rng.sample(siblings, 1) if siblings and rng.random() < 0.3 else [])
            planned.append((model, linked, STAGE_RANK[spec["stage"]], False))
        self._insert_models(planned, existing)

    def _in_house_model(self, rng, spec, suffix, used_names):
        """An unsaved in-house model named after the initiative it serves, unique in the run."""
        ai_type = spec["fields"]["ai_type"]
        family, model_type, licence = rng.choice(FAMILIES[ai_type])
        stem = slugify(spec["fields"]["title"].split(" (")[0].split(" –")[0])[:60]
        name = f"{stem}-{family}{suffix}"
        while name in used_names:
            name = f"{name}-b"
        used_names.add(name)
        owner = spec["technical_lead"] or spec["owner"]
        return AIModel(
            name=name,
            model_type=model_type,
            licence=licence,
            hosting=rng.choice((Hosting.CLOUD, Hosting.CLOUD, Hosting.ON_PREM)),
            business_unit=self.units[spec["code"]],
            owner=self.users[owner],
            description=f"{family} model serving “{spec['fields']['title']}”.",
        )

    def _insert_models(self, planned, existing) -> None:
        """Insert the planned models missing from the database, with versions and links."""
        self.report.existing["ai_models"] += sum(
            1 for model, *_ in planned if (model.business_unit_id, model.name) in existing
        )
        new = [item for item in planned if (item[0].business_unit_id, item[0].name) not in existing]
        if not new:
            return
        _bulk(AIModel, [model for model, *_ in new])
        through = AIModel.initiatives.through
        links, versions = [], []
        for model, linked, rank, is_vendor in new:
            links.extend(through(aimodel_id=model.pk, initiative_id=pk) for pk in linked)
            versions.extend(self._versions(model, rank, is_vendor))
        _bulk(through, links)
        _bulk(ModelVersion, versions)
        self.report.created["ai_models"] += len(new)
        self.report.created["model_links"] += len(links)
        self.report.created["model_versions"] += len(versions)

    def _versions(self, model, rank, is_vendor):
        """1–3 versions, newest last; the newest one's status follows the furthest initiative.

        Drawn from the model's own stream so a model's versions do not depend on which other
        models already exist.
        """
        rng = random.Random(f"{SEED}:versions:{model.business_unit.code}:{model.name}")
        count = rng.choices((1, 2, 3), (40, 35, 25))[0]
        released = self.today - timedelta(days=rng.randint(20, 200))
        days = [released]
        for _ in range(count - 1):
            days.insert(0, days[0] - timedelta(days=rng.randint(60, 240)))
        latest_status = {
            0: ModelStatus.DEVELOPMENT,
            1: ModelStatus.DEVELOPMENT,
            2: rng.choice((ModelStatus.VALIDATION, ModelStatus.APPROVED)),
            3: ModelStatus.PRODUCTION,
            4: ModelStatus.PRODUCTION,
        }[rank]
        rows = []
        for position, day in enumerate(days):
            newest = position == count - 1
            status = (
                latest_status
                if newest
                else (ModelStatus.DEPRECATED if position == count - 2 else ModelStatus.RETIRED)
            )
            version = day.isoformat() if is_vendor else f"{1 + position // 2}.{position % 2}.0"
            validated = None
            if status in (ModelStatus.APPROVED, ModelStatus.PRODUCTION, ModelStatus.DEPRECATED):
                validated = min(self.today, day + timedelta(days=rng.randint(3, 30)))
            if status == ModelStatus.PRODUCTION:
                monitoring = rng.choices(
                    (MonitoringStatus.HEALTHY, MonitoringStatus.WARNING, MonitoringStatus.DRIFTING),
                    (70, 20, 10),
                )[0]
            else:
                monitoring = MonitoringStatus.UNKNOWN
            uri = (
                ""
                if is_vendor
                else (
                    f"s3://keel-model-registry/{model.business_unit.code.lower()}/"
                    f"{model.name}/{version}/model.tar.gz"
                )
            )
            rows.append(
                ModelVersion(
                    model_id=model.pk,
                    version=version,
                    status=status,
                    artefact_uri=uri,
                    released_on=day,
                    last_validated_on=validated,
                    # Half-yearly or yearly reviews: some fall overdue, as in real life.
                    next_review_due=(
                        validated + timedelta(days=rng.choice((180, 365))) if validated else None
                    ),
                    monitoring_status=monitoring,
                )
            )
        return rows

    # -- allocations ---------------------------------------------------------------------------

    def _load_ledger(self, pools) -> None:
        """Put the pools' existing allocations in the ledger (once per pool)."""
        ids = [pool.pk for pool in pools if pool.pk not in self._ledger_pools]
        if not ids:
            return
        self._ledger_pools.update(ids)
        rows = GPUAllocation.objects.filter(pool_id__in=ids).order_by("pk")
        for pool_id, count, starts_on, ends_on in rows.values_list(
            "pool_id", "gpu_count", "starts_on", "ends_on"
        ).iterator(chunk_size=BATCH_SIZE):
            self.ledger.add(pool_id, 0, _hundredths(count), starts_on, ends_on, force=True)

    def _allocations(self, initiatives, *, count, marker, width, pools, rng) -> None:
        """Plan ``count`` allocations and insert the missing ones where capacity allows.

        About 8 % have no initiative and about 15 % belong to retired or rejected initiatives,
        many still running: the orphans the platform team should reclaim. Every allocation's
        plan is drawn whether or not it exists, so allocation *i* is the same on every run.
        """
        existing = set()
        rows = GPUAllocation.objects.filter(notes__startswith=f"[{marker}").values_list(
            "notes", flat=True
        )
        for notes in rows.iterator(chunk_size=BATCH_SIZE):
            found = MARKER_PATTERN.match(notes)
            if found and found.group(1) == marker:
                existing.add(int(found.group(2)))
        self.report.existing["gpu_allocations"] += len(existing)
        by_stage = defaultdict(list)
        for external_id in sorted(initiatives):
            pk, spec = initiatives[external_id]
            by_stage[spec["stage"]].append((pk, spec))
        stages = [stage for stage in ALLOCATION_STAGE_WEIGHTS if by_stage[stage]]
        weights = [ALLOCATION_STAGE_WEIGHTS[stage] for stage in stages]
        candidates = self._candidates(pools)
        self._load_ledger(pools)
        new = []
        for index in range(1, count + 1):
            plan = self._allocation_plan(rng, by_stage, stages, weights)
            if index in existing:
                continue
            placed = self._place(plan, candidates[plan["purpose"]])
            if placed is None:
                self.report.skipped_allocations += 1
                continue
            pool, gpus = placed
            new.append(
                GPUAllocation(
                    pool=pool,
                    gpu_count=gpus,
                    initiative_id=plan["initiative"],
                    business_unit=self.units[plan["code"]],
                    purpose=plan["purpose"],
                    starts_on=plan["starts_on"],
                    ends_on=plan["ends_on"],
                    requested_by=self.users[plan["requester"]],
                    approved_by=self.users[plan["approver"]],
                    notes=f"[{marker}{index:0{width}d}] {plan['note']}",
                )
            )
        _bulk(GPUAllocation, new)
        self.report.created["gpu_allocations"] += len(new)

    def _candidates(self, pools) -> dict[str, tuple[list, list]]:
        """Per purpose: (pools of suitable GPU types, best type first; every other pool)."""
        type_names = {gpu_type.pk: name for name, gpu_type in self.gpu_types.items()}
        result = {}
        for purpose, suitable in PURPOSE_GPUS.items():
            preferred = [
                pool
                for name in suitable
                for pool in pools
                if type_names.get(pool.gpu_type_id) == name
            ]
            chosen = {pool.pk for pool in preferred}
            result[purpose] = (preferred, [pool for pool in pools if pool.pk not in chosen])
        return result

    def _allocation_plan(self, rng, by_stage, stages, weights) -> dict:
        """The initiative, purpose, size, dates and people of one allocation (no pool yet)."""
        window_start = self.today - timedelta(days=3 * 365)
        if rng.random() < 0.08:
            spec, pk = None, None
            code = rng.choice(list(UNIT_WEIGHTS))
            purpose = rng.choice(
                (
                    AllocationPurpose.EXPERIMENTATION,
                    AllocationPurpose.TRAINING,
                    AllocationPurpose.INFERENCE,
                )
            )
            anchor, latest = window_start, self.today
            note = rng.choice(ORPHAN_NOTES)
            requester = rng.choice(self.owners[code])
        else:
            pk, spec = rng.choice(by_stage[rng.choices(stages, weights)[0]])
            code, life, path = spec["code"], spec["lifecycle"], spec["path"]
            if Stage.PRODUCTION in path:
                purpose = rng.choices(
                    (
                        AllocationPurpose.INFERENCE,
                        AllocationPurpose.TRAINING,
                        AllocationPurpose.FINE_TUNING,
                    ),
                    (6, 2, 2),
                )[0]
                anchor = life["production" if purpose == AllocationPurpose.INFERENCE else "pilot"]
            elif Stage.PILOT in path:
                purpose = rng.choices(
                    (
                        AllocationPurpose.EXPERIMENTATION,
                        AllocationPurpose.FINE_TUNING,
                        AllocationPurpose.TRAINING,
                        AllocationPurpose.INFERENCE,
                    ),
                    (3, 3, 3, 2),
                )[0]
                anchor = life["pilot"]
            else:
                purpose = AllocationPurpose.EXPERIMENTATION
                anchor = life["dates"][0]
            latest = life["ended"] or self.today + timedelta(days=30)
            note = f"{AllocationPurpose(purpose).label} for {spec['fields']['title']}."
            requester = spec["technical_lead"] or spec["owner"]
        counts, (shortest, longest), open_share = PURPOSE_SHAPES[purpose]
        anchor = max(anchor, window_start)
        latest = max(latest, anchor)
        starts_on = anchor + timedelta(days=rng.randint(0, (latest - anchor).days))
        if spec and spec["lifecycle"]["ended"] and rng.random() < 0.6:
            # Still running after its initiative ended: the orphaned spend to reclaim.
            ends_on = (
                None if rng.random() < 0.5 else self.today + timedelta(days=rng.randint(10, 120))
            )
        elif rng.random() < open_share:
            ends_on = None
        else:
            ends_on = starts_on + timedelta(days=rng.randint(shortest, longest))
        return {
            "initiative": pk,
            "code": code,
            "purpose": purpose,
            "gpus": Decimal(rng.choice(counts)),
            "starts_on": starts_on,
            "ends_on": ends_on,
            "note": note,
            "requester": requester,
            "approver": rng.choice(("platform", "platform", "admin")),
            "spread": rng.random(),
        }

    def _place(self, plan, candidates):
        """The first pool with room, suitable GPU types first; halve the ask if none has room.

        The starting pool among the suitable ones is spread by the plan so that allocations
        do not all pile into the first pool.
        """
        preferred, rest = candidates
        offset = int(plan["spread"] * len(preferred))
        ordered = preferred[offset:] + preferred[:offset] + rest
        gpus = plan["gpus"]
        while gpus >= Decimal("0.25"):
            amount = _hundredths(gpus)
            for pool in ordered:
                capacity = pool.gpu_count * 100
                if self.ledger.add(pool.pk, capacity, amount, plan["starts_on"], plan["ends_on"]):
                    return pool, gpus
            gpus = gpus / 2
        return None

    # -- scale ---------------------------------------------------------------------------------

    def build_scale(self, scale: int) -> None:
        """Add ``scale`` initiatives and proportional owners, pools, models and allocations.

        Initiative *i* draws from its own stream and from owners 1…8+i/25, who exist for any
        N ≥ i, so it is the same whatever ``--scale`` a run asked for: growing from
        ``--scale 300`` to ``--scale 600`` adds initiatives 301–600 and changes nothing else.
        """
        people = self._scale_people(8 + scale // 25)
        allocation_count = scale * 3 // 2
        pools = self._scale_pools(max(2, math.ceil(allocation_count / 60)))
        units = list(UNIT_WEIGHTS)
        weights = [UNIT_WEIGHTS[code] for code in units]
        stages = list(BASE_STAGE_MIX)
        stage_weights = [BASE_STAGE_MIX[stage] for stage in stages]
        specs = []
        for index in range(1, scale + 1):
            rng = random.Random(f"{SEED}:scale-initiative:{index}")
            code = rng.choices(units, weights)[0]
            known = 8 + index // 25
            owners = self.owners[code] + [username for username in people[code][:known] if username]
            stage = rng.choices(stages, stage_weights)[0]
            subject = rng.choice(SUBJECTS[code])
            cap_key = rng.choice(subject.capabilities)
            qualifier = rng.choice(SCALE_QUALIFIERS) if rng.random() < 0.5 else ""
            specs.append(
                self._initiative_spec(
                    rng,
                    f"{SCALE_EXTERNAL_PREFIX}{index:06d}",
                    stage,
                    code,
                    subject,
                    cap_key,
                    qualifier,
                    owners,
                )
            )
        existing = dict(
            Initiative.objects.filter(external_id__startswith=SCALE_EXTERNAL_PREFIX).values_list(
                "external_id", "pk"
            )
        )
        initiatives = self._insert_initiatives(specs, existing_ids=existing)
        self._scale_models(scale // 3, specs, initiatives)
        self._allocations(
            initiatives,
            count=allocation_count,
            marker=SCALE_ALLOCATION_MARKER,
            width=6,
            pools=pools,
            rng=random.Random(f"{SEED}:scale-allocations"),
        )

    def _scale_people(self, count: int) -> dict[str, list[str]]:
        """``count`` extra owners spread over the units, one in ten a BU lead.

        Returns, per unit, a list indexed by person number − 1 holding the username of each
        person of that unit and ``""`` for the others, so callers can slice "people 1…k".
        """
        User = get_user_model()
        units = list(UNIT_WEIGHTS)
        planned = []
        for index in range(1, count + 1):
            first = FIRST_NAMES[index % len(FIRST_NAMES)]
            last = LAST_NAMES[(index * 7) % len(LAST_NAMES)]
            username = f"{first}.{last}.{index:04d}".lower()
            code = units[index % len(units)]
            role = Role.BU_LEAD if index % 10 == 0 else Role.BU_MEMBER
            planned.append((username, first, last, code, role))
        existing = dict(
            User.objects.filter(username__in=[row[0] for row in planned]).values_list(
                "username", "pk"
            )
        )
        self.report.existing["users"] += len(existing)
        self.report.existing["memberships"] += len(existing)
        new = [
            User(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@keel-demo.example",
                password=self.password(),
            )
            for username, first, last, _, _ in planned
            if username not in existing
        ]
        _bulk(User, new)
        self.report.created["users"] += len(new)
        created = {user.username: user for user in new}
        memberships = []
        by_unit = {code: [""] * count for code in units}
        for position, (username, _, _, code, role) in enumerate(planned):
            by_unit[code][position] = username
            user = created.get(username)
            if user is not None:
                memberships.append(Membership(user=user, business_unit=self.units[code], role=role))
            else:
                user = User(pk=existing[username], username=username)
            self.users[username] = user
        _bulk(Membership, memberships)
        self.report.created["memberships"] += len(memberships)
        return by_unit

    def _scale_pools(self, count: int) -> list[GPUPool]:
        """``count`` large pools for scaled allocations; pool *i* is the same whatever N is."""
        kinds = (
            (Provider.AWS, PoolKind.KUBERNETES, "eu-west-1"),
            (Provider.GCP, PoolKind.KUBERNETES, "europe-west4"),
            (Provider.AZURE, PoolKind.CLOUD_ACCOUNT, "westeurope"),
            (Provider.ON_PREM, PoolKind.SLURM, "London DC1"),
            (Provider.ON_PREM, PoolKind.ON_PREM_CLUSTER, "Manchester DC2"),
        )
        pricing = {
            Provider.ON_PREM: PricingModel.OWNED,
            Provider.AWS: PricingModel.RESERVED,
            Provider.GCP: PricingModel.ON_DEMAND,
            Provider.AZURE: PricingModel.RESERVED,
        }
        pools = []
        for index in range(1, count + 1):
            rng = random.Random(f"{SEED}:scale-pool:{index}")
            provider, kind, region = kinds[index % len(kinds)]
            _, type_name, _, price = rng.choice(GPU_TYPES)
            model = pricing[provider]
            name = f"{provider.replace('_', '')}-{slugify(type_name)}-fleet-{index:03d}"
            pools.append(
                self._pool(
                    PoolSpec(
                        name=name,
                        kind=kind,
                        provider=provider,
                        region=region,
                        account="" if provider == Provider.ON_PREM else f"keel-fleet-{index:03d}",
                        cluster=f"fleet-{index:03d}",
                        gpu_type=type_name,
                        gpu_count=rng.choice((256, 384, 512)),
                        pricing_model=model,
                        hourly_rate=str(
                            (Decimal(price) * PRICING_FACTORS[model]).quantize(Decimal("0.0001"))
                        ),
                        owning_team=rng.choice(("ML Platform", "HPC Services", "GenAI Platform")),
                    )
                )
            )
        return pools

    def _scale_models(self, count, specs, initiatives) -> None:
        """``count`` in-house models; model *i* serves scaled initiative 3i−2…3i and up to two
        of the sixty before it.

        Each model draws from its own stream and its initiatives exist for any N ≥ 3i, so
        model *i* (and therefore its name, the key that makes reruns idempotent) is the same
        whatever ``--scale`` a run asked for.
        """
        existing = self._existing_models()
        ordered = [initiatives[spec["external_id"]] for spec in specs]
        used_names: set[str] = set()
        planned = []
        for index in range(1, count + 1):
            rng = random.Random(f"{SEED}:scale-model:{index}")
            served = 3 * index - rng.randrange(3)
            pk, spec = ordered[served - 1]
            model = self._in_house_model(rng, spec, f"-{index:05d}", used_names)
            window = range(max(1, served - 60), served)
            extra = rng.sample(window, min(len(window), rng.randint(0, 2)))
            linked = sorted({pk, *(ordered[number - 1][0] for number in extra)})
            rank = max(STAGE_RANK[ordered[number - 1][1]["stage"]] for number in [served, *extra])
            planned.append((model, linked, rank, False))
        self._insert_models(planned, existing)
