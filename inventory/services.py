"""Writes of the inventory: models, versions, GPU pools and allocations."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from core.audit import record_event
from core.services import apply_changes, create_audited, snapshot, update_audited
from portfolio.services import initiatives_changed

from .model_services import VERSION_DETAIL_FIELDS, model_tiers_refresh, review_due_on
from .models import AIModel, GPUAllocation, GPUPool, ModelVersion
from .permissions import (
    can_create_allocation,
    can_create_model,
    can_edit_allocation,
    can_edit_model,
    can_manage_pools,
)

MODEL_FIELDS = (
    "name",
    "model_type",
    "vendor",
    "licence",
    "hosting",
    "business_unit",
    "owner",
    "description",
)
# A new version: its details and card, plus its starting status (before production).
MODEL_VERSION_FIELDS = ("version", "status", *VERSION_DETAIL_FIELDS)
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
    "starts_on",
    "ends_on",
    "notes",
)


def _set_initiatives(model: AIModel, initiatives) -> dict:
    if initiatives is None:
        return {}
    before = sorted(model.initiatives.values_list("pk", flat=True))
    model.initiatives.set(initiatives)
    after = sorted(initiative.pk for initiative in initiatives)
    return {} if before == after else {"initiatives": (before, after)}


def model_create(*, actor, data: dict) -> AIModel:
    if not can_create_model(actor, data.get("business_unit")):
        raise PermissionDenied("You cannot register models for that business unit.")
    model = AIModel(**{name: value for name, value in data.items() if name in MODEL_FIELDS})
    model.full_clean()
    with transaction.atomic():
        model.save()
        _set_initiatives(model, data.get("initiatives"))
        model_tiers_refresh(actor=actor, models=[model])
        initiatives_changed(initiative.pk for initiative in data.get("initiatives") or [])
        record_event(
            actor=actor,
            action="ai_model.created",
            target=model,
            after={
                **snapshot(model, MODEL_FIELDS),
                "initiatives": [i.pk for i in data.get("initiatives") or []],
            },
        )
    return model


def model_update(*, actor, model: AIModel, data: dict) -> AIModel:
    if not can_edit_model(actor, model):
        raise PermissionDenied("You cannot edit this model.")
    moving = "business_unit" in data and data["business_unit"].pk != model.business_unit_id
    if moving and not can_create_model(actor, data["business_unit"]):
        raise PermissionDenied("You cannot move a model to that business unit.")
    with transaction.atomic():
        locked = AIModel.objects.select_for_update().get(pk=model.pk)
        before, after = apply_changes(locked, data, MODEL_FIELDS)
        locked.full_clean()
        locked.save()
        linked = _set_initiatives(locked, data.get("initiatives"))
        if linked:
            before["initiatives"], after["initiatives"] = linked["initiatives"]
            model_tiers_refresh(actor=actor, models=[locked])
            # Controls about models (model card, drift) of both old and new consumers.
            initiatives_changed({*before["initiatives"], *after["initiatives"]})
        if after:
            record_event(
                actor=actor, action="ai_model.updated", target=locked, before=before, after=after
            )
    return locked


def model_version_create(*, actor, model: AIModel, data: dict) -> ModelVersion:
    if not can_edit_model(actor, model):
        raise PermissionDenied("You cannot add versions to this model.")
    version = ModelVersion(
        model=model, **{name: value for name, value in data.items() if name in MODEL_VERSION_FIELDS}
    )
    version.next_review_due = review_due_on(version, model.effective_tier)
    version.full_clean()
    with transaction.atomic():
        version.save()  # refuses a new version in production (the model_release gate)
        record_event(
            actor=actor,
            action="model_version.created",
            target=version,
            after=snapshot(version, (*MODEL_VERSION_FIELDS, "next_review_due")),
        )
    return version


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


def _check_capacity(allocation: GPUAllocation) -> None:
    """Refuse an allocation that would over-commit its pool; caller holds the pool's lock."""
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


def allocation_insert(*, actor, allocation: GPUAllocation, audit_extra=None) -> GPUAllocation:
    """Save a new allocation under its pool's row lock after the capacity check, audited.
    The callers decide who may allocate: ``allocation_create`` (platform engineers) and
    ``request_services.gpu_request_allocate`` (an approved ``gpu_request`` gate request)."""
    allocation.full_clean()
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
        before, after = apply_changes(locked, data, ALLOCATION_FIELDS)
        locked.full_clean()
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


def model_cards_incomplete(*, initiative) -> list[str]:
    """For each model serving ``initiative``, what its newest live version's card lacks."""
    from .choices import ModelStatus

    problems = []
    models = initiative.ai_models.prefetch_related("versions")
    for model in models:
        live = [v for v in model.versions.all() if v.status != ModelStatus.RETIRED]
        if not live:
            problems.append(f"{model.name} has no version")
            continue
        newest = max(live, key=lambda version: (version.created_at, version.pk))
        missing = newest.missing_model_card_fields()
        if missing:
            problems.append(f"{model.name} {newest.version} lacks {', '.join(missing)}")
    return problems
