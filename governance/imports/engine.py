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
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, Value
from django.db.models.functions import Concat, Lower
from django.utils.text import slugify

from core.choices import Role
from core.models import BusinessUnit
from core.permissions import business_unit_ids, writes_whole_organisation
from governance.imports import federal
from governance.imports.fields import (
    ALL_DATE_FIELDS,
    BY_NAME,
    DATE_FIELDS,
    EARLIEST_DATE,
    FUTURE_YEARS,
    IMPACT_HIGH,
    IMPACT_RIGHTS,
    IMPACT_SAFETY,
    PLAIN,
    REQUIRED,
    UNKNOWN_VALUES,
    FieldError,
    is_placeholder,
    normalise,
    plausible_date,
)
from governance.imports.presets import KEEL, US_FEDERAL
from inventory.registry.choices import ModelType
from inventory.registry.models import AIModel
from portfolio.initiatives.choices import Stage
from portfolio.initiatives.models import Deployment, Initiative
from portfolio.initiatives.services import (
    INITIATIVE_FIELDS,
)

CREATE, UPDATE, SKIP, REJECT = "create", "update", "skip", "reject"

ACTIONS = (CREATE, UPDATE, SKIP, REJECT)


PLACEHOLDER_PREFIX = "placeholder-"

PEOPLE = ("accountable_owner", "technical_lead", "executive_sponsor")

FK_FIELDS = ("business_unit", *PEOPLE)

WHITESPACE_TEXT = {
    name
    for name in PLAIN
    if name not in DATE_FIELDS
    and name
    not in (
        "category",
        "uses_pii",
        "data_sensitivity",
        "sourcing",
        "ai_type",
        "autonomy_level",
        "eu_ai_act_role",
        "roadmap_phase",
        "currency",
        "expected_annual_value",
        "expected_annual_cost",
        "realised_value",
    )
}

AUDITED_FIELDS = tuple(name for name in INITIATIVE_FIELDS) + ("owner_to_confirm",)


@dataclass
class RowPlan:
    line: int
    action: str = SKIP
    title: str = ""
    reference: str = ""
    reason: str = ""
    key: str = ""
    initiative: Initiative | None = None
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    stage: str | None = None  # set when the stage is written
    old_stage: str = ""
    impact: tuple = ()  # questionnaire keys to answer "yes"
    # the file answers the impact question and there is no assessment yet: a provisional
    # one is written from the answer ("from import, not yet assessed")
    impact_stated: bool = False
    current_assessment: object = None
    models: list = field(default_factory=list)  # AIModel (saved or pending) to link
    deployments: list = field(default_factory=list)  # BusinessUnit to deploy to
    warnings: list = field(default_factory=list)
    products: set = field(default_factory=set)  # casefolded names of commercial products
    practices: list = field(default_factory=list)  # "label: answer" of M-25-21 practices

    def as_dict(self) -> dict:
        return {
            "line": self.line,
            "action": self.action,
            "reference": self.reference,
            "title": self.title,
            "reason": self.reason,
            "changes": sorted(self.after),
        }


@dataclass
class Plan:
    rows: list[RowPlan]
    new_units: list = field(default_factory=list)
    new_people: list = field(default_factory=list)
    new_models: list = field(default_factory=list)
    filename: str = ""

    @property
    def counts(self) -> dict:
        counts = dict.fromkeys(ACTIONS, 0)
        for row in self.rows:
            counts[row.action] += 1
        return counts

    @property
    def warnings(self) -> list[dict]:
        return [
            {"line": row.line, "message": message} for row in self.rows for message in row.warnings
        ]

    def report(self, cap: int = 500) -> dict:
        """The dry run as plain data (``ImportJob.preview``); rejected rows always complete."""
        return {
            "counts": self.counts,
            "rows": [row.as_dict() for row in self.rows[:cap]],
            "rejected": [
                {"line": row.line, "reason": row.reason}
                for row in self.rows
                if row.action == REJECT
            ],
            "warnings": self.warnings[:cap],
            "new_units": [unit.name for unit in self.new_units],
            "new_people": [person.username for person in self.new_people],
            "new_models": [model.name for model in self.new_models],
        }


class Reject(Exception):
    pass


def _text_equal(name, old, new) -> bool:
    if name == "tags":
        split = lambda text: [t.strip() for t in re.split(r"[,;]", text or "") if t.strip()]  # noqa: E731
        return split(old) == split(new)
    if name in WHITESPACE_TEXT:
        return " ".join((old or "").split()) == " ".join((new or "").split())
    return old == new


def _placeholder_username(text: str) -> str:
    return (PLACEHOLDER_PREFIX + (slugify(text) or "unknown"))[:150]


