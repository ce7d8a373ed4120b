"""Escalation: overdue steps climb the chain (CoE lead, risk officer, executive) once per
level, and a submitter may escalate a disagreement to the next level."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.audit import record_event
from core.choices import NotificationKind
from governance.approvals.choices import (
    EscalationReason,
    Outcome,
    RequestStatus,
)
from governance.approvals.effects import _apply_status_effect
from governance.approvals.models import (
    ApprovalRequest,
    Decision,
    Escalation,
)
from governance.approvals.services import (
    ESCALATION_CHAIN,
    MIN_REASON_LENGTH,
    AlreadyDecided,
    _broadcast,
    _due,
    _lock,
    _notify_approvers,
    _set_acting_roles,
    escalation_role_for,
)


def _escalate(request: ApprovalRequest, *, now, reason: str, actor=None, note: str = ""):
    """Move the current step one level up the ladder; one Escalation row per level."""
    step = request.step
    level = request.escalation_level + 1
    to_role = escalation_role_for(step, level)
    Escalation.objects.create(
        request=request,
        round=request.round,
        step_index=request.current_step,
        level=level,
        to_role=to_role,
        reason=reason,
        note=note,
        raised_by=actor,
        created_at=now,
    )
    request.escalation_level = level
    request.step_due_at = _due(step, now)
    # After a disagreement only the higher level decides; an SLA escalation adds it.
    _set_acting_roles(request, escalated_only=reason == EscalationReason.DISAGREEMENT)
    request.save()
    record_event(
        actor=actor,
        action="approval_request.escalated",
        target=request,
        after={"level": level, "to_role": to_role, "reason": reason},
        reason=note,
    )
    _notify_approvers(
        request,
        f"Escalated to you: {request.reference} · {request.get_gate_display()} gate",
        f"{EscalationReason(reason).label}. {note}".strip(),
        NotificationKind.APPROVAL_ESCALATED,
        roles=[to_role],
    )
    _broadcast(request, NotificationKind.APPROVAL_ESCALATED, "escalated")


def max_escalation_level(step: dict) -> int:
    start = (
        ESCALATION_CHAIN.index(step["escalation_role"])
        if step.get("escalation_role") in ESCALATION_CHAIN
        else 0
    )
    return len(ESCALATION_CHAIN) - start


def escalate_overdue(*, now=None, batch_size: int = 50) -> int:
    """Escalate every pending step past its due time by one level; returns how many.

    Rows are claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` and an escalated step gets a
    new due time, so concurrent runs never escalate the same step twice (and the unique
    constraint on Escalation is the backstop).
    """
    now = now or timezone.now()
    escalated = 0
    exhausted: set[int] = set()
    while True:
        with transaction.atomic():
            batch = list(
                ApprovalRequest.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(status=RequestStatus.PENDING, step_due_at__lt=now)
                .exclude(pk__in=exhausted)
                .select_related("initiative")
                .order_by("step_due_at", "pk")[:batch_size]
            )
            if not batch:
                return escalated
            for request in batch:
                if request.escalation_level >= max_escalation_level(request.step):
                    exhausted.add(request.pk)
                    continue
                _escalate(request, now=now, reason=EscalationReason.SLA)
                escalated += 1


def request_escalate_disagreement(*, actor, request: ApprovalRequest, reason: str):
    """A reviewer who approved a step that another approver rejected (or sent back) asks the
    next level to decide: the request reopens at that step, one level up."""
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationError({"reason": "Explain the disagreement (at least 10 characters)."})
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(request)
        decisions = list(
            Decision.objects.filter(
                request=locked, round=locked.round, step_index=locked.current_step
            )
        )
        approvers = {d.approver_id for d in decisions if d.outcome == Outcome.APPROVE}
        dissent = [d for d in decisions if d.outcome != Outcome.APPROVE]
        if locked.status not in (RequestStatus.REJECTED, RequestStatus.CHANGES_REQUESTED):
            raise AlreadyDecided("Only a rejected or sent-back request can be escalated.")
        if not approvers or not dissent:
            raise ValidationError("There is no disagreement on this step to escalate.")
        if actor.pk not in approvers:
            raise PermissionDenied("Only a reviewer who approved this step can escalate it.")
        if locked.escalation_level >= max_escalation_level(locked.step):
            raise ValidationError("This step is already at the highest level.")
        locked.status = RequestStatus.PENDING
        locked.decided_at = None
        # The next level decides afresh: earlier decisions on the step stay on record.
        locked.round += 1
        try:
            with transaction.atomic():
                _escalate(
                    locked, now=now, reason=EscalationReason.DISAGREEMENT, actor=actor, note=reason
                )
                _apply_status_effect(locked, actor)
        except IntegrityError:
            raise AlreadyDecided(
                "A newer request for this gate is open; decide that one instead."
            ) from None
    return locked
