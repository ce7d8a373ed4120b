"""Mapping + options → a :class:`Plan` (create / update / skip / reject per row, with its line
and reason), and the plan's application in one transaction.

``build_plan`` only reads, with a fixed number of queries whatever the number of rows (business
units, the people named, the initiatives matched, their models, deployments and current
assessments, the models named are each loaded once). ``apply_plan`` writes everything inside
one ``transaction.atomic()``: units (when allowed), placeholder people, models, initiatives
(``bulk_create``, references reserved as one block of the ``initiative`` sequence), stage
history, updates (``bulk_update``), model links, deployments and risk assessments; then one
audit event per row written (appended to the hash chain in one go) and a summary event.

Decisions:
- The stage is recorded as the file says (history is history): the gates are not replayed.
  A new initiative's first ``StageChange`` and any changed stage are written with the reason
  "Imported from <file>" and audited as ``initiative.stage_imported``.
- An unknown person becomes an inactive placeholder user (``placeholder-<slug>``, unusable
  password) and the initiative is flagged ``owner_to_confirm``. A row without an accountable
  owner gets the importing person as a stand-in, flagged the same way.
- Impact (rights/safety-impacting) writes a completed, current, *provisional* risk assessment
  ("from import, not yet assessed") whose answers are the previous current assessment's plus
  the imported "yes" answers: the tier floor makes it Tier 3 at least. "Neither" gives an
  initiative without an assessment a provisional one answering both "no" (so the risk mix does
  not show a real inventory as unassessed). Its subject fingerprint is left empty so Keel asks
  for a reassessment, and an import never lowers an answer.
- Models and deployments are additive: listed ones are linked / created, others stay.
- Text is compared whitespace-insensitively (the reader folds line breaks), so re-importing
  an export changes nothing.
"""

import re

from django.core.exceptions import ValidationError

from core.customfields import coerce
from core.customfields import merged as merged_values
from governance.imports import federal
from governance.imports.context import (
    ImportContext,
    federal_key,
    numbered,
    numbered_base,
)
from governance.imports.fields import (
    ALL_DATE_FIELDS,
    BY_NAME,
    DATE_FIELDS,
    EARLIEST_DATE,
    FUTURE_YEARS,
    IMPACT_HIGH,
    IMPACT_RIGHTS,
    IMPACT_SAFETY,
    REQUIRED,
    UNKNOWN_VALUES,
    FieldError,
    is_placeholder,
    normalise,
    plausible_date,
)
from governance.imports.plan import (
    CREATE,
    FK_FIELDS,
    PEOPLE,
    PLACEHOLDER_PREFIX,
    REJECT,
    SKIP,
    UPDATE,
    Plan,
    Reject,
    RowPlan,
    text_equal,
)
from governance.imports.presets import KEEL, US_FEDERAL
from portfolio.initiatives.choices import Stage
from portfolio.initiatives.models import Initiative


def _match_by_title(context, unit, title, values):
    """An initiative of ``unit`` with this title that no earlier row matched; among several,
    the one with the same purpose, then the same initiation date, then the oldest reference."""
    candidates = [
        initiative
        for initiative in context.by_title.get((unit.pk, normalise(title)), [])
        if initiative.pk not in context.claimed
    ]
    for name in ("purpose", "initiated_on"):
        if len(candidates) > 1 and name in values:
            same = [
                initiative
                for initiative in candidates
                if text_equal(name, getattr(initiative, name), values[name] or _empty(name))
            ]
            candidates = same or candidates
    candidates.sort(key=lambda initiative: initiative.reference)
    return candidates[0] if candidates else None