class _Context:
    """Everything ``build_plan`` loads in bulk, and the look-ups over it."""

    def __init__(self, table, columns, options, actor, preset_base, filename):
        self.options = options
        self.actor = actor
        self.preset_base = preset_base
        self.filename = filename
        self.writes_all = writes_whole_organisation(actor)
        self.lead_units = business_unit_ids(actor, {Role.BU_LEAD})
        if not self.writes_all and not self.lead_units:
            raise PermissionDenied("Only CoE admins, administrators and BU leads can import.")
        self.create_units = bool(options.get("create_units")) and self.writes_all
        self.columns = columns
        self.new_units: list = []
        self.new_people: list = []
        self.new_models: list = []
        self.claimed: set[int] = set()
        self._load(table)

    def cell(self, cells, name) -> str | None:
        index = self.columns.get(name)
        return None if index is None else cells[index]

    # -- bulk loading -------------------------------------------------------------------------

    def _load(self, table):
        def values(name) -> set[str]:
            if name not in self.columns:
                return set()
            return {cells[self.columns[name]] for _, cells in table.rows} - {""}

        self.units = list(BusinessUnit.objects.all())
        # A unit named without its parent: by code (unique), then a top-level unit's name,
        # then a sub-unit's name when no other sub-unit has it.
        self.unit_index: dict[str, BusinessUnit] = {}
        for unit in self.units:
            self.unit_index.setdefault(normalise(unit.code), unit)
        for unit in self.units:
            if unit.parent_id is None:
                self.unit_index.setdefault(normalise(unit.name), unit)
        sub_units = defaultdict(list)
        for unit in self.units:
            if unit.parent_id is not None:
                sub_units[normalise(unit.name)].append(unit)
        for key, units in sub_units.items():
            if len(units) == 1:
                self.unit_index.setdefault(key, units[0])
        self.codes = {unit.code.casefold() for unit in self.units}

        people = set()
        for name in PEOPLE:
            people |= values(name)
        lowered = {text.casefold() for text in people}
        placeholders = {_placeholder_username(text) for text in people}
        User = get_user_model()
        users = list(
            User.objects.annotate(
                u=Lower("username"),
                e=Lower("email"),
                full=Lower(Concat("first_name", Value(" "), "last_name")),
            ).filter(
                Q(u__in=lowered)
                | Q(e__in=lowered)
                | Q(full__in=lowered)
                | Q(username__in=placeholders)
            )
            if people
            else []
        )
        self.people: dict[str, object] = {}
        by_full = defaultdict(list)
        for user in users:
            if user.is_active and user.get_full_name():
                by_full[user.get_full_name().casefold()].append(user)
        for user in users:
            self.people[user.username.casefold()] = user
        for user in users:
            if user.email:
                self.people.setdefault(user.email.casefold(), user)
        for full, matches in by_full.items():
            if len(matches) == 1:
                self.people.setdefault(full, matches[0])

        keys = values("external_id") | self._id_column_values(table)
        federal_keys = self.preset_base == US_FEDERAL and not self.options.get("id_column")
        if federal_keys and "business_unit" in self.columns and "title" in self.columns:
            occurrences = defaultdict(int)
            for _, cells in table.rows:
                base = _federal_key(
                    cells[self.columns["business_unit"]], cells[self.columns["title"]]
                )
                occurrences[base] += 1
                keys.add(_numbered(base, occurrences[base]))
        references = values("reference")
        if self.preset_base == US_FEDERAL:
            # a federal export writes the Keel reference as the use case id where there is
            # no external id, so an id can name a reference too
            references |= values("external_id")
        titles = values("title")
        wanted = Q(external_id__in=keys) | Q(reference__in=references)
        if self.preset_base == US_FEDERAL:
            wanted |= Q(title__in=titles)
        candidates = (
            Initiative.objects.filter(wanted)
            .select_related("business_unit", "accountable_owner")
            .prefetch_related(
                Prefetch("ai_models", queryset=AIModel.objects.only("id", "name")),
                Prefetch(
                    "deployments",
                    queryset=Deployment.objects.only("id", "initiative_id", "business_unit_id"),
                ),
                Prefetch(
                    "risk_assessments",
                    queryset=_current_assessments(),
                    to_attr="current_assessments",
                ),
            )
            if keys or references or (self.preset_base == US_FEDERAL and titles)
            else []
        )
        self.by_external_id: dict[str, Initiative] = {}
        self.by_reference: dict[str, Initiative] = {}
        self.by_title: dict[tuple, list] = defaultdict(list)
        for initiative in candidates:
            if initiative.external_id:
                self.by_external_id.setdefault(initiative.external_id, initiative)
            self.by_reference[initiative.reference] = initiative
            self.by_title[(initiative.business_unit_id, normalise(initiative.title))].append(
                initiative
            )
        model_names = set()
        for text in values("models"):
            model_names |= {name.strip() for name in text.split(";") if name.strip()}
        self.models_by_unit: dict[tuple, AIModel] = {}
        self.models_by_name: dict[str, list] = defaultdict(list)
        if model_names:
            for model in AIModel.objects.filter(name__in=model_names).only(
                "id", "name", "business_unit_id"
            ):
                self.models_by_unit[(model.business_unit_id, model.name.casefold())] = model
                self.models_by_name[model.name.casefold()].append(model)

    def _id_column_values(self, table) -> set:
        header = self.options.get("id_column")
        if not header or header not in self.columns.get("__headers__", {}):
            return set()
        index = self.columns["__headers__"][header]
        return {cells[index] for _, cells in table.rows} - {""}

    # -- look-ups --------------------------------------------------------------------------

    def unit(self, text: str, *, parent=None, what="business unit") -> BusinessUnit:
        key = normalise(text)
        if parent is None:
            found = self.unit_index.get(key)
        else:
            found = next(
                (
                    unit
                    for unit in self.units
                    if (
                        unit.parent is parent
                        if unit.pk is None
                        else parent.pk is not None and unit.parent_id == parent.pk
                    )
                    and key in (normalise(unit.code), normalise(unit.name))
                ),
                None,
            )
        if found is not None:
            return found
        if not self.create_units:
            of = f" of '{parent.name}'" if parent is not None else ""
            hint = (
                " (allow creating missing units to create it)"
                if self.writes_all
                else " (only CoE admins can create units)"
            )
            raise Reject(f"unknown {what} '{text}'{of}{hint}")
        name = " ".join(text.split())[:200]
        unit = BusinessUnit(name=name, code=self._new_code(name), parent=parent)
        self.new_units.append(unit)
        self.units.append(unit)
        if parent is None:
            self.unit_index[key] = unit
        return unit

    def _new_code(self, text: str) -> str:
        base = slugify(text).upper()[:20] or "UNIT"
        if re.fullmatch(r"[A-Za-z0-9_-]{1,20}", text):
            base = text.upper()
        code, number = base, 2
        while code.casefold() in self.codes:
            suffix = f"-{number}"
            code, number = base[: 20 - len(suffix)] + suffix, number + 1
        self.codes.add(code.casefold())
        return code

    def person(self, text: str):
        """(user, is_placeholder): a user by username, e-mail or unique full name, else a
        (new or earlier) placeholder."""
        found = self.people.get(text.casefold())
        if found is None:
            found = self.people.get(_placeholder_username(text))
        if found is not None:
            return found, found.username.startswith(PLACEHOLDER_PREFIX) and not found.is_active
        User = get_user_model()
        username = _placeholder_username(text)
        first, _, last = ("" if "@" in text else text).partition(" ")
        user = User(
            username=username,
            email=text if "@" in text else "",
            first_name=first[:150],
            last_name=last[:150],
            is_active=False,
        )
        user.set_unusable_password()
        self.new_people.append(user)
        self.people[text.casefold()] = user
        self.people[username] = user
        return user, True

    def model(self, name: str, unit, owner, line: int, *, vendor: bool = False):
        found = self.models_by_unit.get((unit.pk, name.casefold())) if unit.pk else None
        if found is None:
            same_name = self.models_by_name.get(name.casefold(), [])
            if len(same_name) == 1 and same_name[0].pk:
                found = same_name[0]
        if found is None:
            found = next(
                (
                    model
                    for model in self.new_models
                    if model.business_unit is unit and model.name.casefold() == name.casefold()
                ),
                None,
            )
        if found is not None:
            return found
        model = AIModel(
            name=name[:200],
            model_type=ModelType.VENDOR_API if vendor else ModelType.CLASSICAL_ML,
            business_unit=unit,
            owner=owner,
            description=f"Registered by the import of {self.filename} (line {line}); check "
            "its type, hosting and owner.",
        )
        self.new_models.append(model)
        self.models_by_name[name.casefold()].append(model)
        return model

    def may_write(self, unit) -> bool:
        if self.writes_all:
            return True
        return unit.pk is not None and unit.pk in self.lead_units


