"""Writes of the portfolio: every create, update and stage change of an initiative."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.audit import record_event
from core.gates import is_approved_request, subject_of
from core.services import apply_changes, sequence_next, snapshot
from portfolio.initiatives.choices import (
    DEPLOYMENT_TRANSITIONS,
    GATED_DEPLOYMENT_STATUSES,
    GATED_STAGES,
    DeploymentStatus,
    Stage,
)
from portfolio.initiatives.models import Deployment, Initiative, StageChange, format_reference
from portfolio.initiatives.permissions import (
    can_change_stage,
    can_create_initiative,
    can_edit_initiative,
)

REFERENCE_SEQUENCE = "initiative"

# Fields a user sets through forms and the API (never reference, stage or bookkeeping).
INITIATIVE_FIELDS = (
    "title",
    "problem_statement",
    "purpose",
    "outputs",
    "category",
    "business_unit",
    "accountable_owner",
    "technical_lead",
    "executive_sponsor",
    "roadmap_phase",
    "initiated_on",
    "currency",
    "expected_annual_value",
    "expected_annual_cost",
    "realised_value",
    "realised_value_as_of",
    "value_evidence_url",
    "data_sensitivity",
    "uses_pii",
    "sourcing",
    "ai_type",
    "autonomy_level",
    "impacted_stakeholders",
    "jurisdictions",
    "eu_ai_act_role",
    "external_id",
    "tags",
    "links",
    "custom_fields",
)

# Checks that higher apps register (at start-up) to veto a stage change, e.g. governance
# refusing to move a Tier 4 initiative past proposed. Each is called as
# guard(initiative, to_stage) inside the transaction and raises ValidationError to refuse.
STAGE_GUARDS: list = []


def register_stage_guard(guard) -> None:
    if guard not in STAGE_GUARDS:
        STAGE_GUARDS.append(guard)


# Callbacks run after commit whenever an initiative is created or changed, e.g. governance
# re-evaluating its automated controls. Each is called as hook(initiative_id).
CHANGE_HOOKS: list = []


def register_change_hook(hook) -> None:
    if hook not in CHANGE_HOOKS:
        CHANGE_HOOKS.append(hook)


def _after_commit_changed(initiative_id: int) -> None:
    for hook in CHANGE_HOOKS:
        transaction.on_commit(lambda hook=hook: hook(initiative_id))


def initiatives_changed(initiative_ids) -> None:
    """Tell the change hooks (after commit) that something these initiatives depend on
    changed, e.g. a model they use started drifting, so their controls are re-evaluated."""
    for initiative_id in sorted(set(initiative_ids)):
        _after_commit_changed(initiative_id)


# Callbacks that higher apps register (at start-up) to move their rows when one initiative is
# merged into another, e.g. inventory re-pointing GPU allocations and model links (this app
# cannot import theirs). Each is called as hook(actor=..., merged=..., survivor=...) inside the
# merge transaction, writes an audit event per row it moves and returns how many it moved.
MERGE_HOOKS: list = []


def register_merge_hook(hook) -> None:
    if hook not in MERGE_HOOKS:
        MERGE_HOOKS.append(hook)


# Stage changes that need a written reason.
STAGES_NEEDING_REASON = frozenset({Stage.PAUSED, Stage.RETIRED, Stage.REJECTED})


def next_initiative_reference() -> str:
    return format_reference(sequence_next(REFERENCE_SEQUENCE))


def _validate_owner_is_active(initiative: Initiative) -> None:
    owner = initiative.accountable_owner if initiative.accountable_owner_id else None
    if owner is not None and not owner.is_active:
        raise ValidationError(
            {"accountable_owner": "The accountable owner must be an active user."}
        )


def initiative_create(*, actor, data: dict) -> Initiative:
    """Register a new initiative in ``draft`` with the next ``AI-NNNN`` reference."""
    business_unit = data.get("business_unit")
    if not can_create_initiative(actor, business_unit):
        raise PermissionDenied("You can only register initiatives for your own business unit.")
    initiative = Initiative(
        **{name: value for name, value in data.items() if name in INITIATIVE_FIELDS},
        stage=Stage.DRAFT,
        created_by=actor,
    )
    initiative.full_clean(exclude=["reference"])
    _validate_owner_is_active(initiative)
    with transaction.atomic():
        initiative.reference = next_initiative_reference()
        initiative.save()
        StageChange.objects.create(
            initiative=initiative,
            from_stage="",
            to_stage=Stage.DRAFT,
            changed_at=timezone.now(),
            changed_by=actor,
        )
        record_event(
            actor=actor,
            action="initiative.created",
            target=initiative,
            after={"reference": initiative.reference, **snapshot(initiative, INITIATIVE_FIELDS)},
        )
        _after_commit_changed(initiative.pk)
    return initiative


def initiative_update(*, actor, initiative: Initiative, data: dict) -> Initiative:
    """Change an initiative's descriptive fields; records only the fields that changed."""
    if not can_edit_initiative(actor, initiative):
        raise PermissionDenied("You cannot edit this initiative.")
    with transaction.atomic():
        locked = Initiative.objects.select_for_update().get(pk=initiative.pk)
        moving = "business_unit" in data and data["business_unit"].pk != locked.business_unit_id
        if moving and not can_create_initiative(actor, data["business_unit"]):
            raise PermissionDenied("You cannot move an initiative to that business unit.")
        before, after = apply_changes(locked, data, INITIATIVE_FIELDS)
        locked.full_clean()
        _validate_owner_is_active(locked)
        if after:
            locked.save()
            record_event(
                actor=actor, action="initiative.updated", target=locked, before=before, after=after
            )
            _after_commit_changed(locked.pk)
    return locked


