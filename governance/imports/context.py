"""What ``build_plan`` loads in bulk before it plans a row — business units, people, models,
the initiatives a file may match — and the look-ups over it, with the placeholder people and
new units and models an import would create."""

import re
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, Value
from django.db.models.functions import Concat, Lower
from django.utils.text import slugify

from core.choices import Role
from core.models import BusinessUnit
from core.permissions import business_unit_ids, writes_whole_organisation
from governance.imports.fields import (
    custom_targets,
    normalise,
)
from governance.imports.plan import (
    PEOPLE,
    PLACEHOLDER_PREFIX,
    Reject,
)
from governance.imports.presets import US_FEDERAL
from inventory.registry.choices import ModelType
from inventory.registry.models import AIModel
from portfolio.initiatives.models import Deployment, Initiative


def placeholder_username(text: str) -> str:
    return (PLACEHOLDER_PREFIX + (slugify(text) or "unknown"))[:150]


class ImportContext:
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
        # The custom fields of initiatives a column may map to (read once per import).
        self.custom_targets = custom_targets()
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
        placeholders = {placeholder_username(text) for text in people}
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
                base = federal_key(
                    cells[self.columns["business_unit"]], cells[self.columns["title"]]
                )
                occurrences[base] += 1
                keys.add(numbered(base, occurrences[base]))
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
                    queryset=current_assessments(),
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
            found = self.people.get(placeholder_username(text))
        if found is not None:
            return found, found.username.startswith(PLACEHOLDER_PREFIX) and not found.is_active
        User = get_user_model()
        username = placeholder_username(text)
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


def current_assessments():
    from governance.risk.models import RiskAssessment

    return RiskAssessment.objects.filter(is_current=True)


def federal_key(agency: str, title: str) -> str:
    return f"{slugify(agency)}/{slugify(title)}"[:95]


def numbered(base: str, number: int) -> str:
    return base if number == 1 else f"{base}-{number}"


def numbered_base(key: str, number: int) -> str:
    """The key without the "-N" suffix ``numbered`` added for the previous number."""
    suffix = f"-{number - 1}"
    return key[: -len(suffix)] if number > 2 and key.endswith(suffix) else key
