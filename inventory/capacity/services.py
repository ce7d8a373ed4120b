"""GPU requests, quotas and external matching keys.

A **GPU request** is a business unit's ask for GPUs of a pool for one of its initiatives (or
one deployed to it). ``gpu_request_create`` validates it, checks the pool has the GPUs free
for the period (the same rule as ``services._check_capacity``) and submits it to the
``gpu_request`` gate in the same transaction. The gate decides:

- **fast path** (approved at once, the allocation created as the requester's ask): the
  policy's first step allows a fast path, the count is at most
  ``settings.KEEL_FINOPS["FAST_PATH_MAX_GPUS"]``, and the request is *within quota*
  (``fast_path_problems`` is empty);
- otherwise the policy's approvers (platform engineers, plus the CoE for Tier 3) decide; an
  approval creates the allocation (``gpu_request_allocate``), a rejection or withdrawal marks
  the request (``gpu_request_sync_status``). Both are called by governance's gate hooks only:
  they require the approved/decided ``via_gate`` request about this GPU request (the same
  pattern as stage changes and model releases), which is how a BU member's fast-pathed
  request may create an allocation although only platform engineers allocate by hand.

**Within quota** means, for the request's period (overlap rule of ``_check_capacity``):
the requesting unit has a quota in the pool, and its GPUs allocated in the pool plus its
other *pending* requests there plus this request stay within the quota's limit; when the
initiative has its own quota in the pool, the same holds for the initiative's GPUs; and a
monthly GPU-hour budget, if set, is not used up this month. Going over a quota is allowed
(the approvers decide); it only loses the fast path. Pending requests count so that several
small asks cannot together pass the limit unseen.

**Fractional counts**: exclusive pools hand out whole GPUs; time-sliced pools any share of
a GPU in thousandths (milli-GPUs, as Kubernetes GPU-sharing schedulers request: 0.25, 1.5,
0.125); MIG pools sevenths of a GPU (one compute slice), written with three decimals as stored
(1/7 = 0.143, 3/7 = 0.429, 1 + 2/7 = 1.286) or, as before, two (0.14, 0.43, 1.29).

**Locks**: the initiative row, then the pool row, before any audit event (the audit chain
head is a global row lock), the same order as ``request_decide`` (approval request and
initiative, then the pool through ``GATE_LOCKS``), so concurrent requests and approvals
serialise per pool and never deadlock; two requests can never both take the last GPUs.

This module does not import governance at module level (the domain's dependency order is
core → portfolio → inventory → governance); ``gpu_request_create`` calls the gate lazily.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from core.audit import record_event
from core.choices import Role
from core.exceptions import Conflict
from core.gates import is_approved_request, subject_of
from core.periods import month_start
from core.permissions import business_unit_ids, can_manage_inventory, can_write_for_business_unit
from core.services import create_audited, snapshot, update_audited
from inventory.capacity.choices import GPURequestStatus
from inventory.capacity.models import GPUQuota, GPURequest
from inventory.gpu.choices import SharingMode
from inventory.gpu.models import ORPHANING_STAGES, GPUAllocation, GPUPool
from inventory.gpu.services import _check_capacity, allocation_insert
from inventory.usage.models import ExternalKey, UsageDaily
from portfolio.initiatives.choices import DeploymentStatus
from portfolio.initiatives.models import Deployment, Initiative

GPU_REQUEST_GATE = "gpu_request"
# ``ApprovalRequest.subject_type`` of a gpu_request gate request.
GPU_REQUEST_SUBJECT = GPURequest._meta.label_lower
GPU_REQUEST_FIELDS = (
    "initiative",
    "business_unit",
    "pool",
    "gpu_count",
    "purpose",
    "pricing_model",
    "starts_on",
    "ends_on",
    "justification",
)
QUOTA_FIELDS = (
    "business_unit",
    "initiative",
    "pool",
    "deserved_gpus",
    "limit_gpus",
    "monthly_gpu_hour_budget",
)
# A quota's scope (unit, initiative, pool) is fixed; its numbers change.
QUOTA_EDITABLE_FIELDS = ("deserved_gpus", "limit_gpus", "monthly_gpu_hour_budget")
EXTERNAL_KEY_FIELDS = ("kind", "value", "initiative", "business_unit", "allocation")
MIG_SLICES = 7
HUNDREDTH = Decimal("0.01")
THOUSANDTH = Decimal("0.001")


def _plain(number) -> str:
    return f"{Decimal(number).normalize():f}"


# --- Permissions ---------------------------------------------------------------------------


def requesting_unit_ids(initiative: Initiative) -> set[int]:
    """Units that may ask GPUs for ``initiative``: its own, and those it is deployed to."""
    deployed = Deployment.objects.filter(initiative=initiative).exclude(
        status=DeploymentStatus.RETIRED
    )
    return {initiative.business_unit_id, *deployed.values_list("business_unit_id", flat=True)}


def can_request_gpus(user, initiative: Initiative, business_unit) -> bool:
    """Members and leads of the requesting unit, CoE admins, and platform engineers."""
    if user is None or not user.is_authenticated or business_unit is None:
        return False
    return can_manage_inventory(user) or can_write_for_business_unit(user, business_unit.pk)


def can_manage_quotas(user) -> bool:
    """Platform engineers and CoE admins (the inventory keepers)."""
    return can_manage_inventory(user)


def _key_unit_id(key: ExternalKey):
    if key.business_unit_id:
        return key.business_unit_id
    if key.initiative_id:
        return key.initiative.business_unit_id
    if key.allocation_id:
        return key.allocation.business_unit_id
    return None


def can_manage_external_key(user, key: ExternalKey) -> bool:
    """Platform engineers for any key; a BU lead for keys of their unit, its initiatives and
    its allocations."""
    if can_manage_inventory(user):
        return True
    return _key_unit_id(key) in business_unit_ids(user, {Role.BU_LEAD})


def may_manage_some_external_key(user) -> bool:
    return can_manage_inventory(user) or bool(business_unit_ids(user, {Role.BU_LEAD}))


# --- Validation ------------------------------------------------------------------------------


def gpu_count_problem(pool: GPUPool, count) -> str:
    """Why ``count`` GPUs cannot be asked of ``pool`` (empty when it can)."""
    if count is None:
        return "Say how many GPUs."
    count = Decimal(count)
    if count <= 0:
        return "Ask for more than zero GPUs."
    if count != count.quantize(THOUSANDTH):
        return "Use at most three decimals (a thousandth of a GPU)."
    whole = count == count.to_integral_value()
    if pool.sharing_mode == SharingMode.EXCLUSIVE and not whole:
        return f"{pool.name} does not share GPUs: ask for whole GPUs."
    if pool.sharing_mode == SharingMode.MIG and not whole:
        slices = (count * MIG_SLICES).to_integral_value(rounding=ROUND_HALF_UP)
        written = {
            (slices / MIG_SLICES).quantize(places, rounding=ROUND_HALF_UP)
            for places in (HUNDREDTH, THOUSANDTH)
        }
        if count not in written:
            return (
                f"{pool.name} shares GPUs as MIG slices: ask for whole sevenths of a GPU "
                "(0.143 for one slice, 0.429 for three, 1.286 for one GPU and two slices)."
            )
    return ""


def _validate_request(gpu_request: GPURequest) -> None:
    errors = {}
    try:
        gpu_request.full_clean(validate_constraints=False)
    except ValidationError as error:
        errors.update(error.message_dict)
    if "gpu_count" not in errors:
        problem = gpu_count_problem(gpu_request.pool, gpu_request.gpu_count)
        if problem:
            errors["gpu_count"] = [problem]
    today = timezone.localdate()
    if gpu_request.starts_on and gpu_request.starts_on < today and "starts_on" not in errors:
        errors["starts_on"] = ["A request cannot start in the past."]
    if (
        gpu_request.starts_on
        and gpu_request.ends_on
        and gpu_request.ends_on < gpu_request.starts_on
    ):
        errors["ends_on"] = ["The end date cannot be before the start date."]
    if gpu_request.initiative.stage in ORPHANING_STAGES:
        errors["initiative"] = [
            f"{gpu_request.initiative.reference} is "
            f"{gpu_request.initiative.get_stage_display().lower()}: it cannot get GPUs."
        ]
    if errors:
        raise ValidationError(errors)


# --- Quota position --------------------------------------------------------------------------


def _overlapping(queryset, starts_on, ends_on):
    """Rows (allocations or requests) active at some time in [starts_on, ends_on]."""
    if ends_on is not None:
        queryset = queryset.filter(starts_on__lte=ends_on)
    if starts_on is not None:
        queryset = queryset.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=starts_on))
    return queryset


def _total(queryset, field="gpu_count") -> Decimal:
    return queryset.aggregate(total=Sum(field, default=Decimal("0")))["total"]


@dataclass(frozen=True)
class QuotaCheck:
    """One quota's position for a request: what is held and asked in the period."""

    quota: GPUQuota
    scope: str
    committed: Decimal  # allocated in the pool during the period
    pending: Decimal  # other pending requests in the pool during the period
    requested: Decimal
    gpu_hours_this_month: Decimal

    @property
    def after(self) -> Decimal:
        return self.committed + self.pending + self.requested

    @property
    def over_limit(self) -> bool:
        return self.after > self.quota.limit_gpus

    @property
    def budget_used_up(self) -> bool:
        budget = self.quota.monthly_gpu_hour_budget
        return budget is not None and self.gpu_hours_this_month >= budget

    def problems(self) -> list[str]:
        found = []
        if self.over_limit:
            found.append(
                f"{self.scope} would hold {_plain(self.after)} GPUs in {self.quota.pool.name} "
                f"({_plain(self.committed)} allocated, {_plain(self.pending)} pending, "
                f"{_plain(self.requested)} asked), over its limit of "
                f"{_plain(self.quota.limit_gpus)}."
            )
        if self.budget_used_up:
            found.append(
                f"{self.scope} has used {_plain(self.gpu_hours_this_month)} of its "
                f"{_plain(self.quota.monthly_gpu_hour_budget)} GPU-hour budget in "
                f"{self.quota.pool.name} this month."
            )
        return found


