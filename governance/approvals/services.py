"""The approval workflow engine: policies as data, requests decided step by step, separation
of duties, SLAs and escalation, delegation, and the gates' effects.

Every transition is an explicit function that checks permission, locks the request row
(``select_for_update``) and re-checks its state under the lock, writes its ``Decision`` /
``Escalation`` and ``AuditEvent`` in the same transaction, and notifies people after commit.
Repeating a call (a double-submitted form) or racing another approver yields a clear
``AlreadyDecided`` error rather than a second effect.
"""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.audit import record_event
from core.choices import NotificationKind, Role
from core.exceptions import Conflict
from core.gates import subject_of
from core.permissions import can_write_for_business_unit, roles_of
from core.selectors import users_with_roles
from core.services import notification_send, webhook_broadcast
from governance.approvals.choices import (
    OPEN_REQUEST_STATUSES,
    REQUEST_TRANSITIONS,
    Outcome,
    RequestStatus,
)
from governance.approvals.delegation import active_delegators
from governance.approvals.effects import (
    DEPLOYMENT_SUBJECT,
    _apply_gate_effect,
    _apply_status_effect,
    _lock_gpu_request_pool,
)
from governance.approvals.models import (
    ApprovalRequest,
    Decision,
)
from governance.approvals.policies import active_policy
from governance.risk import controls, selectors
from governance.risk.choices import Gate, Tier
from governance.risk.permissions import can_manage_library
from inventory.capacity import services as gpu_requests
from inventory.capacity.models import GPURequest
from inventory.registry.choices import ModelStatus
from inventory.registry.models import ModelVersion
from inventory.registry.permissions import can_edit_model
from inventory.registry.services import (
    MODEL_VERSION_SUBJECT,
    highest_tier_initiative,
)
from portfolio.initiatives.models import Deployment, Initiative
from portfolio.initiatives.permissions import can_edit_initiative

# Escalation climbs this ladder, starting at the step's escalation role.
ESCALATION_CHAIN = (Role.COE_ADMIN, Role.RISK_OFFICER, Role.EXECUTIVE)

MIN_REASON_LENGTH = 10


class AlreadyDecided(Conflict):
    """The request or step was decided meanwhile (another approver, a repeated form)."""


def acting_roles(request: ApprovalRequest) -> set[str]:
    """Roles that may decide the current step (kept on the request by the engine)."""
    if request.step is None or request.status != RequestStatus.PENDING:
        return set()
    return {role for role in request.acting_roles.split(",") if role}


def _set_acting_roles(request: ApprovalRequest, *, escalated_only: bool = False) -> None:
    """Store who decides now: the step's role, plus (or, after a disagreement, only) the
    role of the escalation level reached."""
    step = request.step
    if step is None:
        request.acting_roles = ""
        return
    roles = set() if escalated_only else {step["role"]}
    if request.escalation_level:
        roles.add(escalation_role_for(step, request.escalation_level))
    request.acting_roles = "," + ",".join(sorted(roles)) + ","


def escalation_role_for(step: dict, level: int) -> str:
    start = (
        ESCALATION_CHAIN.index(step["escalation_role"])
        if step.get("escalation_role") in ESCALATION_CHAIN
        else 0
    )
    return ESCALATION_CHAIN[min(start + level - 1, len(ESCALATION_CHAIN) - 1)]


def separation_of_duties_problem(request: ApprovalRequest, person) -> str:
    """Why ``person`` may not decide on ``request`` (empty when they may)."""
    initiative = request.initiative
    if person.pk == request.submitted_by_id:
        return "You submitted this request, so you cannot decide on it."
    if initiative is None:  # governance content: the submitter is the one party
        return ""
    if person.pk in (initiative.accountable_owner_id, initiative.technical_lead_id):
        return "You own or lead this initiative, so you cannot decide on its requests."
    return ""


