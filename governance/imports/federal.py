"""The US federal AI use-case inventory formats Keel reads (presets ``us-federal-2023``,
``us-federal-2024``, ``us-federal-2025``, ``us-federal-2025-cots``) and writes (the initiative
register's federal exports).

Column names and enumerated answers are the publishers' own:
- 2023: the consolidated inventory under EO 13960 (Department / Agency / Office, the 2023
  "Development Stage" vocabulary);
- 2024: OMB M-24-10's consolidated inventory (62 columns; Keel reads and writes the ones it
  has a field for);
- 2025: OMB M-25-21's consolidated inventory (``Validation/data_dictionary.md`` of
  ``ombegov/2025-Federal-Agency-AI-Use-Case-Inventory``): snake_case column names, or the
  original Excel headers, both accepted;
- 2025 COTS: the consolidated commercial-AI file (Agency, AI Use Case, Agency Use (Y/N)?,
  product, licences).
The value tables below map every enumerated answer of those dictionaries (letter prefix
"a) " and the definition after " – " or ":" optional) to a Keel value;
``tests/governance/fixtures/federal_dictionaries.json`` lists them and a test reads each.
"""

# --- 2024 (M-24-10) -------------------------------------------------------------------------

USE_CASE_NAME = "Use Case Name"
AGENCY = "Agency"
AGENCY_ABBREVIATION = "Agency Abbreviation"
BUREAU = "Bureau"
TOPIC_AREA = "Use Case Topic Area"
PURPOSE = "What is the intended purpose and expected benefits of the AI?"
OUTPUTS = "Describe the AI system's outputs."
STAGE = "Stage of Development"
IMPACT = "Is the AI use case rights-impacting, safety-impacting, both, or neither?"
DATE_INITIATED = "Date Initiated"
DATE_ACQUISITION = "Date when Acquisition and/or Development began"
DATE_IMPLEMENTED = "Date Implemented"
DATE_RETIRED = "Date Retired"
DEVELOPED_BY = (
    "Was the AI system involved in this use case developed (or is it to be developed) under "
    "contract(s) or in-house?"
)
PII = (
    "Does this AI use case involve personally identifiable information (PII) that is "
    "maintained by the agency?"
)

# The 2024 columns Keel reads and writes, in the file's order.
COLUMNS = (
    USE_CASE_NAME,
    AGENCY,
    AGENCY_ABBREVIATION,
    BUREAU,
    TOPIC_AREA,
    PURPOSE,
    OUTPUTS,
    STAGE,
    IMPACT,
    DATE_INITIATED,
    DATE_ACQUISITION,
    DATE_IMPLEMENTED,
    DATE_RETIRED,
    DEVELOPED_BY,
    PII,
)

COLUMNS_2024 = {
    USE_CASE_NAME: "title",
    AGENCY: "business_unit",
    BUREAU: "child_business_unit",
    TOPIC_AREA: "topic_area",
    PURPOSE: "purpose",
    OUTPUTS: "outputs",
    STAGE: "stage",
    IMPACT: "impact",
    DATE_INITIATED: "initiated_on",
    DATE_ACQUISITION: "pilot_started_on",
    DATE_IMPLEMENTED: "production_on",
    DATE_RETIRED: "retired_on",
    DEVELOPED_BY: "sourcing",
    PII: "uses_pii",
}

# --- 2023 (EO 13960) ------------------------------------------------------------------------

DEPARTMENT_2023 = "Department"
AGENCY_2023 = "Agency"  # the sub-agency (bureau) in 2023
OFFICE_2023 = "Office"
TITLE_2023 = "Title"
SUMMARY_2023 = "Summary of Use Case"
STAGE_2023 = "Development Stage"
TECHNIQUES_2023 = "Techniques"
CONTACT_NAME_2023 = "Contact Name"
CONTACT_EMAIL_2023 = "Contact Email"

COLUMNS_2023 = {
    TITLE_2023: "title",
    DEPARTMENT_2023: "business_unit",
    AGENCY_2023: "child_business_unit",
    SUMMARY_2023: "purpose",
    STAGE_2023: "stage",
    CONTACT_EMAIL_2023: "accountable_owner",
    TECHNIQUES_2023: "tags",
}
EXPORT_2023 = (
    DEPARTMENT_2023,
    AGENCY_2023,
    OFFICE_2023,
    TITLE_2023,
    SUMMARY_2023,
    STAGE_2023,
    TECHNIQUES_2023,
    CONTACT_NAME_2023,
    CONTACT_EMAIL_2023,
)

