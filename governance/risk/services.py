"""Governance writes: the questionnaire library, risk assessments and overrides, control
evaluation and evidence, and ``gate_blockers`` for the approval engine."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.audit import record_event
from core.gates import is_approved_request, subject_of
from governance.risk import scoring
from governance.risk.choices import (
    MIN_JUSTIFICATION_LENGTH,
    AssessmentStatus,
    Gate,
    Tier,
)
from governance.risk.controls import controls_evaluate
from governance.risk.defaults import DEFAULT_CONTROLS, DEFAULT_QUESTIONS
from governance.risk.models import (
    Choice,
    Control,
    ControlRequirement,
    Question,
    Questionnaire,
    RiskAssessment,
)
from governance.risk.permissions import (
    can_assess,
    can_manage_library,
    can_override_tier,
)
from governance.risk.selectors import subject_fingerprint
from inventory.registry.services import model_tiers_refresh
from portfolio.initiatives.models import Initiative


def library_install_defaults(*, models=None) -> dict:
    """Install the default questionnaire (v1, published, active) and control library.

    Idempotent. ``models`` maps model names to (historical) model classes so a data
    migration can call it; services use the real models.
    """
    models = models or {
        "Questionnaire": Questionnaire,
        "Question": Question,
        "Choice": Choice,
        "Control": Control,
        "ControlRequirement": ControlRequirement,
    }
    created = {"questionnaires": 0, "controls": 0}
    with transaction.atomic():
        if not models["Questionnaire"].objects.exists():
            questionnaire = models["Questionnaire"].objects.create(
                version=1,
                title="Keel AI risk questionnaire",
                is_active=True,
                published_at=timezone.now(),
            )
            _create_questions(models, questionnaire, DEFAULT_QUESTIONS)
            created["questionnaires"] = 1
        for spec in DEFAULT_CONTROLS:
            control, was_created = models["Control"].objects.get_or_create(
                code=spec["code"],
                defaults={
                    "title": spec["title"],
                    "description": spec["description"],
                    "kind": spec["kind"],
                    "applies_when": spec["applies_when"],
                    "eu_ai_act_article": spec["eu_ai_act"],
                    "nist_function": spec["nist"],
                    "iso_42001_clause": spec["iso"],
                },
            )
            if was_created:
                created["controls"] += 1
                models["ControlRequirement"].objects.bulk_create(
                    models["ControlRequirement"](control=control, gate=gate, minimum_tier=tier)
                    for gate, tier in spec["required"]
                )
    return created


def _create_questions(models, questionnaire, specs) -> None:
    for order, spec in enumerate(specs):
        question = models["Question"].objects.create(
            questionnaire=questionnaire,
            key=spec["key"],
            order=order,
            text=spec["text"],
            help_text=spec.get("help", ""),
            answer_type=spec["type"],
            number_bands=spec.get("bands", []),
        )
        models["Choice"].objects.bulk_create(
            models["Choice"](
                question=question,
                key=choice["key"],
                label=choice["label"],
                order=index,
                weight=choice.get("weight", 0),
                tier_floor=choice.get("floor", Tier.MINIMAL),
                reason=choice.get("reason", ""),
            )
            for index, choice in enumerate(spec.get("choices", []))
        )


def questionnaire_specs(questionnaire: Questionnaire) -> tuple[scoring.QuestionSpec, ...]:
    """The questionnaire as plain data for the scoring function (two queries)."""
    questions = questionnaire.questions.prefetch_related("choices")
    return tuple(
        scoring.QuestionSpec(
            key=question.key,
            text=question.text,
            answer_type=question.answer_type,
            choices=tuple(
                scoring.ChoiceSpec(
                    key=choice.key,
                    label=choice.label,
                    weight=choice.weight,
                    tier_floor=choice.tier_floor,
                    reason=choice.reason,
                )
                for choice in question.choices.all()
            ),
            number_bands=tuple((float(low), int(weight)) for low, weight in question.number_bands),
        )
        for question in questions
    )


def active_questionnaire() -> Questionnaire:
    questionnaire = Questionnaire.objects.filter(is_active=True).first()
    if questionnaire is None:
        library_install_defaults()
        questionnaire = Questionnaire.objects.get(is_active=True)
    return questionnaire


def questionnaire_new_version(*, actor, source: Questionnaire) -> Questionnaire:
    """Copy ``source`` into a new unpublished version that CoE admins can edit."""
    if not can_manage_library(actor):
        raise PermissionDenied("Only CoE admins can change the questionnaire.")
    with transaction.atomic():
        latest = Questionnaire.objects.select_for_update().order_by("-version").first()
        draft = Questionnaire.objects.create(version=latest.version + 1, title=source.title)
        specs = [
            {
                "key": question.key,
                "text": question.text,
                "help": question.help_text,
                "type": question.answer_type,
                "bands": question.number_bands,
                "choices": [
                    {
                        "key": choice.key,
                        "label": choice.label,
                        "weight": choice.weight,
                        "floor": choice.tier_floor,
                        "reason": choice.reason,
                    }
                    for choice in question.choices.all()
                ],
            }
            for question in source.questions.prefetch_related("choices")
        ]
        _create_questions({"Question": Question, "Choice": Choice}, draft, specs)
        record_event(
            actor=actor,
            action="questionnaire.drafted",
            target=draft,
            after={"version": draft.version, "from_version": source.version},
        )
    return draft


# Hooks of higher contexts (the approval engine) that may hold a draft still: each takes
# the questionnaire and returns why it cannot be edited now, or "". Registered from
# ``AppConfig.ready()``; risk never imports them.
_QUESTIONNAIRE_EDIT_GUARDS: list = []


def register_questionnaire_edit_guard(guard) -> None:
    if guard not in _QUESTIONNAIRE_EDIT_GUARDS:
        _QUESTIONNAIRE_EDIT_GUARDS.append(guard)


def questionnaire_edit_problem(questionnaire: Questionnaire) -> str:
    """Why the questionnaire cannot be edited now ("" when it can): published versions
    never change, and a draft submitted for publication waits for its decision."""
    if questionnaire.is_published:
        return (
            f"Questionnaire v{questionnaire.version} is published and cannot be edited; "
            "create a new version instead."
        )
    for guard in _QUESTIONNAIRE_EDIT_GUARDS:
        problem = guard(questionnaire)
        if problem:
            return problem
    return ""


def _refuse_if_published(questionnaire: Questionnaire) -> None:
    problem = questionnaire_edit_problem(questionnaire)
    if problem:
        raise ValidationError(problem)


def _edit_unpublished(*, actor, queryset, pk, questionnaire_of, data, fields, action):
    """Apply ``data`` (only ``fields``) to one row of an unpublished questionnaire, audited."""
    if not can_manage_library(actor):
        raise PermissionDenied("Only CoE admins can change the questionnaire.")
    with transaction.atomic():
        locked = queryset.select_for_update().get(pk=pk)
        _refuse_if_published(questionnaire_of(locked))
        before = {field: getattr(locked, field) for field in fields if field in data}
        for field in before:
            setattr(locked, field, data[field])
        locked.full_clean()
        locked.save()
        record_event(
            actor=actor,
            action=action,
            target=locked,
            before=before,
            after={field: data[field] for field in before},
        )
    return locked


def choice_update(*, actor, choice: Choice, data: dict) -> Choice:
    """Change a choice's label, weight, floor or reason on an unpublished questionnaire."""
    return _edit_unpublished(
        actor=actor,
        queryset=Choice.objects.select_related("question__questionnaire"),
        pk=choice.pk,
        questionnaire_of=lambda row: row.question.questionnaire,
        data=data,
        fields=("label", "weight", "tier_floor", "reason"),
        action="questionnaire.choice_updated",
    )