def decision_capacity(request: ApprovalRequest, actor):
    """(on_behalf_of, problem): whether ``actor`` may decide the current step, acting for
    themselves (on_behalf_of None) or for a delegator; ``problem`` explains a refusal."""
    roles = acting_roles(request)
    problem = separation_of_duties_problem(request, actor)
    if problem:
        return None, problem
    if roles_of(actor) & roles:
        return None, ""
    for delegator in active_delegators(actor):
        if roles_of(delegator) & roles and not separation_of_duties_problem(request, delegator):
            return delegator, ""
    wanted = " or ".join(sorted(Role(role).label for role in roles)) or "an approver"
    return None, f"This step needs {wanted}."


def can_decide(user, request: ApprovalRequest) -> bool:
    """Predicate for showing decision buttons (the service re-checks under the lock)."""
    if request.status != RequestStatus.PENDING or not user.is_authenticated:
        return False
    on_behalf_of, problem = decision_capacity(request, user)
    return not problem and not _already_counted(request, user, on_behalf_of)


def _already_counted(request: ApprovalRequest, person, on_behalf_of=None) -> bool:
    people = {person.pk} | ({on_behalf_of.pk} if on_behalf_of else set())
    return (
        Decision.objects.filter(
            request=request, round=request.round, step_index=request.current_step
        )
        .filter(Q(approver_id__in=people) | Q(on_behalf_of_id__in=people))
        .exists()
    )


def _notify_approvers(
    request: ApprovalRequest, subject: str, body: str, kind: str, roles=None
) -> None:
    """Notify the people who may decide now (or only those holding ``roles``)."""
    url = reverse("governance:request_detail", args=[request.pk])
    recipients = set()
    for role in roles or acting_roles(request):
        for user in users_with_roles({role}).order_by("username"):
            if not separation_of_duties_problem(request, user):
                recipients.add(user)
    for user in sorted(recipients, key=lambda u: u.pk):
        notification_send(recipient=user, subject=subject, body=body, url=url, kind=kind)


def _broadcast(request: ApprovalRequest, kind: str, event: str) -> None:
    """Tell the BU's and the global webhooks (sent after commit)."""
    initiative = request.initiative
    payload = {
        "event": event,
        "request": request.pk,
        "gate": request.gate,
        "tier": request.tier,
        "status": request.status,
        "escalation_level": request.escalation_level,
    }
    if initiative is None:  # governance content: the global webhooks only
        payload["subject"] = {"type": request.subject_type, "id": request.subject_id}
    else:
        payload["initiative"] = {"id": initiative.pk, "reference": initiative.reference}
    webhook_broadcast(
        kind=kind,
        business_unit=initiative.business_unit if initiative else None,
        payload=payload,
    )


def _notify_submitter(request: ApprovalRequest, subject: str, body: str = "") -> None:
    url = reverse("governance:request_detail", args=[request.pk])
    people = {request.submitted_by}
    if request.initiative is not None and request.initiative.accountable_owner:
        people.add(request.initiative.accountable_owner)
    for user in sorted(people, key=lambda u: u.pk):
        notification_send(
            recipient=user,
            subject=subject,
            body=body,
            url=url,
            kind=NotificationKind.APPROVAL_DECIDED,
        )


def may_edit_subject(user, request: ApprovalRequest) -> bool:
    """The initiative's owners and unit, or for governance content the CoE admins."""
    if request.is_content:
        return can_manage_library(user)
    return can_edit_initiative(user, request.initiative)


def _due(step: dict, now) -> timezone.datetime:
    return now + timedelta(hours=int(step["sla_hours"]))


def _may_submit(actor, initiative: Initiative, deployment, model_version, gpu_request=None) -> bool:
    if gpu_request is not None:  # the requesting unit's members, or platform engineers
        return gpu_requests.can_request_gpus(actor, initiative, gpu_request.business_unit)
    if deployment is not None and can_write_for_business_unit(actor, deployment.business_unit_id):
        return True  # the adopting unit asks to scale the initiative to itself
    if model_version is not None:
        return can_edit_model(actor, model_version.model)  # the model's people release it
    return can_edit_initiative(actor, initiative)


