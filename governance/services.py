"""Governance writes: the questionnaire library, risk assessments and overrides, control
evaluation and evidence, and ``gate_blockers`` for the approval engine."""

import hashlib
import mimetypes
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models.functions import Coalesce
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from core.audit import record_event
from inventory.model_services import model_tiers_refresh
from portfolio.choices import Stage
from portfolio.models import Initiative

from . import scoring
from .choices import (
    SATISFYING_STATUSES,
    Applicability,
    AssessmentStatus,
    ControlKind,
    Gate,
    ResultStatus,
    Tier,
)
from .defaults import DEFAULT_CONTROLS, DEFAULT_QUESTIONS
from .models import (
    Choice,
    Control,
    ControlRequirement,
    ControlResult,
    Question,
    Questionnaire,
    RiskAssessment,
)
from .permissions import (
    can_assess,
    can_manage_library,
    can_override_tier,
    can_review_controls,
    can_submit_evidence,
    can_waive_controls,
)

REASSESS_AFTER = timedelta(days=365)
MIN_JUSTIFICATION_LENGTH = 20


# --- Library -----------------------------------------------------------------------------


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


def _refuse_if_published(questionnaire: Questionnaire) -> None:
    if questionnaire.is_published:
        raise ValidationError(
            f"Questionnaire v{questionnaire.version} is published and cannot be edited; "
            "create a new version instead."
        )


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


def questionnaire_publish(*, actor, questionnaire: Questionnaire) -> Questionnaire:
    """Publish a draft version and make it the active one. Past assessments keep the
    version they answered, so their tiers never change."""
    if not can_manage_library(actor):
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
        )
    return locked


# --- Assessments -------------------------------------------------------------------------


def subject_fingerprint(initiative: Initiative) -> str:
    """What an assessment depends on: purpose, outputs, data and linked models."""
    model_ids = sorted(initiative.ai_models.values_list("pk", flat=True))
    subject = "|".join(
        [
            initiative.purpose.strip(),
            initiative.outputs.strip(),
            initiative.data_sensitivity,
            str(initiative.uses_pii),
            initiative.ai_type,
            ",".join(map(str, model_ids)),
        ]
    )
    return hashlib.sha256(subject.encode()).hexdigest()


def reassessment_reasons(assessment: RiskAssessment | None, initiative: Initiative) -> list[str]:
    """Why an initiative needs a (new) assessment; empty when its current one holds."""
    if assessment is None:
        return ["No completed risk assessment."]
    reasons = []
    if assessment.completed_at and timezone.now() - assessment.completed_at > REASSESS_AFTER:
        reasons.append("The assessment is more than 12 months old.")
    if assessment.subject_fingerprint != subject_fingerprint(initiative):
        reasons.append("The purpose, data or models changed since the assessment.")
    return reasons


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


def current_tier(initiative: Initiative) -> int | None:
    assessment = RiskAssessment.objects.filter(initiative=initiative, is_current=True).first()
    return assessment.effective_tier if assessment else None


def current_tiers(initiative_ids) -> dict[int, int | None]:
    """{initiative id: effective tier of its current assessment} in one query (the tier
    source the inventory uses for models' effective tiers)."""
    rows = RiskAssessment.objects.filter(initiative_id__in=list(initiative_ids), is_current=True)
    return dict(
        rows.annotate(tier=Coalesce("override_tier", "computed_tier")).values_list(
            "initiative_id", "tier"
        )
    )


# --- Controls ----------------------------------------------------------------------------

ALLOWED_EVIDENCE_TYPES = {
    ".pdf": b"%PDF",
    ".png": b"\x89PNG",
    ".jpg": b"\xff\xd8\xff",
    ".jpeg": b"\xff\xd8\xff",
    ".docx": b"PK\x03\x04",
    ".xlsx": b"PK\x03\x04",
    ".pptx": b"PK\x03\x04",
    ".txt": None,
    ".md": None,
    ".csv": None,
}


def validate_evidence_file(upload) -> None:
    """Refuse oversized files and types outside the allow-list (by extension and content)."""
    limit = settings.KEEL_EVIDENCE_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            {
                "evidence_file": f"The file is {filesizeformat(upload.size)}; the limit is "
                f"{filesizeformat(limit)}."
            }
        )
    extension = Path(upload.name).suffix.lower()
    if extension not in ALLOWED_EVIDENCE_TYPES:
        allowed = ", ".join(sorted(ALLOWED_EVIDENCE_TYPES))
        raise ValidationError(
            {
                "evidence_file": f"Files of type {extension or '(none)'} are not accepted; "
                f"use {allowed}."
            }
        )
    head = upload.read(2048)
    upload.seek(0)
    signature = ALLOWED_EVIDENCE_TYPES[extension]
    if signature is not None and not head.startswith(signature):
        raise ValidationError(
            {"evidence_file": f"The file's content does not look like a {extension} file."}
        )
    if signature is None:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError(
                {"evidence_file": "Text evidence must be UTF-8 encoded text."}
            ) from None


