"""Rows of the initiative register in the two interchange formats (the inverse of the import
presets): ``keel`` (every field the importer reads, lossless) and ``us-federal-2024`` (the
OMB 2024 columns). Exports and the round-trip tests use these; so does nothing else.

CONTRACT: ``keel_header() -> list[str]``; ``keel_rows(initiatives) -> Iterator[list]``;
``federal_header() -> list[str]``; ``federal_rows(initiatives) -> Iterator[list]``.
``initiatives`` is a queryset (already scoped and filtered by the caller); the functions
add the select_related/prefetch_related they need and never query per row.
"""

from collections.abc import Iterator

from django.db.models import Prefetch

from governance.imports import federal
from governance.imports.fields import (
    FEDERAL_SOURCING,
    FIELDS,
    IMPACT_LABELS,
    IMPACT_RIGHTS,
    IMPACT_SAFETY,
)
from portfolio.initiatives.choices import Stage

CHUNK_SIZE = 500

# Keel stage → the federal "Stage of Development" value written (the first listed for it);
# stages the federal vocabulary lacks are written with Keel's label, which reads back.
FEDERAL_STAGE = {}
for _federal_value, _stage in federal.STAGE_SYNONYMS.items():
    FEDERAL_STAGE.setdefault(_stage, _federal_value)


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
    current = initiative.current_assessments[0] if initiative.current_assessments else None
    answers = current.answers if current is not None else {}
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
        return "yes" if initiative.uses_pii else "no"
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


def keel_header() -> list[str]:
    return [field.label for field in FIELDS]


def keel_rows(initiatives) -> Iterator[list]:
    names = [field.name for field in FIELDS]
    for initiative in _chunks(initiatives):
        yield [_keel_value(initiative, name) for name in names]


def federal_header() -> list[str]:
    return list(federal.COLUMNS)


def federal_stage(stage: str) -> str:
    return FEDERAL_STAGE.get(stage) or Stage(stage).label


def federal_rows(initiatives) -> Iterator[list]:
    for initiative in _chunks(initiatives):
        unit = initiative.business_unit
        agency, bureau = (unit.parent.name, unit.name) if unit.parent_id else (unit.name, "")
        values = {
            federal.USE_CASE_NAME: initiative.title,
            federal.AGENCY: agency,
            federal.BUREAU: bureau,
            federal.TOPIC_AREA: initiative.get_category_display(),
            federal.PURPOSE: initiative.purpose,
            federal.OUTPUTS: initiative.outputs,
            federal.STAGE: federal_stage(initiative.stage),
            federal.IMPACT: impact_label(initiative),
            federal.DATE_INITIATED: _date(initiative.initiated_on),
            federal.DATE_IMPLEMENTED: _date(initiative.production_on),
            federal.DATE_RETIRED: _date(initiative.retired_on),
            federal.DEVELOPED_BY: FEDERAL_SOURCING.get(initiative.sourcing, ""),
            federal.PII: "Yes" if initiative.uses_pii else "No",
        }
        yield [values[column] for column in federal.COLUMNS]