def _quota_check(gpu_request: GPURequest, quota: GPUQuota, *, scope: str, rows) -> QuotaCheck:
    allocations = _overlapping(
        GPUAllocation.objects.filter(pool_id=gpu_request.pool_id, **rows),
        gpu_request.starts_on,
        gpu_request.ends_on,
    )
    pending = _overlapping(
        GPURequest.objects.filter(
            pool_id=gpu_request.pool_id, status=GPURequestStatus.PENDING, **rows
        ).exclude(pk=gpu_request.pk),
        gpu_request.starts_on,
        gpu_request.ends_on,
    )
    hours = _total(
        UsageDaily.objects.filter(
            allocation__pool_id=gpu_request.pool_id,
            day__gte=month_start(timezone.localdate()),
            **{f"allocation__{name}": value for name, value in rows.items()},
        ),
        "gpu_hours",
    )
    return QuotaCheck(
        quota=quota,
        scope=scope,
        committed=_total(allocations),
        pending=_total(pending),
        requested=Decimal(gpu_request.gpu_count),
        gpu_hours_this_month=hours,
    )


def quota_checks(gpu_request: GPURequest) -> tuple[list[QuotaCheck], list[str]]:
    """(checks of the quotas that apply, problems outside them such as a missing unit
    quota) for ``gpu_request`` in its pool and period."""
    quotas = GPUQuota.objects.filter(pool_id=gpu_request.pool_id).filter(
        Q(business_unit_id=gpu_request.business_unit_id, initiative__isnull=True)
        | Q(initiative_id=gpu_request.initiative_id)
    )
    quotas = list(quotas.select_related("pool", "business_unit", "initiative"))
    unit_quota = next((q for q in quotas if q.initiative_id is None), None)
    initiative_quota = next((q for q in quotas if q.initiative_id is not None), None)
    checks, missing = [], []
    unit = gpu_request.business_unit
    if unit_quota is None:
        missing.append(f"{unit.code} has no quota in {gpu_request.pool.name}.")
    else:
        checks.append(
            _quota_check(
                gpu_request, unit_quota, scope=unit.code, rows={"business_unit_id": unit.pk}
            )
        )
    if initiative_quota is not None:
        checks.append(
            _quota_check(
                gpu_request,
                initiative_quota,
                scope=gpu_request.initiative.reference,
                rows={"initiative_id": gpu_request.initiative_id},
            )
        )
    return checks, missing


