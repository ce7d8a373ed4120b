"""The governance library as YAML (issue 19): controls with their requirements, and a
questionnaire version. Export is ``yaml.safe_dump`` of plain data; import is
``yaml.safe_load`` (no Python objects), validated row by row, previewed as a plan (dry run)
and applied in one transaction through the library services, so nothing is half-written.

An imported questionnaire becomes a *draft* (publication still goes through the approval
gate); controls are matched by code, created or changed, retired or reinstated; controls the
file does not name are left as they are."""

from dataclasses import dataclass, field

import yaml
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from core.audit import record_event
from governance.risk import library
from governance.risk.choices import INITIATIVE_GATES, AnswerType, Tier
from governance.risk.models import Choice, Control, Question, Questionnaire
from governance.risk.permissions import can_manage_library
from governance.risk.services import _create_questions

FORMAT = "keel-governance-library"
FORMAT_VERSION = 1
CONTROL_KEYS = ("code", *library.CONTROL_FIELDS)
RETIRED_BY_IMPORT = "Retired by a governance library import."


# --- Export --------------------------------------------------------------------------------


def _control_data(control: Control) -> dict:
    data = {key: getattr(control, key) for key in CONTROL_KEYS}
    data["retired"] = not control.is_active
    data["required"] = {
        requirement.gate: requirement.minimum_tier
        for requirement in sorted(control.requirements.all(), key=lambda r: r.gate)
    }
    return data


def questionnaire_data(questionnaire: Questionnaire) -> dict:
    return {
        "version": questionnaire.version,
        "title": questionnaire.title,
        "questions": [
            {
                "key": question.key,
                "text": question.text,
                "help_text": question.help_text,
                "answer_type": question.answer_type,
                "number_bands": [list(band) for band in question.number_bands],
                "choices": [
                    {
                        "key": choice.key,
                        "label": choice.label,
                        "weight": choice.weight,
                        "tier_floor": choice.tier_floor,
                        "reason": choice.reason,
                    }
                    for choice in question.choices.all()
                ],
            }
            for question in questionnaire.questions.prefetch_related("choices")
        ],
    }


def library_data(*, questionnaire: Questionnaire | None = None) -> dict:
    """The library as plain data: every control (retired ones marked) and ``questionnaire``
    (by default the active version, else the newest)."""
    questionnaire = (
        questionnaire
        or Questionnaire.objects.filter(is_active=True).first()
        or Questionnaire.objects.order_by("-version").first()
    )
    controls = Control.objects.prefetch_related("requirements").order_by("code")
    data = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "controls": [_control_data(control) for control in controls],
    }
    if questionnaire is not None:
        data["questionnaire"] = questionnaire_data(questionnaire)
    return data


def library_yaml(**kwargs) -> str:
    return yaml.safe_dump(library_data(**kwargs), sort_keys=False, allow_unicode=True, width=100)


# --- Import --------------------------------------------------------------------------------


@dataclass
class ImportPlan:
    """What an import would do (dry run) or did."""

    created: list = field(default_factory=list)  # control codes
    updated: list = field(default_factory=list)  # (code, [changed keys])
    retired: list = field(default_factory=list)
    reinstated: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    questionnaire: str = ""  # "" (none in the file), "unchanged" or "draft"
    draft: Questionnaire | None = None

    @property
    def changes(self) -> int:
        return (
            len(self.created)
            + len(self.updated)
            + len(self.retired)
            + len(self.reinstated)
            + (self.questionnaire == "draft")
        )


def _parse(text: str):
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ValidationError({"file": f"Not valid YAML{where}."}) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValidationError({"file": f"Not a Keel governance library (format: {FORMAT})."})
    if data.get("format_version") != FORMAT_VERSION:
        raise ValidationError({"file": f"Unsupported format_version (expected {FORMAT_VERSION})."})
    return data


def _required_of(row: dict, where: str, errors: dict) -> dict:
    required = row.get("required") or {}
    if not isinstance(required, dict):
        errors[f"{where}.required"] = ["Map each gate to its minimum tier."]
        return {}
    result = {}
    for gate, tier in required.items():
        if gate not in INITIATIVE_GATES:
            errors[f"{where}.required.{gate}"] = ["Unknown gate."]
        elif not isinstance(tier, int) or tier not in Tier.values:
            errors[f"{where}.required.{gate}"] = ["A tier from 1 to 4."]
        else:
            result[gate] = tier
    return result


