"""Incident categories, severities, the status workflow and its one transition table."""

from django.db import models


class IncidentCategory(models.TextChoices):
    """What went wrong. The first four are the kinds of *serious incident* of the EU AI Act,
    Regulation (EU) 2024/1689, Art. 3(49): "an incident or malfunctioning of an AI system that
    directly or indirectly leads to any of the following: (a) the death of a person, or serious
    harm to a person's health; (b) a serious and irreversible disruption of the management or
    operation of critical infrastructure; (c) the infringement of obligations under Union law
    intended to protect fundamental rights; (d) serious harm to property or the environment"."""

    SERIOUS_HEALTH = "serious_health", "Serious: death or serious harm to health (Art. 3(49)(a))"
    SERIOUS_INFRASTRUCTURE = (
        "serious_infrastructure",
        "Serious: disruption of critical infrastructure (Art. 3(49)(b))",
    )
    SERIOUS_RIGHTS = (
        "serious_rights",
        "Serious: infringement of fundamental-rights obligations (Art. 3(49)(c))",
    )
    SERIOUS_PROPERTY = (
        "serious_property",
        "Serious: serious harm to property or the environment (Art. 3(49)(d))",
    )
    PERFORMANCE = "performance", "Performance degradation"
    BIAS = "bias", "Bias or discrimination"
    PRIVACY = "privacy", "Privacy"
    SECURITY = "security", "Security (e.g. prompt injection, model theft)"
    MISUSE = "misuse", "Misuse"
    OTHER = "other", "Other"


SERIOUS_CATEGORIES = frozenset(
    {
        IncidentCategory.SERIOUS_HEALTH,
        IncidentCategory.SERIOUS_INFRASTRUCTURE,
        IncidentCategory.SERIOUS_RIGHTS,
        IncidentCategory.SERIOUS_PROPERTY,
    }
)


class Severity(models.TextChoices):
    SEV1 = "sev1", "SEV1 (critical)"
    SEV2 = "sev2", "SEV2 (major)"
    SEV3 = "sev3", "SEV3 (moderate)"
    SEV4 = "sev4", "SEV4 (minor)"


# A SEV1/SEV2 or serious incident flags its initiatives for a risk reassessment (INC-01).
REASSESSMENT_SEVERITIES = frozenset({Severity.SEV1, Severity.SEV2})


class IncidentStatus(models.TextChoices):
    REPORTED = "reported", "Reported"
    TRIAGED = "triaged", "Triaged"
    INVESTIGATING = "investigating", "Investigating"
    MITIGATED = "mitigated", "Mitigated"
    CLOSED = "closed", "Closed"
    REOPENED = "reopened", "Reopened"


# The one table of allowed status changes. Triage (reported/reopened → triaged) computes the
# reporting obligations; closing needs every corrective action done or waived.
INCIDENT_TRANSITIONS: dict[str, frozenset[str]] = {
    IncidentStatus.REPORTED: frozenset({IncidentStatus.TRIAGED}),
    IncidentStatus.TRIAGED: frozenset(
        {IncidentStatus.INVESTIGATING, IncidentStatus.MITIGATED, IncidentStatus.CLOSED}
    ),
    IncidentStatus.INVESTIGATING: frozenset({IncidentStatus.MITIGATED, IncidentStatus.CLOSED}),
    IncidentStatus.MITIGATED: frozenset({IncidentStatus.INVESTIGATING, IncidentStatus.CLOSED}),
    IncidentStatus.CLOSED: frozenset({IncidentStatus.REOPENED}),
    IncidentStatus.REOPENED: frozenset({IncidentStatus.TRIAGED, IncidentStatus.INVESTIGATING}),
}

OPEN_STATUSES = frozenset(set(IncidentStatus.values) - {IncidentStatus.CLOSED})


class ReportKind(models.TextChoices):
    INITIAL = "initial", "Initial"
    INTERMEDIATE = "intermediate", "Intermediate"
    FINAL = "final", "Final"


class ClockStart(models.TextChoices):
    """The moment a deadline runs from, as a regime names it."""

    BECAME_AWARE = "became_aware", "Became aware"
    DETECTED = "detected", "Detected"
    CAUSAL_LINK = "causal_link", "Causal link established"
    CLASSIFIED = "classified", "Classified at triage"
    PREVIOUS_REPORT = "previous_report", "Previous report submitted (or due)"


class ReportState(models.TextChoices):
    DUE = "due", "Due"
    SUBMITTED = "submitted", "Submitted"
    MISSED = "missed", "Missed"
    SUBMITTED_LATE = "submitted_late", "Submitted late"


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    WAIVED = "waived", "Waived"


class Sector(models.TextChoices):
    """A business unit's regulated sector, which some regimes name (DORA: financial entities,
    Regulation (EU) 2022/2554 Art. 2)."""

    FINANCIAL = "financial", "Financial services"
    HEALTH = "health", "Health"
    CRITICAL_INFRASTRUCTURE = "critical_infrastructure", "Critical infrastructure"
    PUBLIC = "public", "Public sector"
    OTHER = "other", "Other"


class DraftStatus(models.TextChoices):
    NONE = "", "Not requested"
    QUEUED = "queued", "Queued"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


MIN_REASON_LENGTH = 10