def evidence_content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _answers_of(initiative: Initiative) -> dict:
    assessment = RiskAssessment.objects.filter(initiative=initiative, is_current=True).first()
    return assessment.answers if assessment else {}


def control_applies(control: Control, initiative: Initiative, answers: dict, has_models: bool):
    rule = control.applies_when
    if rule == Applicability.PERSONAL_DATA:
        return (
            initiative.uses_pii
            or initiative.data_sensitivity
            in (
                "personal",
                "special_category",
            )
            or answers.get("data_sensitivity") in ("personal", "special_category")
        )
    if rule == Applicability.GENERATIVE:
        return initiative.ai_type in ("generative", "agentic") or answers.get("generative_ai") in (
            "internal",
            "customer_facing",
        )
    if rule == Applicability.THIRD_PARTY:
        return (
            initiative.sourcing in ("vendor", "both") or answers.get("third_party_model") == "yes"
        )
    if rule == Applicability.PEOPLE_FACING:
        affected = answers.get("affected_people") or []
        return (
            bool({"customers", "public"} & set(affected))
            or answers.get("generative_ai") == "customer_facing"
        )
    if rule == Applicability.HAS_MODELS:
        return has_models
    return True


def _evaluate_automated(code: str, initiative: Initiative, assessment) -> tuple[str, str]:
    if code == "GOV-01":
        owner = initiative.accountable_owner
        if owner is not None and owner.is_active:
            return ResultStatus.PASSING, f"Accountable owner: {owner.get_username()}."
        return ResultStatus.FAILING, "No active accountable owner."
    if code == "RISK-01":
        reasons = reassessment_reasons(assessment, initiative)
        if reasons:
            return ResultStatus.FAILING, " ".join(reasons)
        return ResultStatus.PASSING, f"Assessed {assessment.completed_at:%d %b %Y}."
    if code == "TIER-01":
        tier = assessment.effective_tier if assessment else None
        if tier == Tier.UNACCEPTABLE:
            return ResultStatus.FAILING, "Tier 4: prohibited practice; no gate can pass."
        return ResultStatus.PASSING, "Not an unacceptable-risk use."
    if code == "MOD-01":
        from inventory.services import model_cards_incomplete

        incomplete = model_cards_incomplete(initiative=initiative)
        if incomplete:
            return ResultStatus.FAILING, "Model card incomplete: " + "; ".join(incomplete)
        return ResultStatus.PASSING, "Every linked model has a complete model card."
    if code == "MON-02":
        from inventory.selectors import drifting_versions

        drifting = drifting_versions(initiative=initiative)
        if drifting:
            return ResultStatus.FAILING, "Drifting in production: " + ", ".join(drifting)
        return ResultStatus.PASSING, "No model in production reports drift."
    return ResultStatus.PENDING, "No evaluator for this control."


def _evaluations(initiative: Initiative, existing: dict):
    """For each active control: (control, stored result or None, fresh status, detail).

    The fresh status is None where the stored (manual, reviewed) status stands. Reads only.
    """
    assessment = RiskAssessment.objects.filter(initiative=initiative, is_current=True).first()
    answers = assessment.answers if assessment else {}
    has_models = initiative.ai_models.exists()
    for control in Control.objects.filter(is_active=True):
        result = existing.get(control.pk)
        if not control_applies(control, initiative, answers, has_models):
            yield control, result, ResultStatus.NOT_APPLICABLE, control.get_applies_when_display()
        elif control.kind == ControlKind.AUTOMATED:
            yield control, result, *_evaluate_automated(control.code, initiative, assessment)
        elif result is None or (
            result.status == ResultStatus.NOT_APPLICABLE and result.reviewer_id is None
        ):
            # No evidence yet, or it applied to nothing before and now needs evidence.
            yield control, result, ResultStatus.PENDING, ""
        else:
            yield control, result, None, result.detail