def _subject_fields(instance) -> dict:
    subject_type, subject_id = subject_of(instance)
    return {"subject_type": subject_type, "subject_id": subject_id}


def _subject(gate, initiative, deployment, model_version, gpu_request=None) -> dict:
    """What the request is about besides the initiative: a deployment (``scale`` for another
    unit), a model version (``model_release``) or a GPU request (``gpu_request``)."""
    if gate == Gate.GPU_REQUEST or gpu_request is not None:
        if gate != Gate.GPU_REQUEST or gpu_request is None:
            raise ValidationError({"gate": "A GPU request goes through 'gpu_request'."})
        if gpu_request.initiative_id != initiative.pk:
            raise ValidationError({"gate": "The GPU request is for another initiative."})
        return _subject_fields(gpu_request)
    if deployment is not None:
        if gate != Gate.SCALE or deployment.initiative_id != initiative.pk:
            raise ValidationError({"gate": "A deployment of this initiative goes through 'scale'."})
        return _subject_fields(deployment)
    if gate == Gate.MODEL_RELEASE:
        if model_version is None:
            raise ValidationError({"gate": "A model release is about one model version."})
        if not model_version.model.initiatives.filter(pk=initiative.pk).exists():
            raise ValidationError({"gate": "The model does not serve this initiative."})
        if not model_version.can_move_to(ModelStatus.PRODUCTION):
            raise ValidationError(
                {"gate": "Only an approved (validated) version can be released to production."}
            )
        return _subject_fields(model_version)
    if model_version is not None:
        raise ValidationError({"gate": "A model version goes through 'model_release'."})
    return {"subject_type": "", "subject_id": ""}


def request_submit(
    *,
    actor,
    initiative: Initiative,
    gate: str,
    comment: str = "",
    deployment=None,
    model_version=None,
    gpu_request=None,
):
    """Submit ``initiative`` for ``gate``. Refused with every gate blocker when required
    controls fail; fast-pathed when the first step allows it and all automated controls pass
    (Tier 1 only), or for ``gpu_request`` by its own rule (see ``gpu_request_submit``).

    With ``deployment`` (a ``scale`` request only), the request is about another business
    unit adopting the initiative: that unit's members may submit it, and approval puts the
    deployment in production instead of changing the initiative's stage. With
    ``model_version`` (a ``model_release`` request, see ``model_release_submit``), approval
    puts that version in production. With ``gpu_request`` (a ``gpu_request`` request only),
    approval allocates the GPUs.
    """
    if gate not in Gate.values:
        raise ValidationError({"gate": "Unknown gate."})
    if not _may_submit(actor, initiative, deployment, model_version, gpu_request):
        raise PermissionDenied("Only the initiative's owners and business unit can submit it.")
    subject = _subject(gate, initiative, deployment, model_version, gpu_request)
    tier = selectors.current_tier(initiative)
    if tier is None:
        raise ValidationError({"gate": "Complete the risk assessment before submitting."})
    policy = active_policy(tier=tier, gate=gate)
    if policy.blocks_gate:
        raise ValidationError(
            {"gate": "Tier 4 (unacceptable risk): this initiative cannot pass any gate."}
        )
    blockers = controls.gate_blockers(initiative, gate)
    if blockers:
        raise ValidationError(
            {"gate": [f"Blocked by {blocker}" for blocker in blockers]}, code="gate_blocked"
        )
    # A GPU request's own fast-path rule, read once (the caller holds the pool's lock).
    gpu_problems = gpu_requests.fast_path_problems(gpu_request) if gpu_request else []
    if gpu_problems:
        comment = "\n".join(
            [comment, "Needs approval:", *(f"- {problem}" for problem in gpu_problems)]
        ).strip()
    now = timezone.now()
    snapshot = policy.snapshot()
    try:
        with transaction.atomic():
            Initiative.objects.select_for_update().filter(pk=initiative.pk).first()
            if ApprovalRequest.objects.filter(
                initiative=initiative, gate=gate, status__in=OPEN_REQUEST_STATUSES, **subject
            ).exists():
                raise AlreadyDecided({"gate": "A request for this gate is already open."})
            request = ApprovalRequest.objects.create(
                initiative=initiative,
                gate=gate,
                **subject,
                tier=tier,
                policy=policy,
                policy_snapshot=snapshot,
                submitted_by=actor,
                submitted_at=now,
                step_due_at=_due(snapshot["steps"][0], now),
                comment=comment,
                acting_roles=f",{snapshot['steps'][0]['role']},",
            )
            record_event(
                actor=actor,
                action="approval_request.submitted",
                target=request,
                after={"gate": gate, "tier": tier, "policy_version": policy.version},
                reason=comment,
            )
            if gpu_request is not None:
                fast_path_reason = "Within quota and the fast-path size."
                fast_path = snapshot["steps"][0]["fast_path"] and not gpu_problems
            else:
                fast_path_reason = "Tier 1 and every automated control passes."
                fast_path = (
                    snapshot["steps"][0]["fast_path"]
                    and tier == Tier.MINIMAL
                    and controls.automated_controls_pass(initiative)
                )
            if fast_path:
                _fast_path(request, actor, now, reason=fast_path_reason)
            else:
                _notify_approvers(
                    request,
                    f"Approval needed: {initiative.reference} · {request.get_gate_display()} gate",
                    f"{initiative.title} (Tier {tier}) awaits {request.step['name']}.",
                    NotificationKind.APPROVAL_REQUESTED,
                )
                _broadcast(request, NotificationKind.APPROVAL_REQUESTED, "submitted")
    except IntegrityError:
        raise AlreadyDecided({"gate": "A request for this gate is already open."}) from None
    return request