# The gate every ``scale`` request about one deployment goes through, and the subject type
# such a request names (governance's ``DEPLOYMENT_SUBJECT`` is this label).
DEPLOYMENT_GATE = GATED_STAGES[Stage.SCALED]
DEPLOYMENT_GATE_SUBJECT = Deployment._meta.label_lower


def initiative_change_stage(
    *, actor, initiative: Initiative, to_stage: str, reason: str = "", via_gate=None
) -> Initiative:
    """The one way an initiative's stage changes.

    Forward moves into pilot, production and scaled need ``via_gate``: the approved governance
    request of the stage's gate (``GATED_STAGES``) for this initiative itself. Any other
    ``via_gate`` is refused, not ignored. The update is a compare-and-set on the current
    stage, so two concurrent changes cannot both apply.
    """
    if to_stage not in Stage.values:
        raise ValidationError({"stage": f"Unknown stage {to_stage!r}."})
    gate = GATED_STAGES.get(to_stage)
    approved = is_approved_request(via_gate, initiative_id=initiative.pk, gate=gate)
    if via_gate is not None and not approved:
        which = f"'{gate}' gate" if gate else "gate"
        raise ValidationError(
            {"stage": f"That is not an approved {which} request for this initiative."}
        )
    if not approved and not can_change_stage(actor, initiative, to_stage):
        raise PermissionDenied("You cannot change this initiative's stage.")
    reason = (reason or "").strip()
    if to_stage in STAGES_NEEDING_REASON and not reason:
        raise ValidationError({"reason": "Give a reason for this stage change."})

    with transaction.atomic():
        locked = Initiative.objects.select_for_update().get(pk=initiative.pk)
        from_stage = locked.stage
        if not locked.can_move_to(to_stage):
            raise ValidationError(
                {"stage": f"An initiative cannot move from {from_stage} to {to_stage}."}
            )
        resuming = from_stage == Stage.PAUSED and to_stage == _stage_before_pause(locked)
        if gate and not resuming and not approved:
            raise ValidationError(
                {"stage": f"Moving to {to_stage} needs an approved '{gate}' gate request."}
            )
        for guard in STAGE_GUARDS:
            guard(locked, to_stage)
        today = timezone.localdate()
        changes = {"stage": to_stage}
        if to_stage == Stage.PILOT and locked.pilot_started_on is None:
            changes["pilot_started_on"] = today
        if to_stage == Stage.PRODUCTION and locked.production_on is None:
            changes["production_on"] = today
        if to_stage == Stage.RETIRED:
            changes["retired_on"] = today
        updated = Initiative.objects.filter(pk=locked.pk, stage=from_stage).update(
            **changes, updated_at=timezone.now()
        )
        if updated != 1:
            raise ValidationError({"stage": "The stage changed meanwhile; reload and try again."})
        StageChange.objects.create(
            initiative=locked,
            from_stage=from_stage,
            to_stage=to_stage,
            changed_at=timezone.now(),
            changed_by=actor,
            reason=reason,
        )
        locked.refresh_from_db()
        record_event(
            actor=actor,
            action="initiative.stage_changed",
            target=locked,
            before={"stage": from_stage},
            after={"stage": to_stage, "gate": getattr(via_gate, "pk", None)},
            reason=reason,
        )
        _after_commit_changed(locked.pk)
    return locked


