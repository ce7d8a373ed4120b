"""Writes of the GPU estate: the GPU catalogue, pools and allocations, with the capacity check
under the pool's row lock."""

from bisect import bisect_left, bisect_right
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from core.audit import record_event
from core.services import apply_changes, create_audited, snapshot, update_audited
from inventory.gpu.models import PERIOD_FIELDS, GPUAllocation, GPUPool, GPUType
from inventory.gpu.permissions import (
    can_create_allocation,
    can_edit_allocation,
    can_manage_gpu_types,
    can_manage_pools,
)

GPU_TYPE_FIELDS = (
    "vendor",
    "name",
    "memory_gb",
    "reference_hourly_price",
    "currency",
    "price_source",
    "price_as_of",
    "example_instance",
    "gpus_per_instance",
    "instance_hourly_price",
    "monitoring_names",
    "mig_profiles",
)
GPU_TYPE_DENIED = "Only platform admins edit the GPU catalogue."
GPU_TYPE_DUPLICATE = {"name": "The catalogue already has a GPU type of that name."}

POOL_FIELDS = (
    "name",
    "kind",
    "provider",
    "region",
    "account",
    "cluster",
    "gpu_type",
    "gpu_count",
    "sharing_mode",
    "pricing_model",
    "hourly_rate",
    "currency",
    "instance_type",
    "gpus_per_instance",
    "commitment_id",
    "owning_team",
)

ALLOCATION_FIELDS = (
    "pool",
    "gpu_count",
    "initiative",
    "business_unit",
    "purpose",
    "starts_at",
    "ends_at",
    "starts_on",
    "ends_on",
    "notes",
    "custom_fields",
)


def gpu_type_create(*, actor, data: dict) -> GPUType:
    """Add a catalogue entry (reference data: guidance, never billing truth), audited."""
    if not can_manage_gpu_types(actor):
        raise PermissionDenied(GPU_TYPE_DENIED)
    gpu_type = GPUType(**{name: value for name, value in data.items() if name in GPU_TYPE_FIELDS})
    try:
        gpu_type.full_clean()
    except ValidationError as error:
        if (
            "name" in getattr(error, "error_dict", {})
            and GPUType.objects.filter(name=gpu_type.name).exists()
        ):
            raise ValidationError(GPU_TYPE_DUPLICATE) from None
        raise
    return create_audited(
        gpu_type,
        actor=actor,
        action="gpu_type.created",
        fields=GPU_TYPE_FIELDS,
        duplicate=GPU_TYPE_DUPLICATE,
    )


def gpu_type_update(*, actor, gpu_type: GPUType, data: dict) -> GPUType:
    """Change a catalogue entry under its row lock; audited with before and after."""
    if not can_manage_gpu_types(actor):
        raise PermissionDenied(GPU_TYPE_DENIED)
    return update_audited(
        gpu_type, actor=actor, action="gpu_type.updated", data=data, fields=GPU_TYPE_FIELDS
    )


def pool_create(*, actor, data: dict) -> GPUPool:
    if not can_manage_pools(actor):
        raise PermissionDenied("Only platform engineers can manage GPU pools.")
    pool = GPUPool(**{name: value for name, value in data.items() if name in POOL_FIELDS})
    pool.full_clean()
    return create_audited(pool, actor=actor, action="gpu_pool.created", fields=POOL_FIELDS)


def pool_update(*, actor, pool: GPUPool, data: dict) -> GPUPool:
    if not can_manage_pools(actor):
        raise PermissionDenied("Only platform engineers can manage GPU pools.")

    def validate(locked, after):
        locked.full_clean()
        if "gpu_count" in after:
            committed = _committed_gpus(locked, starts_on=timezone.localdate(), ends_on=None)
            if Decimal(locked.gpu_count) < committed:
                raise ValidationError(
                    {
                        "gpu_count": f"{committed.normalize():f} GPUs are allocated from this pool "
                        "from today on; capacity cannot go below that."
                    }
                )

    return update_audited(
        pool,
        actor=actor,
        action="gpu_pool.updated",
        data=data,
        fields=POOL_FIELDS,
        validate=validate,
    )


def _committed_gpus(pool: GPUPool, *, starts_on, ends_on, exclude_pk=None) -> Decimal:
    """GPUs of ``pool`` allocated at any time overlapping [starts_on, ends_on] (None = open)."""
    overlapping = GPUAllocation.objects.filter(pool=pool)
    if ends_on is not None:
        overlapping = overlapping.filter(starts_on__lte=ends_on)
    if starts_on is not None:
        overlapping = overlapping.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=starts_on))
    if exclude_pk:
        overlapping = overlapping.exclude(pk=exclude_pk)
    return overlapping.aggregate(total=Sum("gpu_count", default=Decimal("0")))["total"]