def _fast_path(
    request: ApprovalRequest,
    actor,
    now,
    reason: str = "Tier 1 and every automated control passes.",
) -> None:
    """Approved without a reviewer (Tier 1 with every automated control passing, or a GPU
    request within quota and size): ``reason`` says why."""
    request.status = RequestStatus.APPROVED
    request.fast_tracked = True
    request.decided_at = now
    request.current_step = len(request.steps)
    request.step_due_at = None
    request.save()
    record_event(
        actor=actor,
        action="approval_request.fast_tracked",
        target=request,
        after={"status": RequestStatus.APPROVED},
        reason=reason,
    )
    _apply_gate_effect(request, actor)
    _notify_submitter(request, f"Fast-tracked: {request.get_gate_display()} gate approved")
    _broadcast(request, NotificationKind.APPROVAL_DECIDED, "fast_tracked")


def _lock(request: ApprovalRequest) -> ApprovalRequest:
    # Only the request row: a content request has no initiative, and PostgreSQL refuses
    # FOR UPDATE on the nullable side of the outer join select_related then needs. The gate
    # effect locks the initiative itself.
    return (
        ApprovalRequest.objects.select_for_update(of=("self",))
        .select_related("initiative")
        .get(pk=request.pk)
    )


def _transition(request: ApprovalRequest, to_status: str) -> None:
    if to_status not in REQUEST_TRANSITIONS[request.status]:
        raise AlreadyDecided(
            f"This request is {request.get_status_display().lower()}; it cannot become "
            f"{RequestStatus(to_status).label.lower()}."
        )
    request.status = to_status


def request_subject(request: ApprovalRequest) -> dict:
    """What a request is about besides its initiative: ``deployment`` (another unit's
    adoption), ``model_version`` (a release) or ``gpu_request``; each None when not."""
    loaders = {
        DEPLOYMENT_SUBJECT: ("deployment", Deployment.objects.select_related("business_unit")),
        MODEL_VERSION_SUBJECT: ("model_version", ModelVersion.objects.select_related("model")),
        gpu_requests.GPU_REQUEST_SUBJECT: (
            "gpu_request",
            GPURequest.objects.select_related("business_unit", "pool__gpu_type"),
        ),
    }
    subject = dict.fromkeys(("deployment", "model_version", "gpu_request"))
    if request.subject_type in loaders:
        name, queryset = loaders[request.subject_type]
        subject[name] = queryset.filter(pk=request.subject_id).first()
    return subject