# --- 2025 (M-25-21) -------------------------------------------------------------------------

COLUMNS_2025 = {
    "id": "external_id",
    "use_case_name": "title",
    "agency_name": "business_unit",
    "agency_bureau": "child_business_unit",
    "contact_email": "accountable_owner",
    "development_stage": "stage",
    "is_high_impact": "impact",
    "topic_area": "topic_area",
    "classification": "ai_type",
    "problem_solved": "problem_statement",
    "benefits": "purpose",
    "system_outputs": "outputs",
    "operational_date": "operational_on",
    "contracting_usage": "sourcing",
    "has_pii": "uses_pii",
}
# The original Excel headers of the same columns (the .xlsx OMB publishes).
EXCEL_HEADERS_2025 = {
    "Use Case ID  [Agency Abbrev.] – [#]": "id",
    "Use Case Name": "use_case_name",
    "Bureau/Component": "agency_bureau",
    "Email Address": "contact_email",
    "Stage of Development": "development_stage",
    "Is the AI use case high-impact?": "is_high_impact",
    "Use Case Topic Area": "topic_area",
    "AI Classification": "classification",
    "What problem is the AI intended to solve?": "problem_solved",
    "What are the expected benefits and positive outcomes from the AI for an agency’s mission "
    "and/or the general public?": "benefits",
    "Describe the AI system’s outputs.": "system_outputs",
    "Date when AI use case became operational or the pilot’s start date": "operational_date",
    "Was the system involved in this use case purchased from a vendor or developed under "
    "contract(s) or in-house?": "contracting_usage",
    "Does this AI use case  involve personally  identifiable information (PII)  that is "
    "maintained by the  agency?": "has_pii",
}
# M-25-21 justification and minimum-practice columns (high-impact use cases): Keel keeps each
# answer in the rationale of the tier it writes from the file ("practice_*" fields).
PRACTICES_2025 = {
    "HI_justification": ("practice_justification", "Why not high-impact"),
    "hi_testing_conducted": ("practice_testing", "Pre-deployment testing"),
    "hi_assessment_completed": ("practice_impact_assessment", "AI impact assessment"),
    "hi_potential_impacts": ("practice_potential_impacts", "Potential impacts"),
    "hi_independent_review": ("practice_independent_review", "Independent review"),
    "hi_ongoing_monitoring": ("practice_monitoring", "Ongoing monitoring"),
    "hi_training_established": ("practice_training", "Operator training"),
    "hi_failsafe_presence": ("practice_fail_safe", "Fail-safe"),
    "hi_appeal_process": ("practice_appeal", "Appeal process"),
    "hi_public_consultation": ("practice_public_consultation", "Public consultation"),
}
COLUMNS_2025.update({column: name for column, (name, _) in PRACTICES_2025.items()})

# Every column of the 2025 consolidated file, in its order (the export writes them all,
# blank where Keel holds nothing).
EXPORT_2025 = (
    "agency",
    "agency_name",
    "id",
    "use_case_name",
    "agency_bureau",
    "contact_email",
    "is_withheld",
    "development_stage",
    "is_high_impact",
    "HI_justification",
    "topic_area",
    "classification",
    "problem_solved",
    "benefits",
    "system_outputs",
    "operational_date",
    "contracting_usage",
    "vendor_name",
    "have_ato",
    "system_name_ato",
    "data_description",
    "link_to_data",
    "has_pii",
    "pia_url",
    "demographic_features",
    "has_custom_code",
    "code_url",
    "hi_testing_conducted",
    "hi_assessment_completed",
    "hi_potential_impacts",
    "hi_independent_review",
    "hi_ongoing_monitoring",
    "hi_training_established",
    "hi_failsafe_presence",
    "hi_appeal_process",
    "hi_public_consultation",
)

# --- 2025 COTS ------------------------------------------------------------------------------

COTS_AGENCY = "Agency"
COTS_USE_CASE = "AI Use Case"
COTS_IN_USE = "Agency Use (Y/N)?"
COTS_PRODUCT = "Name of Commercial Product or Service Used"
COTS_LICENCES = "Estimated # of Licenses/Users"
COLUMNS_COTS = {
    COTS_AGENCY: "business_unit",
    COTS_USE_CASE: "title",
    COTS_IN_USE: "in_use",
    COTS_PRODUCT: "products",
}