def _stage_before_pause(initiative: Initiative) -> str:
    """The stage an initiative was paused from (it may resume there without a gate)."""
    last_pause = (
        initiative.stage_changes.filter(to_stage=Stage.PAUSED)
        .order_by("-changed_at", "-id")
        .first()
    )
    return last_pause.from_stage if last_pause else ""


def deployment_create(*, actor, initiative: Initiative, data: dict) -> Deployment:
    """Record that a business unit adopts an initiative."""
    business_unit = data.get("business_unit")
    if not (can_edit_initiative(actor, initiative) or can_create_initiative(actor, business_unit)):
        raise PermissionDenied("You cannot deploy this initiative to that business unit.")
    deployment = Deployment(initiative=initiative, **data)
    deployment.full_clean()
    with transaction.atomic():
        deployment.save()
        record_event(
            actor=actor,
            action="deployment.created",
            target=deployment,
            after=snapshot(deployment, ["initiative", "business_unit", "status", "started_on"]),
        )
    return deployment


# --- Registration wizard -------------------------------------------------------------------

# The wizard's steps, in order: basics, purpose & data, risk questionnaire, owners & links,
# review. ``Initiative.wizard_step`` holds the last one completed.
WIZARD_LAST_STEP = 5


def initiative_wizard_advance(*, actor, initiative: Initiative, step: int) -> Initiative:
    """Record that the registration wizard's ``step`` is complete.

    Progress only moves forward (a conditional UPDATE, so a late request cannot move it
    back). Not audited: it is where the author left the form, not a fact about the
    initiative; the fields each step saves are audited by ``initiative_update``.
    """
    if not 1 <= step <= WIZARD_LAST_STEP:
        raise ValidationError({"wizard_step": f"Steps run from 1 to {WIZARD_LAST_STEP}."})
    if not can_edit_initiative(actor, initiative):
        raise PermissionDenied("You cannot edit this initiative.")
    Initiative.objects.filter(pk=initiative.pk, wizard_step__lt=step).update(
        wizard_step=step, updated_at=timezone.now()
    )
    initiative.wizard_step = (
        Initiative.objects.filter(pk=initiative.pk).values_list("wizard_step", flat=True).get()
    )
    return initiative


def initiative_wizard_save(*, actor, initiative: Initiative | None, step: int, data: dict):
    """Save one wizard step's fields and mark the step complete, in one transaction.

    Without ``initiative`` (the first step) the draft is registered through
    ``initiative_create``; afterwards each step goes through ``initiative_update``.
    """
    with transaction.atomic():
        if initiative is None:
            saved = initiative_create(actor=actor, data=data)
        else:
            saved = initiative_update(actor=actor, initiative=initiative, data=data)
        return initiative_wizard_advance(actor=actor, initiative=saved, step=step)