def request_resubmit(*, actor, request: ApprovalRequest, comment: str = ""):
    """After changes were requested: a new round from the first step, same policy snapshot."""
    subject = request_subject(request)
    deployment, model_version, gpu_request = (
        subject["deployment"],
        subject["model_version"],
        subject["gpu_request"],
    )
    if request.is_content:
        if not can_manage_library(actor):
            raise PermissionDenied("Only CoE admins can resubmit governance content.")
        blockers = []
    elif not _may_submit(actor, request.initiative, deployment, model_version, gpu_request):
        raise PermissionDenied("Only the initiative's owners and business unit can resubmit.")
    else:
        blockers = controls.gate_blockers(request.initiative, request.gate)
    if blockers:
        raise ValidationError({"gate": [f"Blocked by {blocker}" for blocker in blockers]})
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(request)
        if locked.status != RequestStatus.CHANGES_REQUESTED:
            raise AlreadyDecided("Only a request with changes requested can be resubmitted.")
        _transition(locked, RequestStatus.PENDING)
        locked.round += 1
        locked.current_step = 0
        locked.escalation_level = 0
        locked.step_due_at = _due(locked.steps[0], now)
        _set_acting_roles(locked)
        locked.save()
        record_event(
            actor=actor,
            action="approval_request.resubmitted",
            target=locked,
            after={"round": locked.round},
            reason=comment,
        )
        _apply_status_effect(locked, actor)
        _notify_approvers(
            locked,
            f"Resubmitted: {locked.reference} · {locked.get_gate_display()} gate",
            comment,
            NotificationKind.APPROVAL_REQUESTED,
        )
    return locked


def request_withdraw(*, actor, request: ApprovalRequest, reason: str = ""):
    if not (actor.pk == request.submitted_by_id or may_edit_subject(actor, request)):
        raise PermissionDenied("Only the submitter or the initiative's owners can withdraw.")
    with transaction.atomic():
        locked = _lock(request)
        _transition(locked, RequestStatus.WITHDRAWN)
        locked.decided_at = timezone.now()
        locked.step_due_at = None
        locked.save()
        record_event(
            actor=actor,
            action="approval_request.withdrawn",
            target=locked,
            after={"status": RequestStatus.WITHDRAWN},
            reason=reason,
        )
        _apply_status_effect(locked, actor)
    return locked


def request_decide(*, actor, request: ApprovalRequest, outcome: str, comment: str = ""):
    """Record ``actor``'s decision on the current step.

    Reject and request-changes need a comment and end the step (and the request). An
    approval that completes the step advances to the next; completing the last step approves
    the request and applies the gate's effect in the same transaction.
    """
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": "Choose approve, reject or request changes."})
    comment = (comment or "").strip()
    if outcome != Outcome.APPROVE and not comment:
        raise ValidationError({"comment": "Explain what is wrong or what must change."})
    now = timezone.now()
    try:
        with transaction.atomic():
            locked = _lock(request)
            if locked.status != RequestStatus.PENDING:
                raise AlreadyDecided(
                    f"Already decided: this request is {locked.get_status_display().lower()}."
                )
            on_behalf_of, problem = decision_capacity(locked, actor)
            if problem:
                raise PermissionDenied(problem)
            if _already_counted(locked, actor, on_behalf_of):
                raise AlreadyDecided("Already decided: you have decided on this step.")
            lock_for_effect = GATE_LOCKS.get(locked.gate)
            if lock_for_effect is not None and outcome == Outcome.APPROVE:
                lock_for_effect(locked)
            step_index, step = locked.current_step, locked.step
            decision = Decision.objects.create(
                request=locked,
                round=locked.round,
                step_index=step_index,
                approver=actor,
                on_behalf_of=on_behalf_of,
                outcome=outcome,
                comment=comment,
                created_at=now,
            )
            record_event(
                actor=actor,
                action=f"approval_request.{outcome}",
                target=locked,
                after={
                    "step": step_index,
                    "step_name": step["name"],
                    "round": locked.round,
                    "on_behalf_of": on_behalf_of.pk if on_behalf_of else None,
                },
                reason=comment,
            )
            if outcome == Outcome.APPROVE:
                _after_approval(locked, actor, step, now)
            else:
                _end_step(locked, outcome, now)
                _apply_status_effect(locked, actor)
    except IntegrityError:
        raise AlreadyDecided("Already decided: you have decided on this step.") from None
    return decision