def _validate_controls(rows, errors: dict) -> list[tuple[dict, dict, bool]]:
    """(fields, requirements by gate, retired) per valid row; problems into ``errors``."""
    if not isinstance(rows, list):
        errors["controls"] = ["A list of controls."]
        return []
    seen, valid = set(), []
    for index, row in enumerate(rows):
        where = f"controls[{index}]"
        if not isinstance(row, dict):
            errors[where] = ["Each control is a mapping."]
            continue
        code = str(row.get("code") or "").strip().upper()
        if code in seen:
            errors[f"{where}.code"] = [f"{code} appears twice."]
            continue
        seen.add(code)
        unknown = set(row) - {*CONTROL_KEYS, "retired", "required"}
        if unknown:
            errors[where] = [f"Unknown keys: {', '.join(sorted(unknown))}."]
        values = {key: row[key] for key in library.CONTROL_FIELDS if key in row}
        for key in ("description", "eu_ai_act_article", "nist_function", "iso_42001_clause"):
            if values.get(key) is None and key in values:
                values[key] = ""
        requirements = _required_of(row, where, errors)
        existing = Control.objects.filter(code=code).first()
        candidate = Control(code=code)
        if existing is not None:
            candidate = Control(
                pk=existing.pk, **{key: getattr(existing, key) for key in CONTROL_KEYS}
            )
        for key, value in values.items():
            setattr(candidate, key, value)
        try:
            candidate.full_clean(validate_unique=existing is None)
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                errors[f"{where}.{key}"] = messages
        for key, message in library.control_kind_errors(candidate).items():
            errors[f"{where}.{key}"] = [message]
        valid.append(({"code": code, **values}, requirements, bool(row.get("retired"))))
    return valid


def _validate_questionnaire(data, errors: dict) -> dict | None:
    if data is None:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        errors["questionnaire"] = ["A mapping with a title and a list of questions."]
        return None
    if not str(data.get("title") or "").strip():
        errors["questionnaire.title"] = ["Give the questionnaire a title."]
    keys = set()
    for index, question in enumerate(data["questions"]):
        where = f"questionnaire.questions[{index}]"
        if not isinstance(question, dict):
            errors[where] = ["Each question is a mapping."]
            continue
        key = question.get("key")
        if key in keys:
            errors[f"{where}.key"] = [f"{key} appears twice."]
        keys.add(key)
        candidate = Question(
            questionnaire=Questionnaire(version=1, title="x"),
            key=key or "",
            order=index,
            text=question.get("text") or "",
            help_text=question.get("help_text") or "",
            answer_type=question.get("answer_type") or "",
            number_bands=question.get("number_bands") or [],
        )
        try:
            candidate.full_clean(exclude=["questionnaire"], validate_unique=False)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                errors[f"{where}.{name}"] = messages
        bands = question.get("number_bands") or []
        if not all(
            isinstance(band, list)
            and len(band) == 2
            and all(isinstance(value, int | float) for value in band)
            for band in bands
        ):
            errors[f"{where}.number_bands"] = ["Bands are [minimum, weight] pairs of numbers."]
        choices = question.get("choices") or []
        if question.get("answer_type") != AnswerType.NUMBER and not choices:
            errors[f"{where}.choices"] = ["A choice question needs its choices."]
        choice_keys = set()
        for position, choice in enumerate(choices):
            at = f"{where}.choices[{position}]"
            if not isinstance(choice, dict):
                errors[at] = ["Each choice is a mapping."]
                continue
            if choice.get("key") in choice_keys:
                errors[f"{at}.key"] = [f"{choice.get('key')} appears twice."]
            choice_keys.add(choice.get("key"))
            row = Choice(
                key=choice.get("key") or "",
                label=choice.get("label") or "",
                order=position,
                reason=choice.get("reason") or "",
            )
            for name in ("weight", "tier_floor"):
                value = choice.get(name, 0 if name == "weight" else Tier.MINIMAL)
                if not isinstance(value, int) or value < 0:
                    errors[f"{at}.{name}"] = ["A whole number, 0 or more."]
                else:
                    setattr(row, name, value)
            try:
                row.full_clean(exclude=["question"], validate_unique=False)
            except ValidationError as error:
                for name, messages in error.message_dict.items():
                    errors.setdefault(f"{at}.{name}", messages)
    return data


def _comparable(questionnaire: dict) -> dict:
    return {key: value for key, value in questionnaire.items() if key != "version"}


