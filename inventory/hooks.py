"""Inventory reactions to portfolio events (registered in InventoryConfig.ready)."""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.audit import record_event
from core.choices import NotificationKind, Role
from core.models import Notification
from core.selectors import users_with_roles
from core.services import notification_send
from inventory.gpu.models import GPUAllocation
from inventory.registry.models import AIModel
from inventory.registry.services import model_tiers_refresh
from portfolio.initiatives.choices import ENDED_STAGES
from portfolio.initiatives.models import Initiative, StageChange


def _describe(allocation: GPUAllocation) -> str:
    until = f" until {allocation.ends_on:%d %b %Y}" if allocation.ends_on else ""
    url = reverse("inventory:allocation_detail", args=[allocation.pk])
    return (
        f"- {allocation.gpu_count} × {allocation.pool.gpu_type.name} in {allocation.pool.name} "
        f"for {allocation.business_unit.code} ({allocation.get_purpose_display()}, since "
        f"{allocation.starts_on:%d %b %Y}{until}): {url}"
    )


def notify_orphaned_allocations(initiative_id: int) -> int:
    """Portfolio change hook: when an initiative has just been retired or rejected and
    still holds GPU allocations active today (now orphaned), tell every platform engineer,
    once per such stage change. Returns how many notifications were sent.

    Called after every initiative change commits, so it must be idempotent: the stage
    change row is locked while we look for an earlier notification about it (its URL
    names the stage change), so concurrent calls cannot both send.
    """
    initiative = Initiative.objects.filter(pk=initiative_id).first()
    if initiative is None or initiative.stage not in ENDED_STAGES:
        return 0
    with transaction.atomic():
        ended = (
            StageChange.objects.select_for_update()
            .filter(initiative=initiative, to_stage=initiative.stage)
            .order_by("-changed_at", "-id")
            .first()
        )
        if ended is None:
            return 0
        allocations = list(
            GPUAllocation.objects.active_on(timezone.localdate())
            .filter(initiative=initiative)
            .select_related("pool__gpu_type", "business_unit")
            .order_by("pk")
        )
        if not allocations:
            return 0
        url = f"{initiative.get_absolute_url()}#stage-change-{ended.pk}"
        if Notification.objects.filter(url=url).exists():
            return 0
        gpus = sum(allocation.gpu_count for allocation in allocations)
        subject = (
            f"Orphaned GPUs: {initiative.reference} {initiative.get_stage_display().lower()} "
            f"with {len(allocations)} active allocation{'s' if len(allocations) != 1 else ''}"
        )
        body = "\n".join(
            [
                f"{initiative.reference} {initiative.title} was "
                f"{initiative.get_stage_display().lower()} on {ended.changed_at:%d %b %Y}"
                + (f": {ended.reason}" if ended.reason else "."),
                f"Its {gpus} GPU(s) are now orphaned; release or reassign them:",
                *(_describe(allocation) for allocation in allocations),
            ]
        )
        sent = 0
        for engineer in users_with_roles({Role.PLATFORM_ENGINEER}).order_by("pk"):
            notification_send(
                recipient=engineer,
                subject=subject,
                body=body,
                url=url,
                kind=NotificationKind.GENERAL,
            )
            sent += 1
    return sent


def refresh_model_tiers(initiative_id: int) -> int:
    """Portfolio change hook: recompute the effective tier (and review dates) of the models
    serving the initiative, after any change of it — above all a stage change into or out of
    the live stages (a rejected, retired or merged initiative stops counting; a draft that is
    proposed starts). Idempotent: an unchanged tier writes nothing. Returns how many models
    changed tier (each audited, with no actor: the stage change's own event names who)."""
    with transaction.atomic():
        return model_tiers_refresh(initiative_ids=[initiative_id])


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
    # The survivor's tier may be higher, and the merged initiative no longer counts.
    model_tiers_refresh(actor=actor, models=models)
    return len(models)


def register() -> None:
    """Register the inventory's hooks with the portfolio services (called from ``ready()``)."""
    from inventory.finops.services.chargeback import chargeback_refresh
    from inventory.usage.services.batches import register_costs_imported_hook
    from portfolio.initiatives.services import register_change_hook, register_merge_hook

    register_costs_imported_hook(chargeback_refresh)

    register_change_hook(notify_orphaned_allocations)
    register_change_hook(refresh_model_tiers)
    register_merge_hook(move_gpu_allocations)
    register_merge_hook(move_model_links)