def controls_evaluate(*, initiative: Initiative) -> dict[str, str]:
    """Re-evaluate automated controls and the applicability of manual ones.

    Writes only results whose status or detail changed (each change audited) and returns
    {control code: status}. The initiative's row lock serialises concurrent evaluations.
    """
    now = timezone.now()
    statuses = {}
    with transaction.atomic():
        Initiative.objects.select_for_update().filter(pk=initiative.pk).first()
        existing = {
            result.control_id: result
            for result in ControlResult.objects.filter(initiative=initiative).select_for_update()
        }
        tier = current_tier(initiative)
        required = {
            requirement.control_id
            for requirement in required_controls(
                tier=tier, gates=compliance_gates(initiative.stage)
            )
        }
        for control, result, status, detail in _evaluations(initiative, existing):
            is_required = control.pk in required
            statuses[control.code] = status if status is not None else result.status
            if status is None:
                if result.is_required != is_required:
                    result.is_required = is_required
                    result.save(update_fields=["is_required", "updated_at"])
                continue
            unchanged = result is not None and (
                result.status,
                result.detail,
                result.is_required,
            ) == (status, detail, is_required)
            if unchanged:
                continue
            before = {"status": result.status} if result is not None else {}
            result = result or ControlResult(initiative=initiative, control=control)
            result.status, result.detail, result.evaluated_at = status, detail, now
            result.is_required = is_required
            result.save()
            if before.get("status") != status:
                record_event(
                    actor=None,
                    action="control.evaluated",
                    target=result,
                    before=before,
                    after={"status": status, "detail": detail},
                )
    return statuses


def control_evidence_submit(
    *,
    actor,
    initiative: Initiative,
    control: Control,
    evidence_file=None,
    evidence_link="",
    note="",
) -> ControlResult:
    """Attach evidence to a manual control; it then awaits review (status pending)."""
    if not can_submit_evidence(actor, initiative):
        raise PermissionDenied("You cannot add evidence to this initiative.")
    if control.kind != ControlKind.MANUAL:
        raise ValidationError("Automated controls are evaluated by Keel, not evidenced.")
    if evidence_file is None and not evidence_link:
        raise ValidationError({"evidence_file": "Upload a file or give a link."})
    if evidence_file is not None:
        validate_evidence_file(evidence_file)
    with transaction.atomic():
        result, _ = ControlResult.objects.select_for_update().get_or_create(
            initiative=initiative, control=control
        )
        before = {
            "status": result.status,
            "evidence": result.evidence_file.name or result.evidence_link,
        }
        if evidence_link:
            result.evidence_link = evidence_link
        result.status = ResultStatus.PENDING
        result.detail = note
        result.reviewer = None
        result.reviewed_at = None
        result.waiver_expires_on = None
        result.full_clean(exclude=["evidence_file"])
        if evidence_file is not None:
            result.evidence_file.save(evidence_file.name, evidence_file, save=False)
        result.save()
        record_event(
            actor=actor,
            action="control.evidence_submitted",
            target=result,
            before=before,
            after={
                "status": result.status,
                "evidence": result.evidence_file.name or result.evidence_link,
            },
            reason=note,
        )
    return result


def control_review(*, actor, result: ControlResult, status: str, note: str = "") -> ControlResult:
    """A reviewer marks a manual control passing or failing (never their own initiative's)."""
    if not can_review_controls(actor):
        raise PermissionDenied("Only CoE reviewers and risk officers review controls.")
    if status not in (ResultStatus.PASSING, ResultStatus.FAILING):
        raise ValidationError({"status": "Choose passing or failing."})
    initiative = result.initiative
    if actor.pk in (initiative.accountable_owner_id, initiative.technical_lead_id):
        raise PermissionDenied("You cannot review controls of an initiative you own or lead.")
    if status == ResultStatus.PASSING and not (result.evidence_file or result.evidence_link):
        raise ValidationError({"status": "A control cannot pass without evidence."})
    with transaction.atomic():
        locked = ControlResult.objects.select_for_update().get(pk=result.pk)
        before = {"status": locked.status}
        locked.status, locked.detail = status, note or locked.detail
        locked.reviewer, locked.reviewed_at = actor, timezone.now()
        locked.waiver_expires_on = None
        locked.save()
        record_event(
            actor=actor,
            action="control.reviewed",
            target=locked,
            before=before,
            after={"status": status},
            reason=note,
        )
    return locked


def control_waive(
    *, actor, initiative: Initiative, control: Control, expires_on, reason: str
) -> ControlResult:
    """Waive a control until ``expires_on`` with a written reason (risk officers, CoE admins)."""
    if not can_waive_controls(actor):
        raise PermissionDenied("Only risk officers and CoE admins can waive controls.")
    reason = (reason or "").strip()
    errors = {}
    if len(reason) < MIN_JUSTIFICATION_LENGTH:
        errors["reason"] = f"Write a reason of at least {MIN_JUSTIFICATION_LENGTH} characters."
    if expires_on is None or expires_on <= timezone.localdate():
        errors["expires_on"] = "A waiver needs an expiry date in the future."
    elif expires_on > timezone.localdate() + timedelta(days=366):
        errors["expires_on"] = "A waiver can last at most a year."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        result, _ = ControlResult.objects.select_for_update().get_or_create(
            initiative=initiative, control=control
        )
        before = {"status": result.status}
        result.status = ResultStatus.WAIVED
        result.waiver_expires_on = expires_on
        result.detail = reason
        result.reviewer, result.reviewed_at = actor, timezone.now()
        result.save()
        record_event(
            actor=actor,
            action="control.waived",
            target=result,
            before=before,
            after={"status": ResultStatus.WAIVED, "expires_on": expires_on},
            reason=reason,
        )
        controls_evaluate(initiative=initiative)
    return result