def build_plan(
    table, mapping: dict, options: dict, actor, *, preset_base: str = KEEL, filename: str = ""
) -> Plan:
    """The dry run: what importing ``table`` with ``mapping`` (header → field) would do. Reads
    only; a fixed number of queries whatever the number of rows."""
    options = options or {}
    header_index = {header: index for index, header in enumerate(table.headers)}
    columns = {
        name: header_index[header]
        for header, name in mapping.items()
        if name and header in header_index
    }
    columns["__headers__"] = header_index
    context = ImportContext(table, columns, options, actor, preset_base, filename)
    seen: dict[str, int] = {}
    rows = []
    for line, cells in table.rows:
        row = RowPlan(line=line)
        try:
            _plan_row(context, row, cells, seen)
        except Reject as error:
            row.action, row.reason = REJECT, str(error)
            row.before, row.after = {}, {}
        if row.action == SKIP:
            row.warnings = []
        rows.append(row)
    units, people = _units_needed(rows), _people_needed(rows)
    models = {id(model) for row in rows if row.action in (CREATE, UPDATE) for model in row.models}
    return Plan(
        rows=rows,
        new_units=[unit for unit in context.new_units if id(unit) in units],
        new_people=[person for person in context.new_people if id(person) in people],
        new_models=[model for model in context.new_models if id(model) in models],
        filename=filename,
    )


def _units_needed(rows) -> set[int]:
    """ids (``id()``) of the units to create that a row which is not rejected needs."""
    needed = set()
    for row in rows:
        if row.action not in (CREATE, UPDATE):
            continue
        candidates = [*row.deployments, row.after.get("business_unit")]
        if row.action == CREATE:
            candidates.append(row.initiative.business_unit)
        for unit in candidates:
            while unit is not None and unit.pk is None:
                needed.add(id(unit))
                unit = unit.parent
    return needed


def _people_needed(rows) -> set[int]:
    needed = set()
    for row in rows:
        if row.action == CREATE:
            needed |= {id(getattr(row.initiative, name)) for name in PEOPLE}
        if row.action == UPDATE:
            needed |= {id(row.after.get(name)) for name in PEOPLE}
    return needed


def _parse(context, cells, row) -> dict:
    """Field name → parsed value for every mapped field with a value (or a clearing empty).

    An optional cell that holds a placeholder (N/A, TBD, Unknown…), a date Keel cannot read
    or an implausible date is *unknown*: left out (an update keeps the field as it is; a new
    initiative gets "unknown" where the field has one, ``UNKNOWN_VALUES``) with a row
    warning, never a rejection. Text longer than its field is cut, with a warning."""
    values, errors = {}, []
    value_maps = context.options.get("values") or {}
    unknown = []
    custom = {}
    for name in context.columns:
        if name == "__headers__":
            continue
        if name.startswith(CUSTOM_PREFIX):
            _parse_custom(context, name, cells[context.columns[name]], custom, errors)
            continue
        spec = BY_NAME[name]
        raw = cells[context.columns[name]]
        if name in value_maps and raw:
            raw = value_maps[name].get(normalise(raw), raw)
        if raw == "":
            if spec.required:
                errors.append(f"missing {spec.label.lower()}")
            elif spec.blank == "clear":
                values[name] = _empty(name) if spec.target == "initiative" else None
            elif name in UNKNOWN_VALUES:
                unknown.append(name)
            continue
        try:
            value = spec.parse(raw)
        except FieldError as error:
            if spec.required or not (is_placeholder(raw) or name in ALL_DATE_FIELDS):
                errors.append(str(error))
                continue
            what = f"'{raw}' is a placeholder" if is_placeholder(raw) else str(error)
            row.warnings.append(f"{spec.label}: {what}; recorded as unknown")
            if name in UNKNOWN_VALUES:
                unknown.append(name)
            continue
        if name in ALL_DATE_FIELDS and not plausible_date(value):
            row.warnings.append(
                f"{spec.label}: {value.isoformat()} is not a plausible date (before "
                f"{EARLIEST_DATE.year} or more than {FUTURE_YEARS} years ahead); recorded as "
                "unknown"
            )
            continue
        if isinstance(value, str) and spec.target == "initiative":
            limit = Initiative._meta.get_field(name).max_length
            if limit and len(value) > limit:
                row.warnings.append(
                    f"{spec.label} is {len(value)} characters long; Keel keeps the first {limit}"
                )
                value = value[: limit - 1].rstrip() + "…"
        values[name] = value
    for name in REQUIRED:
        if name not in context.columns:
            errors.append(f"no column is mapped to {BY_NAME[name].label.lower()}")
    if errors:
        raise Reject("; ".join(dict.fromkeys(errors)))
    if custom:
        values["custom_fields"] = custom
    values["__unknown__"] = unknown
    return values


