"""Reporting regimes as data: when one applies, and when each of its reports is due.

Pure functions over plain facts, so they are tested without a database.

*Conditions* (``ReportingRegime.conditions``) are a dict whose keys must all hold:
``category``, ``severity``, ``eu_ai_act_role``, ``jurisdiction``, ``sector`` (lists: any of
them; for the set-valued facts, any overlap), ``min_risk_tier`` (a number),
``personal_data``, ``death_suspected``, ``widespread`` (booleans), and ``any`` (a list of
conditions of which one must hold). An empty dict always holds.

*Deadlines* (``ReportingRegime.deadlines``) are a list, one entry per report kind::

    {"kind": "initial", "rules": [{"when": {...}, "basis": "Art. 73(3)",
                                   "limits": [{"from": "became_aware", "days": 2}]}, ...]}

The first rule whose ``when`` holds gives the limits; the due time is the earliest of them.
A limit counts ``hours`` as elapsed time, and ``days``/``months`` on the calendar of the
organisation's time zone (the same wall-clock time; a month from 31 January is the last day
of February), so "15 days" across the end of summer time is 15 calendar days, and "72 hours"
is 72 hours.
"""

import calendar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from governance.incidents.choices import ClockStart, ReportKind

SET_FACTS = ("jurisdiction", "sector", "eu_ai_act_role")
CHOICE_FACTS = ("category", "severity")
FLAG_FACTS = ("personal_data", "death_suspected", "widespread")


@dataclass(frozen=True)
class IncidentFacts:
    """What the regimes' conditions may ask about an incident and its initiatives."""

    category: str
    severity: str
    risk_tier: int | None = None
    jurisdiction: frozenset = field(default_factory=frozenset)
    sector: frozenset = field(default_factory=frozenset)
    eu_ai_act_role: frozenset = field(default_factory=frozenset)
    personal_data: bool = False
    death_suspected: bool = False
    widespread: bool = False


def conditions_hold(conditions: dict, facts: IncidentFacts) -> bool:
    for key, wanted in (conditions or {}).items():
        if key == "any":
            if not any(conditions_hold(option, facts) for option in wanted):
                return False
        elif key in CHOICE_FACTS:
            if getattr(facts, key) not in wanted:
                return False
        elif key in SET_FACTS:
            if not {str(value).upper() for value in getattr(facts, key)} & {
                str(value).upper() for value in wanted
            }:
                return False
        elif key in FLAG_FACTS:
            if bool(getattr(facts, key)) != bool(wanted):
                return False
        elif key == "min_risk_tier":
            if facts.risk_tier is None or facts.risk_tier < int(wanted):
                return False
        else:
            raise ValueError(f"Unknown regime condition {key!r}.")
    return True


def add_months(moment: datetime, months: int) -> datetime:
    year, month = divmod(moment.month - 1 + months, 12)
    year += moment.year
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def limit_end(start: datetime, limit: dict, zone=None) -> datetime:
    """``start`` plus the limit's period (see the module docstring)."""
    zone = zone or timezone.get_default_timezone()
    # Aware arithmetic in a named zone is wall-clock arithmetic; hours are elapsed, so in UTC.
    end = start.astimezone(UTC)
    if limit.get("hours"):
        end = end + timedelta(hours=limit["hours"])
    if limit.get("days") or limit.get("months"):
        local = timezone.localtime(end, zone).replace(tzinfo=None)
        local = add_months(local, limit.get("months", 0)) + timedelta(days=limit.get("days", 0))
        # A wall-clock time the clocks skip or repeat is read with the offset before the
        # change (fold 0); normalising to UTC gives it as it exists (02:30 skipped → 03:30).
        end = timezone.make_aware(local, zone).astimezone(UTC)
    return end


@dataclass(frozen=True)
class DueReport:
    kind: str
    order: int
    due_at: datetime
    basis: str


KIND_ORDER = {kind: order for order, kind in enumerate(ReportKind.values)}


def report_deadlines(deadlines: list, facts: IncidentFacts, clocks: dict) -> list[DueReport]:
    """Each report kind's due time. ``clocks`` maps ``ClockStart`` values to datetimes (a
    missing clock is skipped); ``previous_report`` is the previous kind's due time here, and
    becomes its submission time once that report is recorded."""
    due: list[DueReport] = []
    for entry in deadlines:
        rule = next(
            (rule for rule in entry["rules"] if conditions_hold(rule.get("when", {}), facts)), None
        )
        if rule is None:
            continue
        previous = due[-1].due_at if due else None
        ends = []
        for limit in rule["limits"]:
            start = (
                previous
                if limit["from"] == ClockStart.PREVIOUS_REPORT
                else clocks.get(limit["from"])
            )
            if start is not None:
                ends.append(limit_end(start, limit))
        if ends:
            due.append(
                DueReport(
                    kind=entry["kind"],
                    order=KIND_ORDER.get(entry["kind"], len(due)),
                    due_at=min(ends),
                    basis=rule.get("basis", ""),
                )
            )
    return due


def dependent_limits(deadlines: list, kind: str, facts: IncidentFacts) -> list[dict]:
    """The limits of ``kind`` that run from the previous report (to restart them once it is
    submitted)."""
    for entry in deadlines:
        if entry["kind"] != kind:
            continue
        for rule in entry["rules"]:
            if conditions_hold(rule.get("when", {}), facts):
                return [
                    limit for limit in rule["limits"] if limit["from"] == ClockStart.PREVIOUS_REPORT
                ]
    return []


SERIOUS = ["serious_health", "serious_infrastructure", "serious_rights", "serious_property"]

