"""Rows of the initiative register in the interchange formats (the inverse of the import
presets): ``keel`` (every field the importer reads, lossless) and the US federal inventories
``us-federal-2023``, ``us-federal-2024`` and ``us-federal-2025`` (the columns Keel can fill;
the 2025 export writes every column of the format, blank where Keel holds nothing). Exports
and the round-trip tests use these; so does nothing else.

CONTRACT: ``keel_header() -> list[str]``; ``keel_rows(initiatives) -> Iterator[list]``;
``federal_header()``/``federal_rows()`` (2024), ``federal_2023_header()``/``federal_2023_rows()``,
``federal_2025_header()``/``federal_2025_rows()``.
``initiatives`` is a queryset (already scoped and filtered by the caller); the functions
add the select_related/prefetch_related they need and never query per row.
"""

from collections.abc import Iterator

from django.db.models import Prefetch

from core.customfields import export_columns
from governance.imports import federal
from governance.imports.fields import (
    IMPACT_LABELS,
    IMPACT_RIGHTS,
    IMPACT_SAFETY,
    KEEL_FIELDS,
)
from portfolio.initiatives.choices import Stage

CHUNK_SIZE = 500


def _prepared(initiatives):
    from governance.risk.models import RiskAssessment

    if not initiatives.query.order_by and not initiatives.query.is_sliced:
        initiatives = initiatives.order_by("reference")
    return initiatives.select_related(
        "business_unit__parent", "accountable_owner", "technical_lead", "executive_sponsor"
    ).prefetch_related(
        "ai_models",
        "deployments__business_unit",
        Prefetch(
            "risk_assessments",
            queryset=RiskAssessment.objects.filter(is_current=True).only(
                "id", "initiative_id", "answers"
            ),
            to_attr="current_assessments",
        ),
    )


def _chunks(initiatives):
    """The prepared queryset in chunks (prefetches apply per chunk: a constant number of
    queries per chunk, never one per row)."""
    yield from _prepared(initiatives).iterator(chunk_size=CHUNK_SIZE)


def impact_label(initiative) -> str:
    """Rights-impacting, safety-impacting, both or neither from the current assessment; blank
    (unknown) when the initiative has none."""
    current = initiative.current_assessments[0] if initiative.current_assessments else None
    if current is None:
        return ""
    answers = current.answers
    keys = tuple(key for key in (IMPACT_RIGHTS, IMPACT_SAFETY) if answers.get(key) == "yes")
    return IMPACT_LABELS[keys]


def _date(value) -> str:
    return value.isoformat() if value else ""


def _text(value) -> str:
    return "" if value is None else str(value)


def _person(user) -> str:
    return user.get_username() if user is not None else ""


def _keel_value(initiative, name: str):
    if name == "business_unit":
        return initiative.business_unit.code
    if name == "child_business_unit":
        return ""
    if name in ("accountable_owner", "technical_lead", "executive_sponsor"):
        return _person(getattr(initiative, name))
    if name == "uses_pii":
        return "" if initiative.uses_pii is None else ("yes" if initiative.uses_pii else "no")
    if name == "impact":
        return impact_label(initiative)
    if name == "links":
        return " ".join(initiative.link_list)
    if name == "models":
        return "; ".join(sorted(model.name for model in initiative.ai_models.all()))
    if name == "deployments":
        return "; ".join(
            sorted(deployment.business_unit.code for deployment in initiative.deployments.all())
        )
    value = getattr(initiative, name)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return _text(value)


def keel_header(user=None) -> list[str]:
    """Keel's columns, then one per custom field of initiatives (those ``user`` sees)."""
    custom = export_columns("initiative", user=user)
    return [field.label for field in KEEL_FIELDS] + [header for header, _ in custom]


def keel_rows(initiatives, user=None) -> Iterator[list]:
    names = [field.name for field in KEEL_FIELDS]
    custom = export_columns("initiative", user=user)
    for initiative in _chunks(initiatives):
        row = [_keel_value(initiative, name) for name in names]
        yield row + [value(initiative) for _, value in custom]


def _agency_and_bureau(initiative) -> tuple[str, str]:
    unit = initiative.business_unit
    return (unit.parent.name, unit.name) if unit.parent_id else (unit.name, "")


def _agency_code(initiative) -> str:
    unit = initiative.business_unit
    return (unit.parent if unit.parent_id else unit).code


