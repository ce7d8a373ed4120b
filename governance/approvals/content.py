"""Governance content through the approval engine (issue 19): a CoE admin submits a
questionnaire draft for publication (the ``questionnaire`` gate, routed by its policy like
every gate); the last approval publishes it. While the request is open the draft is frozen."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.audit import record_event
from core.choices import NotificationKind
from core.gates import subject_of
from governance.approvals import services as engine
from governance.approvals.choices import OPEN_REQUEST_STATUSES, RequestStatus
from governance.approvals.effects import GATE_EFFECTS
from governance.approvals.models import ApprovalRequest
from governance.approvals.policies import active_policy
from governance.risk import services as risk_services
from governance.risk.choices import Gate, Tier
from governance.risk.models import Questionnaire
from governance.risk.permissions import can_manage_library

QUESTIONNAIRE_SUBJECT = Questionnaire._meta.label_lower


def open_publication_request(questionnaire: Questionnaire) -> ApprovalRequest | None:
    return ApprovalRequest.objects.filter(
        gate=Gate.QUESTIONNAIRE,
        subject_type=QUESTIONNAIRE_SUBJECT,
        subject_id=str(questionnaire.pk),
        status__in=OPEN_REQUEST_STATUSES,
    ).first()


def publication_requests(questionnaire: Questionnaire):
    """Every publication request of a questionnaire version, newest first."""
    return ApprovalRequest.objects.filter(
        gate=Gate.QUESTIONNAIRE,
        subject_type=QUESTIONNAIRE_SUBJECT,
        subject_id=str(questionnaire.pk),
    ).order_by("-submitted_at", "-pk")


def questionnaire_publication_submit(
    *, actor, questionnaire: Questionnaire, comment: str = ""
) -> ApprovalRequest:
    """Submit a draft for publication under the active ``questionnaire`` gate policy."""
    if not can_manage_library(actor):
        raise PermissionDenied("Only CoE admins can submit a questionnaire for publication.")
    if questionnaire.is_published:
        raise ValidationError({"gate": f"v{questionnaire.version} is already published."})
    if not questionnaire.questions.exists():
        raise ValidationError({"gate": "A questionnaire needs at least one question."})
    policy = active_policy(tier=Tier.MINIMAL, gate=Gate.QUESTIONNAIRE)
    snapshot = policy.snapshot()
    if not snapshot["steps"]:
        raise ValidationError({"gate": "The questionnaire gate's policy has no steps."})
    subject_type, subject_id = subject_of(questionnaire)
    now = timezone.now()
    try:
        with transaction.atomic():
            Questionnaire.objects.select_for_update().filter(pk=questionnaire.pk).first()
            if open_publication_request(questionnaire) is not None:
                raise engine.AlreadyDecided({"gate": "A publication request is already open."})
            request = ApprovalRequest.objects.create(
                initiative=None,
                gate=Gate.QUESTIONNAIRE,
                subject_type=subject_type,
                subject_id=subject_id,
                tier=Tier.MINIMAL,
                policy=policy,
                policy_snapshot=snapshot,
                submitted_by=actor,
                submitted_at=now,
                step_due_at=engine._due(snapshot["steps"][0], now),
                comment=comment,
                acting_roles=f",{snapshot['steps'][0]['role']},",
            )
            record_event(
                actor=actor,
                action="approval_request.submitted",
                target=request,
                after={
                    "gate": Gate.QUESTIONNAIRE,
                    "questionnaire_version": questionnaire.version,
                    "policy_version": policy.version,
                },
                reason=comment,
            )
            engine._notify_approvers(
                request,
                f"Approval needed: questionnaire v{questionnaire.version} publication",
                f"{questionnaire.title} v{questionnaire.version} awaits {request.step['name']}.",
                NotificationKind.APPROVAL_REQUESTED,
            )
            engine._broadcast(request, NotificationKind.APPROVAL_REQUESTED, "submitted")
    except IntegrityError:
        raise engine.AlreadyDecided({"gate": "A publication request is already open."}) from None
    return request


def _publish_questionnaire(request: ApprovalRequest, actor) -> None:
    """An approved ``questionnaire`` request publishes its version (the effect)."""
    questionnaire = Questionnaire.objects.get(pk=request.subject_id)
    risk_services.questionnaire_publish(actor=actor, questionnaire=questionnaire, via_gate=request)


def _frozen_while_in_review(questionnaire: Questionnaire) -> str:
    """Pending: frozen. Changes requested: the author edits, then resubmits."""
    request = open_publication_request(questionnaire)
    if request is not None and request.status == RequestStatus.PENDING:
        return (
            f"v{questionnaire.version} is submitted for publication; it cannot change until "
            "the request is decided or withdrawn."
        )
    return ""


GATE_EFFECTS[Gate.QUESTIONNAIRE] = _publish_questionnaire


def register() -> None:
    """Called from ``GovernanceConfig.ready``: freeze drafts under review."""
    risk_services.register_questionnaire_edit_guard(_frozen_while_in_review)