# --- Gate blockers and compliance -----------------------------------------------------------

# The gate an initiative faces next, by stage.
NEXT_GATE = {
    Stage.DRAFT: Gate.INTAKE,
    Stage.PROPOSED: Gate.PILOT,
    Stage.PILOT: Gate.PRODUCTION,
    Stage.PRODUCTION: Gate.SCALE,
    Stage.SCALED: Gate.SCALE,
    Stage.PAUSED: Gate.PILOT,
}
GATE_ORDER = [Gate.INTAKE, Gate.PILOT, Gate.PRODUCTION, Gate.SCALE]


@dataclass(frozen=True)
class Blocker:
    code: str
    title: str
    status: str
    reason: str

    def __str__(self):
        return f"{self.code} {self.title}: {self.reason}"


def result_satisfies(result: ControlResult | None, today=None) -> bool:
    if result is None:
        return False
    if result.status == ResultStatus.WAIVED:
        return result.waiver_expires_on is not None and result.waiver_expires_on >= (
            today or timezone.localdate()
        )
    return result.status in SATISFYING_STATUSES


def required_controls(*, tier: int | None, gates) -> list[ControlRequirement]:
    """Requirements of ``gates`` that apply to ``tier`` (an unassessed initiative is treated
    as Tier 1, and the assessment control itself fails)."""
    return list(
        ControlRequirement.objects.filter(
            gate__in=list(gates), minimum_tier__lte=tier or Tier.MINIMAL, control__is_active=True
        ).select_related("control")
    )


def gate_blockers(initiative: Initiative, gate: str) -> list[Blocker]:
    """Every required control of ``gate`` that is not satisfied, with the reason.

    Automated controls and applicability are evaluated afresh in memory (nothing is written,
    so a GET may call this); manual controls use their stored, reviewed results.
    """
    tier = current_tier(initiative)
    required = {r.control_id for r in required_controls(tier=tier, gates=[gate])}
    existing = {
        result.control_id: result for result in ControlResult.objects.filter(initiative=initiative)
    }
    today = timezone.localdate()
    blockers = []
    for control, result, fresh, detail in _evaluations(initiative, existing):
        if control.pk not in required:
            continue
        status = fresh if fresh is not None else result.status
        if status in SATISFYING_STATUSES or (
            status == ResultStatus.WAIVED and result_satisfies(result, today)
        ):
            continue
        if status == ResultStatus.WAIVED:
            reason = f"Waiver expired on {result.waiver_expires_on:%d %b %Y}."
        elif status == ResultStatus.PENDING:
            reason = "Evidence missing or awaiting review."
        else:
            reason = detail or "Failing."
        blockers.append(Blocker(control.code, control.title, status, reason))
    return blockers


def compliance_gates(stage: str) -> list[str]:
    """Gates counted for compliance: those passed so far and the next one."""
    next_gate = NEXT_GATE.get(stage, Gate.INTAKE)
    return GATE_ORDER[: GATE_ORDER.index(next_gate) + 1]


def controls_evaluate_all(chunk_size: int = 500) -> int:
    """Re-evaluate automated controls of every initiative not retired or rejected."""
    count = 0
    live = Initiative.objects.exclude(stage__in=[Stage.RETIRED, Stage.REJECTED]).select_related(
        "accountable_owner"
    )
    for initiative in live.iterator(chunk_size=chunk_size):
        controls_evaluate(initiative=initiative)
        count += 1
    return count


def schedule_controls_evaluation(initiative_id: int) -> None:
    """Portfolio change hook: evaluate the initiative's controls in the background."""
    from .tasks import evaluate_controls_task

    evaluate_controls_task.delay(initiative_id)


def automated_controls_pass(initiative: Initiative) -> bool:
    """Every applicable automated control passes (the fast-path condition). Reads only."""
    existing = {
        result.control_id: result for result in ControlResult.objects.filter(initiative=initiative)
    }
    return all(
        status in (ResultStatus.PASSING, ResultStatus.NOT_APPLICABLE)
        for control, _, status, _ in _evaluations(initiative, existing)
        if control.kind == ControlKind.AUTOMATED
    )
