"""Governance content as data (issue 19): CoE admins edit the control library (add, change,
retire — never delete), author a questionnaire draft, and preview which current assessments
a draft would re-tier. Publishing goes through the approval engine (the ``questionnaire``
gate, ``governance.approvals.content``), which calls ``services.questionnaire_publish``."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count

from core.audit import record_event
from governance.risk import scoring
from governance.risk.choices import INITIATIVE_GATES, ControlKind, Tier
from governance.risk.controls import has_automated_evaluator
from governance.risk.models import (
    Choice,
    Control,
    ControlRequirement,
    ControlResult,
    Question,
    Questionnaire,
    RiskAssessment,
)
from governance.risk.permissions import can_manage_library
from governance.risk.services import (
    questionnaire_edit_problem,
    questionnaire_new_version,
    questionnaire_specs,
)
from portfolio.initiatives.models import Initiative
from portfolio.initiatives.selectors import scope_initiatives

# What a CoE admin edits on a control; ``code`` only when it is created (results, evidence
# paths and the automated evaluators name controls by code).
CONTROL_FIELDS = (
    "title",
    "description",
    "kind",
    "applies_when",
    "eu_ai_act_article",
    "nist_function",
    "iso_42001_clause",
    "mitigation_weight",
)


def _require_library_admin(actor) -> None:
    if not can_manage_library(actor):
        raise PermissionDenied("Only CoE admins can change the governance library.")


def _requirement_errors(requirements: dict) -> dict:
    """``requirements`` maps gate → minimum tier (None: not required at that gate)."""
    errors = {}
    for gate, tier in requirements.items():
        if gate not in INITIATIVE_GATES:
            errors[f"requirements.{gate}"] = "Controls are required only at initiative gates."
        elif tier is not None and int(tier) not in Tier.values:
            errors[f"requirements.{gate}"] = "Choose a tier from 1 to 4."
    return errors


def control_kind_errors(control: Control) -> dict:
    if control.kind == ControlKind.AUTOMATED and not has_automated_evaluator(control.code):
        return {
            "kind": "Keel has no automated evaluator for this code; make it a manual "
            "control (evidence reviewed by the CoE)."
        }
    return {}


def _validate_control(control: Control, requirements: dict, *, exclude=()) -> None:
    errors = {}
    try:
        control.full_clean(exclude=list(exclude))
    except ValidationError as error:
        errors.update(error.message_dict)
    errors.update(control_kind_errors(control))
    errors.update(_requirement_errors(requirements))
    if errors:
        raise ValidationError(errors)


def _requirements_of(control: Control) -> dict:
    return {
        requirement.gate: requirement.minimum_tier for requirement in control.requirements.all()
    }


def _control_state(control: Control, requirements: dict) -> dict:
    state = {field: getattr(control, field) for field in ("code", *CONTROL_FIELDS, "is_active")}
    state["requirements"] = {
        gate: tier for gate, tier in sorted(requirements.items()) if tier is not None
    }
    return state


def _write_requirements(control: Control, requirements: dict) -> None:
    """Make the control's requirements exactly the gates with a tier in ``requirements``
    (gates not named keep theirs)."""
    for gate, tier in requirements.items():
        if tier is None:
            ControlRequirement.objects.filter(control=control, gate=gate).delete()
        else:
            ControlRequirement.objects.update_or_create(
                control=control, gate=gate, defaults={"minimum_tier": int(tier)}
            )


def control_create(*, actor, data: dict, requirements: dict) -> Control:
    """Add a control to the library with its requirements (gate → minimum tier). Audited;
    errors are field-level (``requirements.<gate>`` for a requirement)."""
    _require_library_admin(actor)
    control = Control(code=str(data.get("code", "")).strip().upper(), is_active=True)
    for field in CONTROL_FIELDS:
        if field in data:
            setattr(control, field, data[field])
    _validate_control(control, requirements)
    with transaction.atomic():
        control.save()
        _write_requirements(control, requirements)
        record_event(
            actor=actor,
            action="control.created",
            target=control,
            after=_control_state(control, requirements),
        )
    return control


def control_update(*, actor, control: Control, data: dict, requirements: dict) -> Control:
    """Change a control's wording, applicability, framework references, mitigation weight
    and its requirements by gate and tier. The code never changes. Results already
    evaluated stay as they are until the next evaluation."""
    _require_library_admin(actor)
    with transaction.atomic():
        locked = Control.objects.select_for_update().get(pk=control.pk)
        before = _control_state(locked, _requirements_of(locked))
        for field in CONTROL_FIELDS:
            if field in data:
                setattr(locked, field, data[field])
        _validate_control(locked, requirements)
        locked.save()
        _write_requirements(locked, requirements)
        after = _control_state(locked, _requirements_of(locked))
        changed = {key for key in after if after[key] != before[key]}
        if changed:
            record_event(
                actor=actor,
                action="control.updated",
                target=locked,
                before={key: before[key] for key in sorted(changed)},
                after={key: after[key] for key in sorted(changed)},
            )
    return locked


def control_retire(*, actor, control: Control, reason: str) -> Control:
    """Retire a control (never delete it): new evaluations no longer require or evaluate
    it; its past results stay, no longer counted as required."""
    _require_library_admin(actor)
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ValidationError({"reason": "Say in at least 10 characters why it is retired."})
    with transaction.atomic():
        locked = Control.objects.select_for_update().get(pk=control.pk)
        if not locked.is_active:
            raise ValidationError({"reason": f"{locked.code} is already retired."})
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        released = ControlResult.objects.filter(control=locked, is_required=True).update(
            is_required=False
        )
        record_event(
            actor=actor,
            action="control.retired",
            target=locked,
            before={"is_active": True},
            after={"is_active": False, "results_no_longer_required": released},
            reason=reason,
        )
    return locked


def control_reinstate(*, actor, control: Control) -> Control:
    """Bring a retired control back; the next evaluation of each initiative requires it
    again where its requirements say so."""
    _require_library_admin(actor)
    with transaction.atomic():
        locked = Control.objects.select_for_update().get(pk=control.pk)
        if locked.is_active:
            raise ValidationError(f"{locked.code} is not retired.")
        locked.is_active = True
        locked.save(update_fields=["is_active"])
        record_event(
            actor=actor,
            action="control.reinstated",
            target=locked,
            before={"is_active": False},
            after={"is_active": True},
        )
    return locked


# --- Questionnaire drafts ----------------------------------------------------------------


def questionnaire_draft(*, actor) -> Questionnaire:
    """Start the next version as a draft copy of the published, active one. One draft at a
    time, so two CoE admins never author competing versions."""
    _require_library_admin(actor)
    with transaction.atomic():
        Questionnaire.objects.select_for_update().order_by("-version").first()
        existing = Questionnaire.objects.filter(published_at__isnull=True).first()
        if existing is not None:
            raise ValidationError(
                f"Draft v{existing.version} is already being authored; finish or discard it."
            )
        source = Questionnaire.objects.filter(is_active=True).first()
        if source is None:
            raise ValidationError("No published questionnaire to start from.")
        return questionnaire_new_version(actor=actor, source=source)


def questionnaire_discard(*, actor, questionnaire: Questionnaire) -> None:
    """Delete an unpublished draft nobody has answered (audited)."""
    _require_library_admin(actor)
    with transaction.atomic():
        locked = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
        problem = questionnaire_edit_problem(locked)
        if problem:
            raise ValidationError(problem)
        if locked.assessments.exists():
            raise ValidationError("Assessments answered this version; it cannot be discarded.")
        record_event(
            actor=actor,
            action="questionnaire.discarded",
            target=locked,
            before={"version": locked.version},
        )
        locked.delete()


QUESTION_FIELDS = ("text", "help_text")
CHOICE_FIELDS = ("label", "weight", "tier_floor", "reason")


def questionnaire_draft_update(
    *, actor, questionnaire: Questionnaire, title: str | None, questions: dict, choices: dict
) -> Questionnaire:
    """Apply a CoE admin's edits to a draft in one transaction: ``questions`` maps question
    pk → {text, help_text}, ``choices`` maps choice pk → {label, weight, tier_floor,
    reason}. Errors are keyed ``q<pk>-<field>`` / ``c<pk>-<field>`` (the form's field
    names); nothing is written unless every row is valid. One audit event per changed row."""
    _require_library_admin(actor)
    with transaction.atomic():
        locked = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
        problem = questionnaire_edit_problem(locked)
        if problem:
            raise ValidationError(problem)
        errors, changes = {}, []
        if title is not None and title != locked.title:
            before_title = locked.title
            locked.title = title
            try:
                locked.full_clean()
            except ValidationError as error:
                errors.update(error.message_dict)
            changes.append(
                (locked, {"title": before_title}, {"title": title}, "questionnaire.retitled")
            )
        rows = [
            (
                "q",
                Question.objects.filter(questionnaire=locked),
                questions,
                QUESTION_FIELDS,
                "questionnaire.question_updated",
            ),
            (
                "c",
                Choice.objects.filter(question__questionnaire=locked),
                choices,
                CHOICE_FIELDS,
                "questionnaire.choice_updated",
            ),
        ]
        for prefix, queryset, edits, fields, action in rows:
            found = {row.pk: row for row in queryset.filter(pk__in=list(edits)).select_for_update()}
            for pk, values in edits.items():
                row = found.get(int(pk))
                if row is None:
                    errors[f"{prefix}{pk}"] = "Not part of this draft."
                    continue
                before = {
                    field: getattr(row, field)
                    for field in fields
                    if field in values and values[field] != getattr(row, field)
                }
                if not before:
                    continue
                for field in before:
                    setattr(row, field, values[field])
                try:
                    row.full_clean()
                except ValidationError as error:
                    for field, messages in error.message_dict.items():
                        errors[f"{prefix}{pk}-{field}"] = messages
                    continue
                changes.append((row, before, {field: values[field] for field in before}, action))
        if errors:
            raise ValidationError(errors)
        for row, before, after, action in changes:
            row.save()
            record_event(actor=actor, action=action, target=row, before=before, after=after)
    return locked


# --- Preview: which assessments a draft would re-tier ----------------------------------------


@dataclass(frozen=True)
class TierChange:
    assessment: RiskAssessment
    current_tier: int
    draft_tier: int
    draft_score: int
    unanswered: tuple

    @property
    def initiative(self):
        return self.assessment.initiative

    @property
    def overridden(self) -> bool:
        """An override keeps the effective tier whatever the new computed tier."""
        return self.assessment.override_tier is not None


def tier_changes(*, user, questionnaire: Questionnaire) -> list[TierChange]:
    """The current assessments (of initiatives ``user`` may see) whose computed tier would
    change if they were scored by ``questionnaire``: their stored answers re-scored with
    ``scoring.score_answers``, nothing written. Three queries whatever the count."""
    specs = questionnaire_specs(questionnaire)
    visible = scope_initiatives(Initiative.objects.all(), user).values("pk")
    assessments = (
        RiskAssessment.objects.filter(is_current=True, initiative__in=visible)
        .select_related("initiative__business_unit")
        .order_by("initiative__reference", "pk")
    )
    changes = []
    for assessment in assessments:
        result = scoring.score_answers(specs, assessment.answers or {})
        if result.tier != assessment.computed_tier:
            changes.append(
                TierChange(
                    assessment=assessment,
                    current_tier=assessment.computed_tier,
                    draft_tier=result.tier,
                    draft_score=result.score,
                    unanswered=result.unanswered,
                )
            )
    return changes


# --- Reads of the library pages --------------------------------------------------------------


def control_library_list(*, user):
    """Every control, retired ones too, with requirements and how many results it has.
    Only CoE admins read the library as a register."""
    _require_library_admin(user)
    return (
        Control.objects.prefetch_related("requirements")
        # distinct: filtering by a gate joins the requirements, which must not multiply it
        .annotate(result_count=Count("results", distinct=True))
        .order_by("-is_active", "code")
    )


def questionnaire_versions(*, user):
    """Every version, newest first, with its question and assessment counts (CoE admins)."""
    _require_library_admin(user)
    return Questionnaire.objects.annotate(
        question_count=Count("questions", distinct=True),
        assessment_count=Count("assessments", distinct=True),
    ).order_by("-version")


def questionnaire_draft_exists() -> bool:
    """Whether a draft is being authored (one at a time, ``questionnaire_draft``)."""
    return Questionnaire.objects.filter(published_at__isnull=True).exists()