CUSTOM_PREFIX = "cf_"


def _parse_custom(context, name, raw, custom: dict, errors: list) -> None:
    """A custom field's cell, checked by its type (``core.customfields.coerce``, the same
    rule as forms and the API): an empty cell clears it, a bad value rejects the row."""
    definition = context.custom_targets.get(name)
    if definition is None:
        return
    if raw == "":
        custom[definition.name] = None
        return
    try:
        custom[definition.name] = coerce(definition, raw)
    except ValidationError as error:
        errors.append(f"{definition.label}: {' '.join(error.messages)}")


def _plan_row(context: ImportContext, row: RowPlan, cells, seen: dict) -> None:
    values = _parse(context, cells, row)
    unknown = values.pop("__unknown__")
    row.title = values["title"]
    if values.pop("in_use", None) is False:
        row.action, row.reason = SKIP, "not in use at the agency"
        return
    agency_text = cells[context.columns["business_unit"]]
    unit = context.unit(values.pop("business_unit"))
    child_text = values.pop("child_business_unit", None)
    if child_text:
        unit = context.unit(child_text, parent=unit, what="sub-unit")
    if not context.may_write(unit):
        raise Reject(f"you may not import for business unit '{unit.name}'")

    id_column = context.options.get("id_column")
    computed = False
    if id_column and id_column in context.columns["__headers__"]:
        key = cells[context.columns["__headers__"][id_column]]
    elif context.preset_base == US_FEDERAL:
        key = values.get("external_id") or federal_key(agency_text, row.title)
        computed = not values.get("external_id")
    else:
        key = values.get("external_id") or ""
    reference = values.pop("reference", "") or ""
    dedupe = key or reference or f"{id(unit)}|{normalise(row.title)}"
    number = 1
    while dedupe in seen:
        line, earlier = seen[dedupe]
        if earlier == tuple(cells):
            row.action, row.reason = SKIP, f"duplicate of line {line}"
            return
        if not computed:
            what = "the same id" if key else "the same title and business unit"
            raise Reject(f"{what} as line {line} but different values")
        # two use cases of one agency with the same name: the second is "<key>-2"
        number += 1
        key = dedupe = numbered(numbered_base(key, number), number)
    seen[dedupe] = (row.line, tuple(cells))
    row.key = key

    existing = context.by_external_id.get(key) if key else None
    if existing is None and reference:
        existing = context.by_reference.get(reference)
    by_reference_id = False
    if existing is None and context.preset_base == US_FEDERAL and values.get("external_id"):
        existing = context.by_reference.get(values["external_id"])
        by_reference_id = existing is not None and not existing.external_id
    if existing is None and context.preset_base == US_FEDERAL and not id_column and unit.pk:
        existing = _match_by_title(context, unit, row.title, values)
    if existing is not None:
        context.claimed.add(existing.pk)
    if existing is not None and not context.may_write(existing.business_unit):
        raise Reject(
            f"{existing.reference} belongs to '{existing.business_unit.name}', which you may "
            "not import for"
        )

    row.practices = [
        f"{BY_NAME[name].label.removeprefix('M-25-21 practice: ')}: {values.pop(name)}"
        for name in PRACTICE_FIELDS
        if name in values
    ]
    stage = values.pop("stage", None)
    impact = values.pop("impact", None)
    products = values.pop("products", [])
    row.products = {name.casefold() for name in products}
    model_names = [*values.pop("models", []), *products]
    _place_operational_date(values, stage or (existing.stage if existing else None))
    _add_topic_tag(values, values.pop("topic_area", None), existing)
    deployment_codes = values.pop("deployments", [])
    if context.preset_base == US_FEDERAL or id_column:
        values["external_id"] = key
        if existing is not None and existing.external_id and not id_column or by_reference_id:
            # matched by business unit and title, or by its reference: keep the id it has
            values.pop("external_id")
    values["business_unit"] = unit

    placeholders = False
    for name in PEOPLE:
        if name not in values:
            continue
        text = values.pop(name)
        if text is None:
            values[name] = None
            continue
        person, is_placeholder = context.person(text)
        values[name] = person
        if is_placeholder:
            placeholders = True
            row.warnings.append(
                f"'{text}' is not a Keel user: a placeholder stands in ({name.replace('_', ' ')}"
                ", owner to confirm)"
            )
    stand_in = False
    if existing is None and values.get("accountable_owner") is None:
        values["accountable_owner"] = context.actor
        stand_in = True
        row.warnings.append(
            f"no accountable owner: {context.actor.get_username()} stands in (owner to confirm)"
        )
    if existing is None or any(name in values for name in PEOPLE):
        flags = [_is_placeholder(values[name]) for name in PEOPLE if values.get(name) is not None]
        # An owner still to confirm stays so until the file names another accountable owner:
        # re-importing an export (the same stand-in or placeholder) keeps the flag.
        if existing is not None and values.get("accountable_owner", existing.accountable_owner) == (
            existing.accountable_owner
        ):
            flags.append(existing.owner_to_confirm)
        values["owner_to_confirm"] = stand_in or placeholders or any(flags)

    deployments = []
    for code in deployment_codes:
        target = context.unit_index.get(normalise(code))
        if target is None:
            raise Reject(f"unknown business unit '{code}' in deployments")
        deployments.append(target)

    if existing is None:
        for name in unknown:
            values[name] = UNKNOWN_VALUES[name]
        _plan_create(context, row, values, stage, impact, model_names, deployments)
    else:
        _plan_update(context, row, existing, values, stage, impact, model_names, deployments)