def fast_path_problems(gpu_request: GPURequest) -> list[str]:
    """Why ``gpu_request`` needs the approvers (empty: it may be fast-pathed, if the policy's
    first step allows a fast path): its size, and its quota position."""
    problems = []
    limit = Decimal(str(settings.KEEL_FINOPS["FAST_PATH_MAX_GPUS"]))
    if Decimal(gpu_request.gpu_count) > limit:
        problems.append(
            f"{_plain(gpu_request.gpu_count)} GPUs is more than the fast-path size of "
            f"{_plain(limit)}."
        )
    checks, missing = quota_checks(gpu_request)
    problems.extend(missing)
    for check in checks:
        problems.extend(check.problems())
    return problems


# --- GPU requests ------------------------------------------------------------------------------


def gpu_request_create(*, actor, data: dict) -> GPURequest:
    """Ask for GPUs and submit the ask to the ``gpu_request`` gate (one transaction).

    ``data``: initiative, pool, gpu_count, purpose, starts_on, and optionally business_unit
    (default: the initiative's; else a unit it is deployed to), pricing_model (default: the
    pool's), ends_on (open-ended when empty), justification. Refused with field errors when
    the pool lacks the free GPUs for the period, and with the gate's blockers when the
    initiative may not pass the gate (e.g. no risk assessment yet).
    """
    initiative, pool = data.get("initiative"), data.get("pool")
    errors = {}
    if initiative is None:
        errors["initiative"] = "Choose the initiative the GPUs are for."
    if pool is None:
        errors["pool"] = "Choose a pool."
    if errors:
        raise ValidationError(errors)
    business_unit = data.get("business_unit") or initiative.business_unit
    if business_unit.pk not in requesting_unit_ids(initiative):
        raise ValidationError(
            {
                "business_unit": f"{initiative.reference} is neither of {business_unit.code} "
                "nor deployed to it."
            }
        )
    if not can_request_gpus(actor, initiative, business_unit):
        raise PermissionDenied("Only members of the business unit can ask GPUs for it.")
    gpu_request = GPURequest(
        **{name: value for name, value in data.items() if name in GPU_REQUEST_FIELDS},
        requested_by=actor,
        status=GPURequestStatus.PENDING,
    )
    gpu_request.business_unit = business_unit
    gpu_request.pricing_model = data.get("pricing_model") or pool.pricing_model
    gpu_request.justification = (data.get("justification") or "").strip()
    _validate_request(gpu_request)

    with transaction.atomic():
        # Lock order: initiative, pool, then the audit chain (see the module docstring).
        Initiative.objects.select_for_update().filter(pk=initiative.pk).first()
        gpu_request.pool = (
            GPUPool.objects.select_for_update().select_related("gpu_type").get(pk=pool.pk)
        )
        _check_capacity(
            GPUAllocation(
                pool=gpu_request.pool,
                gpu_count=gpu_request.gpu_count,
                starts_on=gpu_request.starts_on,
                ends_on=gpu_request.ends_on,
            )
        )
        gpu_request.save()
        record_event(
            actor=actor,
            action="gpu_request.created",
            target=gpu_request,
            after=snapshot(gpu_request, GPU_REQUEST_FIELDS),
        )
        _submit_to_gate(actor=actor, gpu_request=gpu_request, comment=gpu_request.justification)
    gpu_request.refresh_from_db()
    return gpu_request