def question_update(*, actor, question: Question, data: dict) -> Question:
    """Change a question's wording, help, bands or order on an unpublished questionnaire."""
    return _edit_unpublished(
        actor=actor,
        queryset=Question.objects.select_related("questionnaire"),
        pk=question.pk,
        questionnaire_of=lambda row: row.questionnaire,
        data=data,
        fields=("text", "help_text", "number_bands", "order"),
        action="questionnaire.question_updated",
    )


def questionnaire_publish(*, actor, questionnaire: Questionnaire, via_gate=None) -> Questionnaire:
    """Publish a draft version and make it the active one. Past assessments keep the
    version they answered, so their tiers never change.

    In the app this runs as the effect of an approved ``questionnaire`` gate request
    (``via_gate``), whose last approver is ``actor``; without one, only a CoE admin may."""
    approved = is_approved_request(
        via_gate, gate=Gate.QUESTIONNAIRE, subject=subject_of(questionnaire)
    )
    if not approved and not can_manage_library(actor):
        raise PermissionDenied("Only CoE admins can publish the questionnaire.")
    with transaction.atomic():
        locked = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
        _refuse_if_published(locked)
        previous = Questionnaire.objects.filter(is_active=True).first()
        Questionnaire.objects.filter(is_active=True).update(is_active=False)
        locked.published_at = timezone.now()
        locked.is_active = True
        locked.save(update_fields=["published_at", "is_active"])
        record_event(
            actor=actor,
            action="questionnaire.published",
            target=locked,
            before={"active_version": previous.version if previous else None},
            after={"active_version": locked.version},
            reason=f"Approved through request #{via_gate.pk}." if approved else "",
        )
    return locked