def _after_approval(request: ApprovalRequest, actor, step: dict, now) -> None:
    approvals = Decision.objects.filter(
        request=request,
        round=request.round,
        step_index=request.current_step,
        outcome=Outcome.APPROVE,
    ).count()
    if approvals < int(step["approvals"]):
        request.save()
        return
    if request.current_step + 1 < len(request.steps):
        request.current_step += 1
        request.escalation_level = 0
        request.step_due_at = _due(request.step, now)
        _set_acting_roles(request)
        request.save()
        _notify_approvers(
            request,
            f"Approval needed: {request.reference} · {request.get_gate_display()} gate",
            f"Step {request.current_step + 1}: {request.step['name']}.",
            NotificationKind.APPROVAL_REQUESTED,
        )
        return
    _transition(request, RequestStatus.APPROVED)
    request.decided_at = now
    request.step_due_at = None
    request.save()
    _apply_gate_effect(request, actor)
    _notify_submitter(
        request,
        f"Approved: {request.reference} · {request.get_gate_display()} gate",
    )
    _broadcast(request, NotificationKind.APPROVAL_DECIDED, "approved")


def _end_step(request: ApprovalRequest, outcome: str, now) -> None:
    status = (
        RequestStatus.REJECTED if outcome == Outcome.REJECT else RequestStatus.CHANGES_REQUESTED
    )
    _transition(request, status)
    request.decided_at = now
    request.step_due_at = None
    request.save()
    _notify_submitter(
        request,
        f"{RequestStatus(status).label}: {request.reference} · {request.get_gate_display()} gate",
    )
    _broadcast(request, NotificationKind.APPROVAL_DECIDED, status)


# Gate → function(request) taking, before the decision writes anything (the audit chain head
# is a global lock), the row locks the gate's effect will need, so approvers and submitters
# lock in the same order.
GATE_LOCKS: dict = {}

GATE_LOCKS[Gate.GPU_REQUEST] = _lock_gpu_request_pool


def gpu_request_submit(*, actor, gpu_request: GPURequest, comment: str = "") -> ApprovalRequest:
    """Submit ``gpu_request`` to its initiative's ``gpu_request`` gate (called by
    ``inventory.capacity.services.gpu_request_create`` in its transaction, pool locked).

    Fast path for this gate: the policy's first step allows it AND the request is within
    quota AND at most ``settings.KEEL_FINOPS["FAST_PATH_MAX_GPUS"]`` GPUs
    (``fast_path_problems`` is empty). The Tier 1 and automated-control conditions of the
    other gates do not apply (the gate's required controls still block it, and the policy
    per tier still says whether its first step may be fast-pathed). Otherwise the
    approvers are told why it needs them (``request_submit`` appends it to the comment).
    """
    return request_submit(
        actor=actor,
        initiative=gpu_request.initiative,
        gate=Gate.GPU_REQUEST,
        comment=comment,
        gpu_request=gpu_request,
    )


def model_release_submit(*, actor, version: ModelVersion, comment: str = "") -> ApprovalRequest:
    """Ask to release ``version`` to production through the ``model_release`` gate of the
    highest-tier initiative its model serves (so the strictest policy applies)."""
    initiative = highest_tier_initiative(version.model)
    if initiative is None:
        raise ValidationError(
            {
                "gate": "Link the model to the initiative it serves, in a live stage "
                "(proposed, pilot, production, scaled or paused), before releasing it."
            }
        )
    return request_submit(
        actor=actor,
        initiative=initiative,
        gate=Gate.MODEL_RELEASE,
        comment=comment,
        model_version=version,
    )