# The approval engine files a new request's gpu_request approval. It lives in governance, which
# the inventory never imports: governance registers its submitter in ``AppConfig.ready()``.
_GATE_SUBMITTERS: list = []


def register_gate_submitter(submitter) -> None:
    """``submitter(*, actor, gpu_request, comment)`` files the request's approval; called inside
    the creating transaction, so a refused submission leaves no request behind."""
    if submitter not in _GATE_SUBMITTERS:
        _GATE_SUBMITTERS.append(submitter)


def _submit_to_gate(*, actor, gpu_request: GPURequest, comment: str) -> None:
    if not _GATE_SUBMITTERS:
        raise ImproperlyConfigured("No approval gate is registered for GPU requests.")
    for submitter in _GATE_SUBMITTERS:
        submitter(actor=actor, gpu_request=gpu_request, comment=comment)


def _check_gate(via_gate, gpu_request: GPURequest, *, approved: bool) -> None:
    subject = subject_of(gpu_request)
    about_it = (
        via_gate is not None
        and getattr(via_gate, "gate", None) == GPU_REQUEST_GATE
        and (via_gate.subject_type, via_gate.subject_id) == subject
    )
    if approved:
        about_it = about_it and is_approved_request(
            via_gate,
            gate=GPU_REQUEST_GATE,
            subject=subject,
            initiative_id=gpu_request.initiative_id,
        )
    if not about_it:
        raise PermissionDenied("A GPU request is decided only through its gpu_request gate.")