def _place_operational_date(values: dict, stage) -> None:
    """The 2025 "operational date" is the pilot's start for a pilot, else production's."""
    operational = values.pop("operational_on", None)
    if operational is not None:
        name = "pilot_started_on" if stage == Stage.PILOT else "production_on"
        values.setdefault(name, operational)


def _add_topic_tag(values: dict, topic, existing) -> None:
    """Keep a publisher's topic area as the tag "topic: <area>" (replacing an older one)."""
    if not topic:
        return
    base = values.get("tags")
    if base is None:
        base = existing.tags if existing is not None else ""
    tags = [
        tag.strip()
        for tag in re.split(r"[,;]", base or "")
        if tag.strip() and not tag.strip().casefold().startswith(federal.TOPIC_TAG_PREFIX.strip())
    ]
    values["tags"] = ",".join(dict.fromkeys([*tags, federal.TOPIC_TAG_PREFIX + topic]))


PRACTICE_FIELDS = tuple(name for name, _ in federal.PRACTICES_2025.values())

# A federal stage is coarser than Keel's: "Operation and Maintenance" (production) also
# covers a scaled initiative, "Initiated" (proposed) a draft; matching ones are not changed.
FEDERAL_COVERS = {
    Stage.PRODUCTION: (Stage.SCALED,),
    Stage.PROPOSED: (Stage.DRAFT,),
}


def _is_placeholder(user) -> bool:
    return user.pk is None or (user.username.startswith(PLACEHOLDER_PREFIX) and not user.is_active)


def _check_dates(values: dict) -> None:
    pilot, production = values.get("pilot_started_on"), values.get("production_on")
    initiated, retired = values.get("initiated_on"), values.get("retired_on")
    if pilot and production and production < pilot:
        raise Reject(f"in production ({production}) before the pilot started ({pilot})")
    if initiated and retired and retired < initiated:
        raise Reject(f"retired ({retired}) before it was initiated ({initiated})")


