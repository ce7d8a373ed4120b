"""Applying an import plan: creates and updates in one transaction, with their assessments,
stage history and audit events, and progress reported per batch."""

import datetime
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.audit import record_events
from core.services import sequence_next, snapshot
from governance.imports.fields import IMPACT_RIGHTS, IMPACT_SAFETY
from governance.imports.plan import AUDITED_FIELDS, CREATE, REJECT, UPDATE, Plan
from governance.risk.services import active_questionnaire, questionnaire_specs
from inventory.registry.models import AIModel
from portfolio.initiatives.choices import DeploymentStatus, Stage
from portfolio.initiatives.models import Deployment, Initiative, StageChange, format_reference
from portfolio.initiatives.services import (
    REFERENCE_SEQUENCE,
    initiatives_changed,
)

# Rows per bulk write, and so per progress report.
BATCH_SIZE = 500


def _new_assessment(row, questionnaire, specs, actor, now, filename):
    from governance.risk import scoring
    from governance.risk.choices import AssessmentStatus
    from governance.risk.models import RiskAssessment

    current = row.current_assessment
    answers = (
        dict(current.answers)
        if current is not None and current.questionnaire_id == questionnaire.pk
        else {}
    )
    answers.update(dict.fromkeys(row.impact, "yes"))
    for key in (IMPACT_RIGHTS, IMPACT_SAFETY):
        answers.setdefault(key, "no")  # the file answered the impact question
    result = scoring.score_answers(specs, answers)
    stated = " and ".join(key.replace("_", "-") for key in row.impact) or (
        "neither rights- nor safety-impacting"
    )
    return RiskAssessment(
        initiative=row.initiative,
        questionnaire=questionnaire,
        answers=answers,
        status=AssessmentStatus.COMPLETED,
        is_current=True,
        computed_tier=result.tier,
        score=result.score,
        rationale=[
            *result.rationale,
            f"From import, not yet assessed: {filename or 'an inventory file'} says {stated}. "
            "Answer the remaining questions in a reassessment.",
            *(f"Reported (M-25-21) — {practice}" for practice in row.practices),
        ],
        subject_fingerprint="",
        provisional=True,
        assessed_by=actor,
        completed_at=now,
    )


# The path an imported initiative took, with the date field that says when it got there.
HISTORY_PATH = (
    (Stage.PROPOSED, "initiated_on"),
    (Stage.PILOT, "pilot_started_on"),
    (Stage.PRODUCTION, "production_on"),
    (Stage.SCALED, None),
    (Stage.RETIRED, "retired_on"),
)


def _midnight(day) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)


def imported_history(initiative, now) -> list[tuple[str, str, datetime.datetime]]:
    """(from, to, when) for a new initiative: the steps of ``HISTORY_PATH`` up to its stage
    that the file dates (initiated, pilot, production, retired), then its stage, dated by its
    own field or, without one, the import; so trends and the scaling gap use the publisher's
    dates rather than the day of the import."""
    stages = [stage for stage, _ in HISTORY_PATH]
    final = initiative.stage
    steps = []
    if final in stages:
        for stage, name in HISTORY_PATH[: stages.index(final)]:
            day = getattr(initiative, name) if name else None
            if day is not None:
                steps.append((stage, _midnight(day)))
    own = dict(HISTORY_PATH).get(final)
    day = getattr(initiative, own) if own else None
    steps.append((final, _midnight(day) if day is not None else now))
    history, previous, last = [], "", None
    for stage, when in steps:
        if last is not None and when < last:
            when = last  # dates out of order in the file: keep the history in order
        history.append((previous, stage, when))
        previous, last = stage, when
    return history


