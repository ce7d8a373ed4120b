"""The US federal AI use-case inventory (OMB M-24-10, 2024 data dictionary) column names Keel
reads (preset ``us-federal-2024``) and writes (the initiative register's federal export)."""

USE_CASE_NAME = "Use Case Name"
AGENCY = "Agency"
BUREAU = "Bureau"
TOPIC_AREA = "Use Case Topic Area"
PURPOSE = "What is the intended purpose and expected benefits of the AI?"
OUTPUTS = "Describe the AI system's outputs."
STAGE = "Stage of Development"
IMPACT = "Is the AI use case rights-impacting, safety-impacting, both, or neither?"
DATE_INITIATED = "Date Initiated"
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

# In the order the export writes them.
COLUMNS = (
    USE_CASE_NAME,
    AGENCY,
    BUREAU,
    TOPIC_AREA,
    PURPOSE,
    OUTPUTS,
    STAGE,
    IMPACT,
    DATE_INITIATED,
    DATE_IMPLEMENTED,
    DATE_RETIRED,
    DEVELOPED_BY,
    PII,
)

# Stage of Development values (OMB 2024) and the Keel stage each maps to on import; the
# export writes the first federal value listed for a Keel stage.
STAGE_SYNONYMS = {
    "Initiated": "proposed",
    "Planned": "proposed",
    "Ideation": "proposed",
    "Acquisition and/or Development": "pilot",
    "Implementation and Assessment": "pilot",
    "Operation and Maintenance": "production",
    "In production": "production",
    "Retired": "retired",
}