# The default regimes (installed by migration 0014_incidents; admins edit them afterwards).
DEFAULT_REGIMES = [
    {
        "code": "eu-ai-act-art-73",
        "name": "EU AI Act: serious incident report",
        "legal_basis": "Regulation (EU) 2024/1689, Art. 73 (serious incidents, Art. 3(49))",
        "recipient": "Market surveillance authority of the Member State where it occurred",
        # Art. 73(1): providers of high-risk AI systems placed on the Union market.
        "conditions": {
            "category": SERIOUS,
            "eu_ai_act_role": ["provider"],
            "min_risk_tier": 3,
            "jurisdiction": ["EU"],
        },
        "deadlines": [
            {
                "kind": "initial",
                "rules": [
                    {
                        # Art. 73(3): widespread infringement or a serious incident as defined
                        # in Art. 3(49)(b): immediately, and not later than two days.
                        "when": {
                            "any": [{"widespread": True}, {"category": ["serious_infrastructure"]}]
                        },
                        "basis": "Art. 73(3): 2 days after becoming aware",
                        "limits": [{"from": "became_aware", "days": 2}],
                    },
                    {
                        # Art. 73(4): in the event of the death of a person, not later than 10 days.
                        "when": {"death_suspected": True},
                        "basis": "Art. 73(4): 10 days after becoming aware",
                        "limits": [{"from": "became_aware", "days": 10}],
                    },
                    {
                        # Art. 73(2): not later than 15 days after becoming aware.
                        "when": {},
                        "basis": "Art. 73(2): 15 days after becoming aware",
                        "limits": [{"from": "became_aware", "days": 15}],
                    },
                ],
            }
        ],
        # Art. 73(5): an initial report that is incomplete may be followed by a complete one.
        "initial_may_be_incomplete": True,
        "warn_before_hours": 48,
        "escalate_before_hours": 24,
    },
    {
        "code": "gdpr-art-33",
        "name": "GDPR: personal-data breach notification",
        "legal_basis": "Regulation (EU) 2016/679, Art. 33(1)",
        "recipient": "Lead supervisory authority (data protection authority)",
        "conditions": {"personal_data": True},
        "deadlines": [
            {
                "kind": "initial",
                "rules": [
                    {
                        "when": {},
                        "basis": "Art. 33(1): 72 hours after becoming aware",
                        "limits": [{"from": "became_aware", "hours": 72}],
                    }
                ],
            }
        ],
        "initial_may_be_incomplete": True,  # Art. 33(4): information in phases.
        "warn_before_hours": 24,
        "escalate_before_hours": 8,
    },
    {
        "code": "dora-major-ict",
        "name": "DORA: major ICT-related incident",
        "legal_basis": "Regulation (EU) 2022/2554, Art. 19; Delegated Regulation (EU) 2025/301 "
        "(time limits) and Implementing Regulation (EU) 2025/302 (forms)",
        "recipient": "Competent authority (financial supervisor)",
        # A major incident is classified under Delegated Regulation (EU) 2024/1772; Keel
        # takes SEV1/SEV2 in a financial-sector unit as major (editable).
        "conditions": {"sector": ["financial"], "severity": ["sev1", "sev2"]},
        "deadlines": [
            {
                "kind": "initial",
                "rules": [
                    {
                        "when": {},
                        "basis": "Within 4 hours of classification as major, and no later "
                        "than 24 hours after becoming aware",
                        "limits": [
                            {"from": "classified", "hours": 4},
                            {"from": "became_aware", "hours": 24},
                        ],
                    }
                ],
            },
            {
                "kind": "intermediate",
                "rules": [
                    {
                        "when": {},
                        "basis": "Within 72 hours of the initial notification",
                        "limits": [{"from": "previous_report", "hours": 72}],
                    }
                ],
            },
            {
                "kind": "final",
                "rules": [
                    {
                        "when": {},
                        "basis": "Within 1 month of the latest intermediate report",
                        "limits": [{"from": "previous_report", "months": 1}],
                    }
                ],
            },
        ],
        "initial_may_be_incomplete": False,
        "warn_before_hours": 2,
        "escalate_before_hours": 1,
    },
]


def regimes_install_defaults(*, model) -> int:
    """Install the default regimes that are missing (by code); returns how many."""
    created = 0
    for spec in DEFAULT_REGIMES:
        _, was_created = model.objects.get_or_create(code=spec["code"], defaults=dict(spec))
        created += was_created
    return created


def regime_errors(conditions, deadlines) -> dict:
    """Field errors of a regime's data (empty when it is well formed)."""
    from governance.incidents.choices import ClockStart as Clock

    errors = {}
    probe = IncidentFacts(category="other", severity="sev4")
    if not isinstance(conditions, dict):
        errors["conditions"] = "Conditions are a JSON object."
    else:
        try:
            conditions_hold(conditions, probe)
        except (ValueError, TypeError, AttributeError) as error:
            errors["conditions"] = str(error)
    if not isinstance(deadlines, list) or not deadlines:
        errors["deadlines"] = "Deadlines are a non-empty JSON list."
        return errors
    for entry in deadlines:
        try:
            if entry["kind"] not in ReportKind.values:
                raise ValueError(f"Unknown report kind {entry['kind']!r}.")
            for rule in entry["rules"]:
                conditions_hold(rule.get("when", {}), probe)
                if not rule["limits"]:
                    raise ValueError("A rule needs at least one limit.")
                for limit in rule["limits"]:
                    if limit["from"] not in Clock.values:
                        raise ValueError(f"Unknown clock start {limit['from']!r}.")
                    if not any(limit.get(unit) for unit in ("hours", "days", "months")):
                        raise ValueError("A limit needs hours, days or months.")
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            errors["deadlines"] = f"Malformed deadline: {error}"
            break
    return errors