def apply_plan(plan: Plan, actor, progress=None, *, job=None) -> dict:
    """Write the plan in one transaction; returns the counts and the ids written. Any error
    rolls everything back (the caller records the failure)."""
    from governance.risk.models import RiskAssessment
    from inventory.registry.services import model_tiers_refresh

    progress = progress or (lambda done, total: None)
    creates = [row for row in plan.rows if row.action == CREATE]
    updates = [row for row in plan.rows if row.action == UPDATE]
    total = len(creates) + len(updates)
    done = 0
    progress(done, total)
    now = timezone.now()
    reason = f"Imported from {plan.filename or 'an inventory file'}"
    events: list[tuple] = []
    with transaction.atomic():
        for unit in plan.new_units:
            unit.save()
            events.append(
                ("business_unit.created", unit, {}, snapshot(unit, ["name", "code", "parent"]))
            )
        if plan.new_people:
            get_user_model().objects.bulk_create(plan.new_people, batch_size=BATCH_SIZE)
            for person in plan.new_people:
                events.append(
                    (
                        "user.placeholder_created",
                        person,
                        {},
                        {"username": person.username, "email": person.email},
                    )
                )
        if plan.new_models:
            AIModel.objects.bulk_create(plan.new_models, batch_size=BATCH_SIZE)
            for model in plan.new_models:
                events.append(
                    (
                        "ai_model.created",
                        model,
                        {},
                        snapshot(model, ["name", "model_type", "business_unit", "owner"]),
                    )
                )

        if creates:
            last = sequence_next(REFERENCE_SEQUENCE, len(creates))
            first = last - len(creates) + 1
            for offset, row in enumerate(creates):
                initiative = row.initiative
                initiative.reference = format_reference(first + offset)
                row.reference = initiative.reference
            for start in range(0, len(creates), BATCH_SIZE):
                batch = creates[start : start + BATCH_SIZE]
                Initiative.objects.bulk_create([row.initiative for row in batch])
                done += len(batch)
                progress(done, total)
            StageChange.objects.bulk_create(
                [
                    StageChange(
                        initiative=row.initiative,
                        from_stage=from_stage,
                        to_stage=to_stage,
                        changed_at=changed_at,
                        changed_by=actor,
                        reason=reason,
                    )
                    for row in creates
                    for from_stage, to_stage, changed_at in imported_history(row.initiative, now)
                ],
                batch_size=BATCH_SIZE,
            )
            for row in creates:
                events.append(
                    (
                        "initiative.imported",
                        row.initiative,
                        {},
                        {
                            "reference": row.initiative.reference,
                            "stage": row.initiative.stage,
                            "line": row.line,
                            **snapshot(row.initiative, AUDITED_FIELDS),
                        },
                    )
                )

        if updates:
            changed_fields = set()
            for row in updates:
                for name, value in row.after.items():
                    setattr(row.initiative, name, value)
                    changed_fields.add(name)
                if row.stage:
                    row.initiative.stage = row.stage
                    changed_fields.add("stage")
                row.initiative.updated_at = now
            changed_fields.add("updated_at")
            fields = sorted(changed_fields)
            for start in range(0, len(updates), BATCH_SIZE):
                batch = updates[start : start + BATCH_SIZE]
                Initiative.objects.bulk_update([row.initiative for row in batch], fields)
                done += len(batch)
                progress(done, total)
            for row in updates:
                row.initiative._stored_transition_value = row.initiative.stage
            StageChange.objects.bulk_create(
                [
                    StageChange(
                        initiative=row.initiative,
                        from_stage=row.old_stage,
                        to_stage=row.stage,
                        changed_at=now,
                        changed_by=actor,
                        reason=reason,
                    )
                    for row in updates
                    if row.stage
                ],
                batch_size=BATCH_SIZE,
            )
            for row in updates:
                if row.after:
                    after = {
                        name: (value.pk if hasattr(value, "pk") else value)
                        for name, value in row.after.items()
                    }
                    events.append(
                        (
                            "initiative.updated",
                            row.initiative,
                            row.before,
                            {**after, "line": row.line},
                        )
                    )
                if row.stage:
                    events.append(
                        (
                            "initiative.stage_imported",
                            row.initiative,
                            {"stage": row.old_stage},
                            {"stage": row.stage, "line": row.line},
                        )
                    )
        for row in creates:
            if row.stage and row.stage != Stage.DRAFT:
                events.append(
                    (
                        "initiative.stage_imported",
                        row.initiative,
                        {"stage": ""},
                        {"stage": row.stage, "line": row.line},
                    )
                )

        written = creates + updates
        links = []
        linked_by_model = defaultdict(list)
        for row in written:
            for model in row.models:
                links.append(
                    AIModel.initiatives.through(
                        aimodel_id=model.pk, initiative_id=row.initiative.pk
                    )
                )
                linked_by_model[model].append(row.initiative.pk)
        if links:
            AIModel.initiatives.through.objects.bulk_create(
                links, batch_size=BATCH_SIZE, ignore_conflicts=True
            )
            for model, initiative_ids in linked_by_model.items():
                events.append(
                    ("ai_model.linked", model, {}, {"initiatives_added": sorted(initiative_ids)})
                )
        deployments = [
            Deployment(
                initiative=row.initiative, business_unit=unit, status=DeploymentStatus.PLANNED
            )
            for row in written
            for unit in row.deployments
        ]
        if deployments:
            Deployment.objects.bulk_create(deployments, batch_size=BATCH_SIZE)
            for deployment in deployments:
                events.append(
                    (
                        "deployment.created",
                        deployment,
                        {},
                        snapshot(deployment, ["initiative", "business_unit", "status"]),
                    )
                )

        assessed = [row for row in written if row.impact or row.impact_stated]
        if assessed:
            questionnaire = active_questionnaire()
            specs = questionnaire_specs(questionnaire)
            previous = [row.current_assessment.pk for row in assessed if row.current_assessment]
            if previous:
                RiskAssessment.objects.filter(pk__in=previous).update(
                    is_current=False, status="superseded", updated_at=now
                )
            new = [
                _new_assessment(row, questionnaire, specs, actor, now, plan.filename)
                for row in assessed
            ]
            RiskAssessment.objects.bulk_create(new, batch_size=BATCH_SIZE)
            for assessment in new:
                events.append(
                    (
                        "risk_assessment.imported",
                        assessment,
                        {},
                        {
                            "initiative": assessment.initiative_id,
                            "computed_tier": assessment.computed_tier,
                            "answers": assessment.answers,
                        },
                    )
                )
        if links or assessed:
            model_tiers_refresh(
                actor=actor,
                initiative_ids=[
                    row.initiative.pk
                    for row in written
                    if row.models or row.impact or row.impact_stated
                ],
            )

        counts = plan.counts
        result = {
            "counts": counts,
            "created": [row.initiative.pk for row in creates],
            "updated": [row.initiative.pk for row in updates],
            "units_created": [unit.pk for unit in plan.new_units],
            "placeholders_created": [person.pk for person in plan.new_people],
            "models_created": [model.pk for model in plan.new_models],
            "rejected": [
                {"line": row.line, "reason": row.reason}
                for row in plan.rows
                if row.action == REJECT
            ],
        }
        summary = {key: value for key, value in counts.items()}
        events.append(
            (
                "import.completed",
                job,
                {},
                {
                    "file": plan.filename,
                    "sha256": getattr(job, "sha256", ""),
                    **summary,
                    "units_created": len(plan.new_units),
                    "placeholders_created": len(plan.new_people),
                },
            )
        )
        record_events(actor=actor, events=events, reason=reason)
        initiatives_changed(row.initiative.pk for row in written)
    progress(total, total)
    return result