def _plan(controls, questionnaire) -> ImportPlan:
    plan = ImportPlan()
    existing = {c.code: c for c in Control.objects.prefetch_related("requirements")}
    for values, requirements, retired in controls:
        control = existing.get(values["code"])
        if control is None:
            plan.created.append(values["code"])
            if retired:
                plan.retired.append(values["code"])
            continue
        before = _control_data(control)
        changed = [key for key, value in values.items() if before.get(key) != value]
        if before["required"] != requirements:
            changed.append("required")
        if changed:
            plan.updated.append((control.code, changed))
        if retired and control.is_active:
            plan.retired.append(control.code)
        elif not retired and not control.is_active:
            plan.reinstated.append(control.code)
        if not changed and retired == (not control.is_active):
            plan.unchanged.append(control.code)
    if questionnaire is not None:
        current = Questionnaire.objects.filter(is_active=True).first()
        same = current is not None and _comparable(questionnaire_data(current)) == _comparable(
            {**questionnaire, "questions": questionnaire["questions"]}
        )
        plan.questionnaire = "unchanged" if same else "draft"
    return plan


def _normalised_questionnaire(data: dict) -> dict:
    """The file's questionnaire with every optional key filled in, as the export writes it."""
    return {
        "title": str(data["title"]).strip(),
        "questions": [
            {
                "key": question["key"],
                "text": question["text"],
                "help_text": question.get("help_text") or "",
                "answer_type": question["answer_type"],
                "number_bands": [list(band) for band in question.get("number_bands") or []],
                "choices": [
                    {
                        "key": choice["key"],
                        "label": choice["label"],
                        "weight": choice.get("weight", 0),
                        "tier_floor": choice.get("tier_floor", Tier.MINIMAL),
                        "reason": choice.get("reason") or "",
                    }
                    for choice in question.get("choices") or []
                ],
            }
            for question in data["questions"]
        ],
    }


def library_import(*, actor, text: str, dry_run: bool = True) -> ImportPlan:
    """Validate ``text`` (YAML) and return the plan; unless ``dry_run``, apply it in one
    transaction. Raises ValidationError keyed by row (``controls[2].code``,
    ``questionnaire.questions[0].choices[1].weight``) and writes nothing if any row fails."""
    if not can_manage_library(actor):
        raise PermissionDenied("Only CoE admins can import the governance library.")
    data = _parse(text)
    errors = {}
    unknown = set(data) - {"format", "format_version", "controls", "questionnaire"}
    if unknown:
        errors["file"] = [f"Unknown keys: {', '.join(sorted(unknown))}."]
    controls = _validate_controls(data.get("controls") or [], errors)
    questionnaire = _validate_questionnaire(data.get("questionnaire"), errors)
    if errors:
        raise ValidationError(errors)
    if questionnaire is not None:
        questionnaire = _normalised_questionnaire(questionnaire)
    plan = _plan(controls, questionnaire)
    if questionnaire is not None and plan.questionnaire == "draft":
        draft = Questionnaire.objects.filter(published_at__isnull=True).first()
        if draft is not None:
            raise ValidationError(
                {"questionnaire": f"Draft v{draft.version} exists; finish or discard it first."}
            )
    if dry_run:
        return plan
    with transaction.atomic():
        existing = {c.code: c for c in Control.objects.all()}
        for values, requirements, _retired in controls:
            control = existing.get(values["code"])
            full = {gate: requirements.get(gate) for gate in INITIATIVE_GATES}
            if control is None:
                control = library.control_create(actor=actor, data=values, requirements=full)
            elif any(code == control.code for code, _ in plan.updated):
                control = library.control_update(
                    actor=actor, control=control, data=values, requirements=full
                )
            if control.code in plan.retired:
                library.control_retire(actor=actor, control=control, reason=RETIRED_BY_IMPORT)
            elif control.code in plan.reinstated:
                library.control_reinstate(actor=actor, control=control)
        if plan.questionnaire == "draft":
            plan.draft = _draft_from(actor, questionnaire)
    return plan


def _draft_from(actor, data: dict) -> Questionnaire:
    latest = Questionnaire.objects.select_for_update().order_by("-version").first()
    draft = Questionnaire.objects.create(
        version=(latest.version + 1) if latest else 1, title=data["title"]
    )
    specs = [
        {
            "key": question["key"],
            "text": question["text"],
            "help": question["help_text"],
            "type": question["answer_type"],
            "bands": question["number_bands"],
            "choices": [
                {
                    "key": choice["key"],
                    "label": choice["label"],
                    "weight": choice["weight"],
                    "floor": choice["tier_floor"],
                    "reason": choice["reason"],
                }
                for choice in question["choices"]
            ],
        }
        for question in data["questions"]
    ]
    _create_questions({"Question": Question, "Choice": Choice}, draft, specs)
    record_event(
        actor=actor,
        action="questionnaire.imported",
        target=draft,
        after={"version": draft.version, "questions": len(specs)},
    )
    return draft