def gpu_request_allocate(*, actor, gpu_request: GPURequest, via_gate) -> GPUAllocation:
    """Create the allocation of an approved GPU request (the gate's effect): ``via_gate`` is
    the approved gate request about it. The pool is locked and its capacity re-checked, so
    an approval that would over-commit the pool is refused with the capacity message (and
    the caller's transaction, the approval, rolls back). ``approved_by`` is the approver, or
    empty when fast-pathed."""
    _check_gate(via_gate, gpu_request, approved=True)
    now = timezone.now()
    with transaction.atomic():
        pool = GPUPool.objects.select_for_update().get(pk=gpu_request.pool_id)
        current = GPURequest.objects.get(pk=gpu_request.pk)
        if current.status != GPURequestStatus.PENDING or current.allocation_id:
            raise Conflict(f"GPU request #{current.pk} is already {current.get_status_display()}.")
        note = f"From GPU request #{current.pk}."
        allocation = allocation_insert(
            actor=actor,
            allocation=GPUAllocation(
                pool=pool,
                gpu_count=current.gpu_count,
                initiative_id=current.initiative_id,
                business_unit_id=current.business_unit_id,
                purpose=current.purpose,
                starts_on=current.starts_on,
                ends_on=current.ends_on,
                notes=f"{note} {current.justification}".strip(),
                requested_by_id=current.requested_by_id,
                approved_by=None if via_gate.fast_tracked else actor,
            ),
            audit_extra={"gpu_request": current.pk, "approval_request": via_gate.pk},
        )
        GPURequest.objects.filter(pk=current.pk, status=GPURequestStatus.PENDING).update(
            status=GPURequestStatus.APPROVED,
            allocation=allocation,
            decided_at=now,
            fast_tracked=bool(via_gate.fast_tracked),
        )
        record_event(
            actor=actor,
            action="gpu_request.approved",
            target=current,
            before={"status": GPURequestStatus.PENDING},
            after={
                "status": GPURequestStatus.APPROVED,
                "allocation": allocation.pk,
                "fast_tracked": bool(via_gate.fast_tracked),
            },
            reason=f"Approval request #{via_gate.pk}.",
        )
    return allocation


# Gate request status → GPU request status, for every outcome but approval.
_STATUS_FROM_GATE = {
    "rejected": GPURequestStatus.REJECTED,
    "withdrawn": GPURequestStatus.WITHDRAWN,
    "pending": GPURequestStatus.PENDING,
    "changes_requested": GPURequestStatus.PENDING,
}


def gpu_request_sync_status(*, actor, gpu_request: GPURequest, via_gate) -> GPURequest:
    """Mirror a gate request's rejection, withdrawal or reopening (an escalated
    disagreement) on its GPU request. Approval goes through ``gpu_request_allocate``."""
    _check_gate(via_gate, gpu_request, approved=False)
    status = _STATUS_FROM_GATE.get(via_gate.status)
    current = GPURequest.objects.get(pk=gpu_request.pk)
    if status is None or current.status == status or current.allocation_id:
        return current
    decided_at = None if status == GPURequestStatus.PENDING else timezone.now()
    with transaction.atomic():
        GPURequest.objects.filter(pk=current.pk, allocation__isnull=True).update(
            status=status, decided_at=decided_at
        )
        record_event(
            actor=actor,
            action=f"gpu_request.{status}",
            target=current,
            before={"status": current.status},
            after={"status": status},
            reason=f"Approval request #{via_gate.pk} is {via_gate.status}.",
        )
    current.status, current.decided_at = status, decided_at
    return current


# --- Quotas ------------------------------------------------------------------------------------


def _quota_errors(quota: GPUQuota) -> dict:
    errors = {}
    try:
        quota.full_clean(validate_constraints=False)
    except ValidationError as error:
        errors.update(error.message_dict)
    if quota.deserved_gpus is not None and quota.deserved_gpus < 0:
        errors.setdefault("deserved_gpus", []).append("Deserved GPUs cannot be negative.")
    budget = quota.monthly_gpu_hour_budget
    if budget is not None and budget < 0:
        errors.setdefault("monthly_gpu_hour_budget", []).append("A budget cannot be negative.")
    if errors:
        return errors
    same = GPUQuota.objects.filter(pool_id=quota.pool_id).exclude(pk=quota.pk)
    if quota.initiative_id:
        if same.filter(initiative_id=quota.initiative_id).exists():
            errors["initiative"] = [
                f"{quota.initiative.reference} already has a quota in {quota.pool.name}."
            ]
    elif same.filter(business_unit_id=quota.business_unit_id, initiative__isnull=True).exists():
        errors["business_unit"] = [
            f"{quota.business_unit.code} already has a quota in {quota.pool.name}."
        ]
    return errors