def _current_assessments():
    from governance.risk.models import RiskAssessment

    return RiskAssessment.objects.filter(is_current=True)


def _federal_key(agency: str, title: str) -> str:
    return f"{slugify(agency)}/{slugify(title)}"[:95]


def _numbered(base: str, number: int) -> str:
    return base if number == 1 else f"{base}-{number}"


def _base(key: str, number: int) -> str:
    """The key without the "-N" suffix ``_numbered`` added for the previous number."""
    suffix = f"-{number - 1}"
    return key[: -len(suffix)] if number > 2 and key.endswith(suffix) else key


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
                if _text_equal(name, getattr(initiative, name), values[name] or _empty(name))
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
    context = _Context(table, columns, options, actor, preset_base, filename)
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
    for name in context.columns:
        if name == "__headers__":
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
    values["__unknown__"] = unknown
    return values


def _plan_row(context: _Context, row: RowPlan, cells, seen: dict) -> None:
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
        key = values.get("external_id") or _federal_key(agency_text, row.title)
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
        key = dedupe = _numbered(_base(key, number), number)
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
        if existing is not None and "accountable_owner" not in values:
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
    for name, new in values.items():
        if name in FK_FIELDS:
            old_id = getattr(existing, f"{name}_id")
            new_id = new.pk if new is not None else None
            if new is not None and new.pk is None or old_id != new_id:
                row.before[name], row.after[name] = old_id, new
            continue
        old = getattr(existing, name)
        if not _text_equal(name, old, new if new is not None else _empty(name)):
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
