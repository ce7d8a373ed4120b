"""Gate effects: what an approved request does to its subject (a stage change, a scale-out
deployment, a model release, a GPU allocation), applied in the approving transaction."""

from governance.approvals.models import (
    ApprovalRequest,
)
from governance.risk.choices import Gate
from inventory.capacity import services as gpu_requests
from inventory.capacity.models import GPURequest
from inventory.gpu.models import GPUPool
from inventory.registry.choices import ModelStatus
from inventory.registry.models import ModelVersion
from inventory.registry.services import (
    model_version_change_status,
)
from portfolio.initiatives.choices import DeploymentStatus, Stage
from portfolio.initiatives.models import Deployment, Initiative
from portfolio.initiatives.services import (
    DEPLOYMENT_GATE_SUBJECT,
    deployment_set_status,
    initiative_change_stage,
)

# ``ApprovalRequest.subject_type`` of a ``scale`` request for another unit's adoption.
DEPLOYMENT_SUBJECT = DEPLOYMENT_GATE_SUBJECT

# Gate → what approval does. Issues that add GPU requests and model releases register their
# effects here (gate → function(request, actor)).
GATE_STAGE = {
    Gate.INTAKE: Stage.PROPOSED,
    Gate.PILOT: Stage.PILOT,
    Gate.PRODUCTION: Stage.PRODUCTION,
    Gate.SCALE: Stage.SCALED,
}

GATE_EFFECTS: dict = {}

# Gate → function(request, actor) run when a request of that gate is rejected, sent back,
# withdrawn, resubmitted or reopened (its subject mirrors the outcome).
GATE_STATUS_EFFECTS: dict = {}


def _apply_gate_effect(request: ApprovalRequest, actor) -> None:
    effect = GATE_EFFECTS.get(request.gate)
    if effect is not None:
        effect(request, actor)
        return
    _change_stage(request, actor)


def _apply_status_effect(request: ApprovalRequest, actor) -> None:
    effect = GATE_STATUS_EFFECTS.get(request.gate)
    if effect is not None:
        effect(request, actor)


def _change_stage(request: ApprovalRequest, actor) -> None:
    """The default effect: move the initiative to the gate's stage."""
    to_stage = GATE_STAGE.get(request.gate)
    if to_stage is None:
        return
    initiative = Initiative.objects.get(pk=request.initiative_id)
    if initiative.stage == to_stage:
        return
    initiative_change_stage(
        actor=actor,
        initiative=initiative,
        to_stage=to_stage,
        reason=f"Approved through the {request.get_gate_display()} gate (request #{request.pk}).",
        via_gate=request,
    )


def _scale(request: ApprovalRequest, actor) -> None:
    """An approved ``scale`` request: another unit's adoption puts its deployment in
    production; otherwise the initiative itself becomes scaled."""
    if request.subject_type != DEPLOYMENT_SUBJECT:
        _change_stage(request, actor)
        return
    deployment = Deployment.objects.get(pk=request.subject_id, initiative_id=request.initiative_id)
    if deployment.status == DeploymentStatus.PRODUCTION:
        return
    deployment_set_status(
        actor=actor,
        deployment=deployment,
        status=DeploymentStatus.PRODUCTION,
        reason=f"Approved through the Scale gate (request #{request.pk}).",
        via_gate=request,
    )


GATE_EFFECTS[Gate.SCALE] = _scale


def _release_model_version(request: ApprovalRequest, actor) -> None:
    """An approved ``model_release`` request puts its model version in production."""
    version = ModelVersion.objects.select_related("model").get(pk=request.subject_id)
    model_version_change_status(
        actor=actor,
        version=version,
        to_status=ModelStatus.PRODUCTION,
        reason=f"Approved through the Model release gate (request #{request.pk}).",
        via_gate=request,
    )


GATE_EFFECTS[Gate.MODEL_RELEASE] = _release_model_version


def _gpu_request_of(request: ApprovalRequest) -> GPURequest:
    return GPURequest.objects.select_related("initiative", "pool").get(
        pk=request.subject_id, initiative_id=request.initiative_id
    )


def _allocate_gpu_request(request: ApprovalRequest, actor) -> None:
    """An approved ``gpu_request`` request creates the allocation, as ``actor`` (the last
    approver, or the requester when fast-pathed): the inventory service accepts the approved
    gate request in place of the platform-engineer permission. A pool that no longer has the
    GPUs refuses the approval with the capacity message, and nothing changes."""
    gpu_requests.gpu_request_allocate(
        actor=actor, gpu_request=_gpu_request_of(request), via_gate=request
    )


def _sync_gpu_request(request: ApprovalRequest, actor) -> None:
    """A rejected, withdrawn or reopened ``gpu_request`` request marks its GPU request."""
    gpu_requests.gpu_request_sync_status(
        actor=actor, gpu_request=_gpu_request_of(request), via_gate=request
    )


def _lock_gpu_request_pool(request: ApprovalRequest) -> None:
    GPUPool.objects.select_for_update().filter(
        pk__in=GPURequest.objects.filter(pk=request.subject_id).values("pool_id")
    ).first()


GATE_EFFECTS[Gate.GPU_REQUEST] = _allocate_gpu_request

GATE_STATUS_EFFECTS[Gate.GPU_REQUEST] = _sync_gpu_request