def _impact_answers(impact: tuple, answers: dict) -> tuple:
    """The questionnaire keys to answer "yes". M-25-21's "high-impact" replaces M-24-10's
    rights- and safety-impacting: it holds when either is answered yes already, else it sets
    both."""
    if IMPACT_HIGH not in impact:
        return impact
    if any(answers.get(key) == "yes" for key in (IMPACT_RIGHTS, IMPACT_SAFETY)):
        return ()
    return (IMPACT_RIGHTS, IMPACT_SAFETY)


def _plan_create(context, row, values, stage, impact, model_names, deployments) -> None:
    _check_dates(values)
    if "custom_fields" in values:
        values["custom_fields"] = merged_values({}, values["custom_fields"])
    initiative = Initiative(
        **{
            name: value
            for name, value in values.items()
            if value is not None or name in PEOPLE or name in UNKNOWN_VALUES
        },
        stage=stage or Stage.DRAFT,
        created_by=context.actor,
    )
    row.action, row.initiative, row.stage = CREATE, initiative, initiative.stage
    row.impact = _impact_answers(impact or (), {})
    row.impact_stated = impact is not None
    row.models = [
        context.model(
            name,
            values["business_unit"],
            initiative.accountable_owner,
            row.line,
            vendor=name.casefold() in row.products,
        )
        for name in model_names
    ]
    row.deployments = list({unit.pk or id(unit): unit for unit in deployments}.values())


def _plan_update(context, row, existing, values, stage, impact, model_names, deployments):
    row.initiative, row.reference = existing, existing.reference
    merged = {name: getattr(existing, name) for name in DATE_FIELDS}
    merged.update({name: values[name] for name in DATE_FIELDS if name in values})
    _check_dates(merged)
    if "custom_fields" in values:
        values["custom_fields"] = merged_values(existing.custom_fields, values["custom_fields"])
    for name, new in values.items():
        if name in FK_FIELDS:
            old_id = getattr(existing, f"{name}_id")
            new_id = new.pk if new is not None else None
            if new is not None and new.pk is None or old_id != new_id:
                row.before[name], row.after[name] = old_id, new
            continue
        old = getattr(existing, name)
        if not text_equal(name, old, new if new is not None else _empty(name)):
            row.before[name], row.after[name] = old, new if new is not None else _empty(name)
    coarse = context.preset_base == US_FEDERAL and existing.stage in FEDERAL_COVERS.get(stage, ())
    if stage and stage != existing.stage and not coarse:
        row.stage, row.old_stage = stage, existing.stage
    current = existing.current_assessments[0] if existing.current_assessments else None
    answers = current.answers if current is not None else {}
    wanted = _impact_answers(impact or (), answers)
    if any(answers.get(key) != "yes" for key in wanted):
        row.impact, row.current_assessment = wanted, current
    elif impact is not None and current is None:
        row.impact_stated = True
    linked = {model.name.casefold() for model in existing.ai_models.all()}
    row.models = [
        context.model(
            name,
            existing.business_unit,
            existing.accountable_owner,
            row.line,
            vendor=name.casefold() in row.products,
        )
        for name in model_names
        if name.casefold() not in linked
    ]
    deployed = {deployment.business_unit_id for deployment in existing.deployments.all()}
    row.deployments = list(
        {unit.pk: unit for unit in deployments if unit.pk not in deployed}.values()
    )
    if row.after or row.stage or row.impact or row.impact_stated or row.models or row.deployments:
        row.action = UPDATE
    else:
        row.action, row.reason = SKIP, "unchanged"


def _empty(name):
    model_field = Initiative._meta.get_field(name)
    if model_field.get_internal_type() in ("CharField", "TextField") and not model_field.null:
        return ""
    return None