def assessment_start(*, actor, initiative: Initiative) -> RiskAssessment:
    """The initiative's draft assessment on the active questionnaire (created if needed),
    pre-filled with the answers of its current assessment when that used the same version."""
    if not can_assess(actor, initiative):
        raise PermissionDenied("You cannot assess this initiative.")
    with transaction.atomic():
        Initiative.objects.select_for_update().filter(pk=initiative.pk).first()
        draft = RiskAssessment.objects.filter(
            initiative=initiative, status=AssessmentStatus.DRAFT
        ).first()
        if draft is not None:
            return draft
        questionnaire = active_questionnaire()
        current = RiskAssessment.objects.filter(initiative=initiative, is_current=True).first()
        answers = (
            dict(current.answers)
            if current is not None and current.questionnaire_id == questionnaire.pk
            else {}
        )
        draft = RiskAssessment.objects.create(
            initiative=initiative, questionnaire=questionnaire, answers=answers, assessed_by=actor
        )
        _recompute(draft)
        draft.save()
        record_event(
            actor=actor,
            action="risk_assessment.started",
            target=draft,
            after={"initiative": initiative.pk, "questionnaire_version": questionnaire.version},
        )
    return draft


def _recompute(assessment: RiskAssessment) -> scoring.TierResult:
    result = scoring.score_answers(
        questionnaire_specs(assessment.questionnaire), assessment.answers
    )
    assessment.computed_tier = result.tier
    assessment.score = result.score
    assessment.rationale = list(result.rationale)
    return result


def clean_answer(question: Question, value):
    """Validate one answer against its question; return the normalised value."""
    keys = {choice.key for choice in question.choices.all()}
    if value in (None, "", []):
        return None
    if question.answer_type == "multi":
        values = value if isinstance(value, list | tuple) else [value]
        unknown = [str(item) for item in values if not isinstance(item, str) or item not in keys]
        if unknown:
            raise ValidationError({question.key: f"Unknown choice(s): {', '.join(unknown)}."})
        if "none" in values and len(values) > 1:
            raise ValidationError(
                {question.key: "“None of these” cannot be combined with other answers."}
            )
        return sorted(set(values))
    if question.answer_type == "number":
        if isinstance(value, bool):
            raise ValidationError({question.key: "Enter a number."})
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValidationError({question.key: "Enter a number."}) from None
        if number < 0:
            raise ValidationError({question.key: "Enter a number of zero or more."})
        return int(number) if number.is_integer() else number
    if question.answer_type == "yes_no" and isinstance(value, bool):
        value = "yes" if value else "no"
    if not isinstance(value, str) or value not in keys:
        raise ValidationError({question.key: f"Unknown choice: {value}."})
    return value