def topic_area(initiative) -> str:
    """The publisher's topic area kept as the tag "topic: <area>" (else Keel's category)."""
    prefix = federal.TOPIC_TAG_PREFIX.strip().casefold()
    for tag in initiative.tags.split(","):
        if tag.strip().casefold().startswith(prefix):
            return tag.strip()[len(prefix) :].strip()
    return ""


def _yes_no(value) -> str:
    return "" if value is None else ("Yes" if value else "No")


def _federal_stage(year: str, stage: str) -> str:
    return federal.EXPORT_STAGES[year].get(stage) or Stage(stage).label


def _contact(initiative) -> str:
    owner = initiative.accountable_owner
    return owner.email or owner.get_username() if owner is not None else ""


def federal_header() -> list[str]:
    return list(federal.COLUMNS)


def federal_stage(stage: str) -> str:
    return _federal_stage("2024", stage)


def federal_rows(initiatives) -> Iterator[list]:
    """The 2024 (OMB M-24-10) columns Keel holds a value for."""
    for initiative in _chunks(initiatives):
        agency, bureau = _agency_and_bureau(initiative)
        values = {
            federal.USE_CASE_NAME: initiative.title,
            federal.AGENCY: agency,
            federal.AGENCY_ABBREVIATION: _agency_code(initiative),
            federal.BUREAU: bureau,
            federal.TOPIC_AREA: topic_area(initiative),
            federal.PURPOSE: initiative.purpose,
            federal.OUTPUTS: initiative.outputs,
            federal.STAGE: federal_stage(initiative.stage),
            federal.IMPACT: impact_label(initiative),
            federal.DATE_INITIATED: _date(initiative.initiated_on),
            federal.DATE_ACQUISITION: _date(initiative.pilot_started_on),
            federal.DATE_IMPLEMENTED: _date(initiative.production_on),
            federal.DATE_RETIRED: _date(initiative.retired_on),
            federal.DEVELOPED_BY: federal.EXPORT_SOURCING["2024"].get(initiative.sourcing, ""),
            federal.PII: _yes_no(initiative.uses_pii),
        }
        yield [values[column] for column in federal.COLUMNS]


def federal_2023_header() -> list[str]:
    return list(federal.EXPORT_2023)


def federal_2023_rows(initiatives) -> Iterator[list]:
    """The 2023 (EO 13960) columns; Office is blank (Keel nests units two levels here)."""
    for initiative in _chunks(initiatives):
        department, agency = _agency_and_bureau(initiative)
        owner = initiative.accountable_owner
        values = {
            federal.DEPARTMENT_2023: department,
            federal.AGENCY_2023: agency,
            federal.OFFICE_2023: "",
            federal.TITLE_2023: initiative.title,
            federal.SUMMARY_2023: initiative.purpose,
            federal.STAGE_2023: _federal_stage("2023", initiative.stage),
            federal.TECHNIQUES_2023: initiative.tags,
            federal.CONTACT_NAME_2023: owner.get_full_name() if owner else "",
            federal.CONTACT_EMAIL_2023: _contact(initiative),
        }
        yield [values[column] for column in federal.EXPORT_2023]


def federal_2025_header() -> list[str]:
    return list(federal.EXPORT_2025)


def federal_2025_rows(initiatives) -> Iterator[list]:
    """Every 2025 (OMB M-25-21) column, blank where Keel holds nothing."""
    for initiative in _chunks(initiatives):
        agency, bureau = _agency_and_bureau(initiative)
        impact = impact_label(initiative)
        operational = (
            initiative.pilot_started_on
            if initiative.stage == Stage.PILOT
            else initiative.production_on
        )
        values = dict.fromkeys(federal.EXPORT_2025, "")
        values.update(
            {
                "agency": _agency_code(initiative),
                "agency_name": agency,
                "id": initiative.external_id or initiative.reference,
                "use_case_name": initiative.title,
                "agency_bureau": bureau,
                "contact_email": _contact(initiative),
                "development_stage": _federal_stage("2025", initiative.stage),
                "is_high_impact": federal.EXPORT_HIGH_IMPACT[impact != IMPACT_LABELS[()]]
                if impact
                else "",
                "topic_area": topic_area(initiative),
                "classification": federal.EXPORT_AI_TYPE.get(initiative.ai_type, ""),
                "problem_solved": initiative.problem_statement,
                "benefits": initiative.purpose,
                "system_outputs": initiative.outputs,
                "operational_date": _date(operational),
                "contracting_usage": federal.EXPORT_SOURCING["2025"].get(initiative.sourcing, ""),
                "has_pii": _yes_no(initiative.uses_pii),
            }
        )
        yield [values[column] for column in federal.EXPORT_2025]