def quota_create(*, actor, data: dict) -> GPUQuota:
    """A unit's (or, with ``initiative``, one initiative's) quota in a pool."""
    if not can_manage_quotas(actor):
        raise PermissionDenied("Only platform engineers and CoE admins manage GPU quotas.")
    quota = GPUQuota(**{name: value for name, value in data.items() if name in QUOTA_FIELDS})
    if quota.initiative_id and not quota.business_unit_id:
        quota.business_unit_id = quota.initiative.business_unit_id
    errors = _quota_errors(quota)
    if errors:
        raise ValidationError(errors)
    return create_audited(
        quota,
        actor=actor,
        action="gpu_quota.created",
        fields=QUOTA_FIELDS,
        duplicate={"pool": "That quota exists already."},
    )


def quota_update(*, actor, quota: GPUQuota, data: dict) -> GPUQuota:
    """Change a quota's numbers (its unit, initiative and pool are fixed)."""
    if not can_manage_quotas(actor):
        raise PermissionDenied("Only platform engineers and CoE admins manage GPU quotas.")

    def validate(locked, after):
        errors = _quota_errors(locked)
        if errors:
            raise ValidationError(errors)

    return update_audited(
        quota,
        actor=actor,
        action="gpu_quota.updated",
        data=data,
        fields=QUOTA_EDITABLE_FIELDS,
        validate=validate,
    )


def quota_delete(*, actor, quota: GPUQuota, reason: str = "") -> None:
    if not can_manage_quotas(actor):
        raise PermissionDenied("Only platform engineers and CoE admins manage GPU quotas.")
    with transaction.atomic():
        locked = GPUQuota.objects.select_for_update().get(pk=quota.pk)
        record_event(
            actor=actor,
            action="gpu_quota.deleted",
            target=locked,
            before=snapshot(locked, QUOTA_FIELDS),
            reason=reason,
        )
        locked.delete()


# --- External keys ---------------------------------------------------------------------------


def external_key_create(*, actor, data: dict) -> ExternalKey:
    """A name usage or cost data uses (namespace, Slurm account, cost tag …) pointing at one
    initiative, business unit or allocation."""
    key = ExternalKey(
        **{name: value for name, value in data.items() if name in EXTERNAL_KEY_FIELDS}
    )
    key.value = (key.value or "").strip()
    targets = [key.initiative_id, key.business_unit_id, key.allocation_id]
    if sum(1 for target in targets if target) != 1:
        raise ValidationError(
            {"initiative": "Point the key at exactly one initiative, business unit or allocation."}
        )
    if not can_manage_external_key(actor, key):
        raise PermissionDenied(
            "Only platform engineers, or the unit's BU lead, manage its matching keys."
        )
    errors = {}
    try:
        key.full_clean(validate_constraints=False)
    except ValidationError as error:
        errors.update(error.message_dict)
    if not errors and ExternalKey.objects.filter(kind=key.kind, value=key.value).exists():
        errors["value"] = [f"The {key.get_kind_display().lower()} “{key.value}” is taken."]
    if errors:
        raise ValidationError(errors)
    return create_audited(
        key,
        actor=actor,
        action="external_key.created",
        fields=EXTERNAL_KEY_FIELDS,
        duplicate={"value": f"The {key.get_kind_display().lower()} “{key.value}” is taken."},
    )


def external_key_delete(*, actor, key: ExternalKey, reason: str = "") -> None:
    if not can_manage_external_key(actor, key):
        raise PermissionDenied(
            "Only platform engineers, or the unit's BU lead, manage its matching keys."
        )
    with transaction.atomic():
        record_event(
            actor=actor,
            action="external_key.deleted",
            target=key,
            before=snapshot(key, EXTERNAL_KEY_FIELDS),
            reason=reason,
        )
        ExternalKey.objects.filter(pk=key.pk).delete()