def assessment_answer(*, actor, assessment: RiskAssessment, answers: dict) -> scoring.TierResult:
    """Save answers to a draft assessment and return the live tier and rationale."""
    if not can_assess(actor, assessment.initiative):
        raise PermissionDenied("You cannot assess this initiative.")
    with transaction.atomic():
        locked = RiskAssessment.objects.select_for_update().get(pk=assessment.pk)
        if locked.status != AssessmentStatus.DRAFT:
            raise ValidationError("This assessment is completed; start a new one to change it.")
        questions = {
            question.key: question
            for question in locked.questionnaire.questions.prefetch_related("choices")
        }
        errors = {}
        merged = dict(locked.answers)
        for key, value in answers.items():
            if key not in questions:
                errors[key] = "Unknown question."
                continue
            try:
                cleaned = clean_answer(questions[key], value)
            except ValidationError as error:
                errors.update(error.message_dict)
                continue
            if cleaned is None:
                merged.pop(key, None)
            else:
                merged[key] = cleaned
        if errors:
            raise ValidationError(errors)
        locked.answers = merged
        result = _recompute(locked)
        locked.save()
    assessment.answers, assessment.computed_tier = locked.answers, locked.computed_tier
    return result


def assessment_complete(*, actor, assessment: RiskAssessment) -> RiskAssessment:
    """Complete a draft: every question answered; it becomes the initiative's current
    assessment, the previous one is superseded, and automated controls are re-evaluated."""
    if not can_assess(actor, assessment.initiative):
        raise PermissionDenied("You cannot assess this initiative.")
    with transaction.atomic():
        locked = (
            RiskAssessment.objects.select_for_update()
            .select_related("initiative")
            .get(pk=assessment.pk)
        )
        if locked.status != AssessmentStatus.DRAFT:
            raise ValidationError("This assessment is already completed.")
        result = _recompute(locked)
        if not result.complete:
            raise ValidationError({key: "Answer this question." for key in result.unanswered})
        previous = RiskAssessment.objects.filter(
            initiative_id=locked.initiative_id, is_current=True
        ).first()
        if previous is not None:
            previous.is_current = False
            previous.status = AssessmentStatus.SUPERSEDED
            previous.save(update_fields=["is_current", "status", "updated_at"])
        locked.status = AssessmentStatus.COMPLETED
        locked.is_current = True
        locked.completed_at = timezone.now()
        locked.assessed_by = actor
        locked.subject_fingerprint = subject_fingerprint(locked.initiative)
        locked.save()
        record_event(
            actor=actor,
            action="risk_assessment.completed",
            target=locked,
            before={"tier": previous.effective_tier if previous else None},
            after={
                "computed_tier": locked.computed_tier,
                "score": locked.score,
                "answers": locked.answers,
            },
        )
        model_tiers_refresh(actor=actor, initiative_ids=[locked.initiative_id])
        controls_evaluate(initiative=locked.initiative)
    return locked


def assessment_override(*, actor, assessment: RiskAssessment, tier, justification: str):
    """A risk officer sets a different tier with a written justification (or clears it with
    ``tier=None``). The computed tier is kept beside the override."""
    if not can_override_tier(actor):
        raise PermissionDenied("Only risk officers can override a risk tier.")
    justification = (justification or "").strip()
    if len(justification) < MIN_JUSTIFICATION_LENGTH:
        raise ValidationError(
            {
                "justification": "Write a justification of at least "
                f"{MIN_JUSTIFICATION_LENGTH} characters."
            }
        )
    if tier is not None and int(tier) not in Tier.values:
        raise ValidationError({"tier": "Choose a tier from 1 to 4."})
    with transaction.atomic():
        locked = (
            RiskAssessment.objects.select_for_update()
            .select_related("initiative")
            .get(pk=assessment.pk)
        )
        if locked.status != AssessmentStatus.COMPLETED or not locked.is_current:
            raise ValidationError("Only the current completed assessment can be overridden.")
        before = {"override_tier": locked.override_tier, "computed_tier": locked.computed_tier}
        locked.override_tier = int(tier) if tier is not None else None
        locked.override_justification = justification if tier is not None else ""
        locked.overridden_by = actor if tier is not None else None
        locked.overridden_at = timezone.now() if tier is not None else None
        locked.save()
        record_event(
            actor=actor,
            action="risk_assessment.overridden"
            if tier is not None
            else "risk_assessment.override_cleared",
            target=locked,
            before=before,
            after={"override_tier": locked.override_tier, "computed_tier": locked.computed_tier},
            reason=justification,
        )
        model_tiers_refresh(actor=actor, initiative_ids=[locked.initiative_id])
        controls_evaluate(initiative=locked.initiative)
    return locked