# --- values ---------------------------------------------------------------------------------

# Stage of Development (2023, 2024, 2025 dictionaries) → Keel stage. The export writes the
# first value listed for a Keel stage in the format's own vocabulary (``EXPORT_STAGES``).
STAGE_SYNONYMS = {
    # 2024
    "Initiated": "proposed",
    "Acquisition and/or Development": "pilot",
    "Implementation and Assessment": "pilot",
    "Operation and Maintenance": "production",
    "Retired": "retired",
    # 2023
    "Initiation": "proposed",
    "Planned": "proposed",
    "Planned (not in production)": "proposed",
    "Development and Acquisition": "pilot",
    "Implementation": "pilot",
    "In production": "production",
    "In production: less than 6 months": "production",
    "In production: less than 1 year": "production",
    "In production: more than 1 year": "production",
    "In mission": "production",
    "Research or Administrative Action Complete": "retired",
    "Ideation": "proposed",
    # 2025
    "Pre-deployment": "proposed",
    "Pilot": "pilot",
    "Deployed": "production",
}
EXPORT_STAGES = {
    "2023": {
        "draft": "Initiation",
        "proposed": "Initiation",
        "pilot": "Development and Acquisition",
        "production": "Operation and Maintenance",
        "scaled": "Operation and Maintenance",
        "retired": "Retired",
    },
    "2024": {
        "draft": "Initiated",
        "proposed": "Initiated",
        "pilot": "Implementation and Assessment",
        "production": "Operation and Maintenance",
        "scaled": "Operation and Maintenance",
        "retired": "Retired",
    },
    "2025": {
        "draft": "Pre-deployment",
        "proposed": "Pre-deployment",
        "pilot": "Pilot",
        "production": "Deployed",
        "scaled": "Deployed",
        "retired": "Retired",
    },
}

# Sourcing answers (2024 "Developed …", 2025 contracting_usage and its shorthand).
SOURCING_SYNONYMS = {
    "Developed in-house": "in_house",
    "Developed in-house.": "in_house",
    "Developed with contracting resources": "vendor",
    "Developed with contracting resources.": "vendor",
    "Developed with both contracting and in-house resources": "both",
    "Developed with both contracting and in-house resources.": "both",
    "Purchased from a vendor": "vendor",
    "Vendor Purchased": "vendor",
    "In-house Development": "in_house",
    "Contracting and In House": "both",
}
EXPORT_SOURCING = {
    "2024": {
        "in_house": "Developed in-house.",
        "vendor": "Developed with contracting resources.",
        "both": "Developed with both contracting and in-house resources.",
    },
    "2025": {
        "in_house": "b) Developed in-house",
        "vendor": "a) Purchased from a vendor",
        "both": "c) Developed with both contracting and in-house resources",
    },
}

# 2025 is_high_impact: M-25-21's "high-impact" replaces M-24-10's rights- and safety-impacting
# categories, so it sets both questionnaire answers (at least Tier 3).
HIGH_IMPACT = "High-impact"
PRESUMED_NOT_HIGH_IMPACT = "Presumed high-impact, but determined not high impact"
NOT_HIGH_IMPACT = "Not high-impact"
EXPORT_HIGH_IMPACT = {True: "a) High-impact", False: "c) Not high-impact"}

# classification (2025) → Keel AI type.
AI_TYPE_SYNONYMS = {
    "Agentic AI": "agentic",
    "Classical/Predictive Machine Learning": "classical_ml",
    "Classical ML": "classical_ml",
    "Computer Vision": "computer_vision",
    "Generative AI": "generative",
    "Natural Language Processing": "nlp",
    "Reinforcement Learning": "reinforcement_learning",
}
EXPORT_AI_TYPE = {
    "agentic": "Agentic AI",
    "classical_ml": "Classical/Predictive Machine Learning",
    "computer_vision": "Computer Vision",
    "generative": "Generative AI",
    "nlp": "Natural Language Processing",
    "reinforcement_learning": "Reinforcement Learning",
}

# Topic areas are kept as a tag "topic: <area>" (Keel's categories are kinds of AI task, not
# policy domains); the export writes the tag back.
TOPIC_TAG_PREFIX = "topic: "
