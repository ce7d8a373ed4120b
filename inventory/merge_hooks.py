"""Moving an initiative's inventory when it is merged into another (registered in
InventoryConfig.ready).

The portfolio's merge service cannot import the inventory, so it calls the hooks registered
here inside its transaction, after checking the actor may merge.
"""

from core.audit import record_event

from .models import AIModel, GPUAllocation


def _reason(merged, survivor) -> str:
    return f"Merged {merged.reference} into {survivor.reference}"


def move_gpu_allocations(*, actor, merged, survivor) -> int:
    """Re-point every GPU allocation of ``merged`` at ``survivor`` (its business unit, which
    pays for it, stays as it is), with one audit event per allocation."""
    allocations = list(
        GPUAllocation.objects.select_for_update(of=("self",))
        .filter(initiative=merged)
        .select_related("pool__gpu_type", "business_unit")
        .order_by("pk")
    )
    if not allocations:
        return 0
    GPUAllocation.objects.filter(pk__in=[allocation.pk for allocation in allocations]).update(
        initiative=survivor
    )
    for allocation in allocations:
        record_event(
            actor=actor,
            action="gpu_allocation.moved",
            target=allocation,
            before={"initiative": merged.pk, "initiative_reference": merged.reference},
            after={"initiative": survivor.pk, "initiative_reference": survivor.reference},
            reason=_reason(merged, survivor),
        )
    return len(allocations)


def move_model_links(*, actor, merged, survivor) -> int:
    """Link every model of ``merged`` to ``survivor`` instead, with one audit event per
    model (a model already serving the survivor just loses the merged initiative)."""
    link = AIModel.initiatives.through
    models = list(AIModel.objects.filter(initiatives=merged).order_by("pk"))
    if not models:
        return 0
    already_linked = set(
        link.objects.filter(
            initiative=survivor, aimodel__in=[model.pk for model in models]
        ).values_list("aimodel_id", flat=True)
    )
    link.objects.bulk_create(
        [
            link(aimodel_id=model.pk, initiative_id=survivor.pk)
            for model in models
            if model.pk not in already_linked
        ],
        ignore_conflicts=True,
    )
    link.objects.filter(initiative=merged, aimodel__in=[model.pk for model in models]).delete()
    for model in models:
        record_event(
            actor=actor,
            action="ai_model.initiative_moved",
            target=model,
            before={"initiative": merged.pk, "initiative_reference": merged.reference},
            after={
                "initiative": survivor.pk,
                "initiative_reference": survivor.reference,
                "already_linked": model.pk in already_linked,
            },
            reason=_reason(merged, survivor),
        )
    return len(models)


def register() -> None:
    """Register this module's hooks with the portfolio services."""
    from portfolio.services import register_merge_hook

    register_merge_hook(move_gpu_allocations)
    register_merge_hook(move_model_links)