# --- Deployments (cross-BU adoption) -------------------------------------------------------


def deployment_plan_adoption(*, actor, initiative: Initiative, business_unit) -> Deployment:
    """Record that ``business_unit`` plans to adopt another unit's initiative: a ``planned``
    deployment, which then goes through the ``scale`` gate for that unit."""
    if not can_create_initiative(actor, business_unit):
        raise PermissionDenied("You can only adopt initiatives for your own business unit.")
    if business_unit.pk == initiative.business_unit_id:
        raise ValidationError(
            {"business_unit": "This initiative already belongs to that business unit."}
        )
    if not initiative.can_be_adopted():
        raise ValidationError(
            {
                "business_unit": f"{initiative.reference} is {initiative.get_stage_display()}: "
                "other business units adopt an initiative once it is in production."
            }
        )
    if Deployment.objects.filter(initiative=initiative, business_unit=business_unit).exists():
        raise ValidationError(
            {"business_unit": f"{business_unit.name} already has a deployment of it."}
        )
    try:
        with transaction.atomic():
            return deployment_create(
                actor=actor,
                initiative=initiative,
                data={"business_unit": business_unit, "status": DeploymentStatus.PLANNED},
            )
    except IntegrityError:
        # A concurrent adoption for the same unit won the unique constraint.
        raise ValidationError(
            {"business_unit": f"{business_unit.name} already has a deployment of it."}
        ) from None


def deployment_set_status(
    *, actor, deployment: Deployment, status: str, reason: str = "", via_gate=None
) -> Deployment:
    """Move a deployment to ``status`` following ``DEPLOYMENT_TRANSITIONS``.

    Production needs ``via_gate``: the approved ``scale`` gate request about this very
    deployment (the governance app applies it); any other ``via_gate`` is refused. Dates the
    start and end; a compare-and-set update, so two concurrent changes cannot both apply.
    """
    if status not in DeploymentStatus.values:
        raise ValidationError({"status": f"Unknown deployment status {status!r}."})
    approved = is_approved_request(
        via_gate,
        initiative_id=deployment.initiative_id,
        gate=DEPLOYMENT_GATE,
        subject=subject_of(deployment),
    )
    if via_gate is not None and not approved:
        raise ValidationError(
            {"status": "That is not an approved 'scale' gate request for this deployment."}
        )
    if not approved and not (
        can_create_initiative(actor, deployment.business_unit)
        or can_edit_initiative(actor, deployment.initiative)
    ):
        raise PermissionDenied("You cannot change this deployment.")
    if status in GATED_DEPLOYMENT_STATUSES and not approved:
        raise ValidationError(
            {"status": "A deployment reaches production through an approved 'scale' gate."}
        )
    with transaction.atomic():
        locked = Deployment.objects.select_for_update().get(pk=deployment.pk)
        from_status = locked.status
        if status not in DEPLOYMENT_TRANSITIONS.get(from_status, frozenset()):
            raise ValidationError(
                {"status": f"A deployment cannot move from {from_status} to {status}."}
            )
        today = timezone.localdate()
        changes = {"status": status}
        starting = status in (DeploymentStatus.PILOT, DeploymentStatus.PRODUCTION)
        if starting and locked.started_on is None:
            changes["started_on"] = today
        if status == DeploymentStatus.RETIRED:
            changes["ended_on"] = max(today, locked.started_on or today)
        updated = Deployment.objects.filter(pk=locked.pk, status=from_status).update(**changes)
        if updated != 1:
            raise ValidationError({"status": "The deployment changed meanwhile; try again."})
        locked.refresh_from_db()
        record_event(
            actor=actor,
            action="deployment.status_changed",
            target=locked,
            before={"status": from_status},
            after={"status": status, "gate": getattr(via_gate, "pk", None)},
            reason=reason,
        )
    return locked