class CapacityLedger:
    """The rule of ``_committed_gpus`` in memory, for many new allocations of one pool at
    once (the bulk import): the GPUs of every allocation overlapping [starts_on, ends_on].

    Because an allocation never ends before it starts, the overlapping sum is Σ gpu_count of
    allocations starting on or before ``ends_on`` minus Σ of those ending before
    ``starts_on``; two Fenwick trees over the pool's dates answer both prefix sums and take
    each accepted allocation in O(log n), so 8,000 rows in one pool stay fast."""

    def __init__(self, dates):
        self.dates = sorted(set(dates))
        size = len(self.dates) + 1
        self._starts = [Decimal("0")] * size
        self._ends = [Decimal("0")] * size
        self._total = Decimal("0")

    @staticmethod
    def _add(tree, index, value):
        index += 1
        while index < len(tree):
            tree[index] += value
            index += index & -index

    @staticmethod
    def _prefix(tree, count):
        total = Decimal("0")
        while count > 0:
            total += tree[count]
            count -= count & -count
        return total

    def add(self, *, starts_on, ends_on, gpu_count) -> None:
        self._add(self._starts, bisect_left(self.dates, starts_on), gpu_count)
        if ends_on is not None:
            self._add(self._ends, bisect_left(self.dates, ends_on), gpu_count)
        self._total += gpu_count

    def committed(self, *, starts_on, ends_on) -> Decimal:
        started = (
            self._total
            if ends_on is None
            else self._prefix(self._starts, bisect_right(self.dates, ends_on))
        )
        return started - self._prefix(self._ends, bisect_left(self.dates, starts_on))


def _check_capacity(allocation: GPUAllocation, *, committed: Decimal | None = None) -> None:
    """Refuse an allocation that would over-commit its pool; caller holds the pool's lock.
    ``committed`` is the GPUs already taken for the period when the caller knows them (the
    bulk import's ``CapacityLedger``); otherwise they are summed in SQL."""
    if committed is None:
        committed = _committed_gpus(
            allocation.pool,
            starts_on=allocation.starts_on,
            ends_on=allocation.ends_on,
            exclude_pk=allocation.pk,
        )
    free = Decimal(allocation.pool.gpu_count) - committed
    if allocation.gpu_count > free:
        raise ValidationError(
            {
                "gpu_count": f"Only {free.normalize():f} of {allocation.pool.gpu_count} GPUs in "
                f"{allocation.pool.name} are free for that period."
            }
        )


def allocation_create(*, actor, data: dict) -> GPUAllocation:
    """Allocate GPUs from a pool; the pool row is locked so two requests cannot both take the
    last GPUs."""
    if not can_create_allocation(actor, data.get("business_unit")):
        raise PermissionDenied("Only platform engineers can allocate GPUs.")
    allocation = GPUAllocation(
        **{name: value for name, value in data.items() if name in ALLOCATION_FIELDS},
        requested_by=data.get("requested_by") or actor,
        approved_by=actor,
    )
    return allocation_insert(actor=actor, allocation=allocation)


# Related rows a caller resolved itself (the bulk import loads them in one query each), so
# validation need not fetch each again.
ALLOCATION_RELATED = ("pool", "initiative", "business_unit", "requested_by", "approved_by")


def allocation_validate(allocation: GPUAllocation, *, related_resolved: bool = False) -> None:
    """The field and model rules of an allocation (``full_clean``); raises field-level
    ValidationErrors. The capacity check needs the pool's lock: ``_check_capacity``.
    The period is synced first, so a caller may give dates, instants or both."""
    allocation.sync_period()
    # Without any start, say so once, on ``starts_on`` (the field every caller shows).
    unstarted = {"starts_at"} if allocation.starts_at is None else set()
    if related_resolved:
        allocation.full_clean(exclude=[*ALLOCATION_RELATED, *unstarted], validate_constraints=False)
    else:
        allocation.full_clean(exclude=unstarted or None)


def allocation_insert(*, actor, allocation: GPUAllocation, audit_extra=None) -> GPUAllocation:
    """Save a new allocation under its pool's row lock after the capacity check, audited.
    The callers decide who may allocate: ``allocation_create`` (platform engineers) and
    ``request_services.gpu_request_allocate`` (an approved ``gpu_request`` gate request)."""
    allocation_validate(allocation)
    with transaction.atomic():
        allocation.pool = GPUPool.objects.select_for_update().get(pk=allocation.pool_id)
        _check_capacity(allocation)
        allocation.save()
        record_event(
            actor=actor,
            action="gpu_allocation.created",
            target=allocation,
            after={**snapshot(allocation, ALLOCATION_FIELDS), **(audit_extra or {})},
        )
    return allocation


def allocation_update(*, actor, allocation: GPUAllocation, data: dict) -> GPUAllocation:
    if not can_edit_allocation(actor, allocation):
        raise PermissionDenied("Only platform engineers can change GPU allocations.")
    with transaction.atomic():
        locked = GPUAllocation.objects.select_for_update().get(pk=allocation.pk)
        stored_period = snapshot(locked, PERIOD_FIELDS)
        before, after = apply_changes(locked, data, ALLOCATION_FIELDS)
        allocation_validate(locked)
        # Changing one side of the period changes the other: audit both as stored.
        for name, old in stored_period.items():
            before.pop(name, None)
            after.pop(name, None)
            if getattr(locked, name) != old:
                before[name], after[name] = old, getattr(locked, name)
        locked.pool = GPUPool.objects.select_for_update().get(pk=locked.pool_id)
        _check_capacity(locked)
        if after:
            locked.save()
            record_event(
                actor=actor,
                action="gpu_allocation.updated",
                target=locked,
                before=before,
                after=after,
            )
    return locked
