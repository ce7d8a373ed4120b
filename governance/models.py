"""Every governance model, gathered so Django finds them under the ``governance`` app label.

Each table lives in its context's ``models.py``; import models from there, not from here.
"""

from governance.approvals.models import (
    ApprovalPolicy,
    ApprovalRequest,
    ApprovalStep,
    Decision,
    Delegation,
    DelegationRule,
    Escalation,
)
from governance.imports.models import ImportJob, ImportPreset
from governance.incidents.models import (
    BusinessUnitSector,
    CorrectiveAction,
    Incident,
    IncidentReport,
    ReportingRegime,
)
from governance.reporting.models import ReportFile, report_path
from governance.risk.models import (
    Choice,
    Control,
    ControlRequirement,
    ControlResult,
    Question,
    Questionnaire,
    RiskAssessment,
    evidence_path,
    evidence_storage,
)

__all__ = [
    "ApprovalPolicy",
    "ApprovalRequest",
    "ApprovalStep",
    "BusinessUnitSector",
    "Choice",
    "Control",
    "ControlRequirement",
    "ControlResult",
    "CorrectiveAction",
    "Decision",
    "Delegation",
    "DelegationRule",
    "Escalation",
    "ImportJob",
    "ImportPreset",
    "Incident",
    "IncidentReport",
    "Question",
    "Questionnaire",
    "ReportFile",
    "ReportingRegime",
    "RiskAssessment",
    "evidence_path",
    "evidence_storage",
    "report_path",
]
