"""Approval policies as data: the default policies and publishing a revised version (a
request keeps the snapshot it was submitted under)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from core.audit import record_event
from core.choices import Role
from core.permissions import has_any_role
from governance.approvals.defaults import DEFAULT_POLICIES
from governance.approvals.models import (
    ApprovalPolicy,
    ApprovalStep,
)
from governance.risk.choices import CONTENT_GATES, Gate, Tier

POLICY_ADMIN_ROLES = frozenset({Role.COE_ADMIN, Role.ADMIN})


def policies_install_defaults(*, models=None) -> int:
    """Install the default policy of every tier × gate that has none (idempotent).

    ``models`` maps "ApprovalPolicy"/"ApprovalStep" to (historical) classes for migrations.
    """
    policy_model = (models or {}).get("ApprovalPolicy", ApprovalPolicy)
    step_model = (models or {}).get("ApprovalStep", ApprovalStep)
    created = 0
    with transaction.atomic():
        for gate in Gate.values:
            # Governance content has no risk tier: one policy (Tier 1's) routes it.
            tiers = [Tier.MINIMAL] if gate in CONTENT_GATES else Tier.values
            for tier in tiers:
                if policy_model.objects.filter(tier=tier, gate=gate).exists():
                    continue
                policy = policy_model.objects.create(
                    tier=tier, gate=gate, version=1, blocks_gate=tier == Tier.UNACCEPTABLE
                )
                steps = DEFAULT_POLICIES.get((gate, tier), [])
                step_model.objects.bulk_create(
                    step_model(
                        policy=policy,
                        order=order,
                        name=step["name"],
                        required_role=step["role"],
                        approvals_needed=step["approvals"],
                        sla_hours=step["sla_hours"],
                        escalation_role=step["escalation_role"],
                        fast_path_allowed=step["fast_path"],
                    )
                    for order, step in enumerate(steps)
                )
                created += 1
    return created


def active_policy(*, tier: int, gate: str) -> ApprovalPolicy:
    policy = (
        ApprovalPolicy.objects.filter(tier=tier, gate=gate, is_active=True)
        .prefetch_related("steps")
        .first()
    )
    if policy is None:
        policies_install_defaults()
        policy = ApprovalPolicy.objects.prefetch_related("steps").get(
            tier=tier, gate=gate, is_active=True
        )
    return policy


def policy_revise(*, actor, policy: ApprovalPolicy, steps: list[dict]) -> ApprovalPolicy:
    """Replace a policy's steps by publishing a new version. Requests already submitted keep
    the snapshot of the version they were submitted under."""
    if not has_any_role(actor, POLICY_ADMIN_ROLES):
        raise PermissionDenied("Only CoE admins can change approval policies.")
    if policy.tier == Tier.UNACCEPTABLE and steps:
        raise ValidationError({"steps": "Tier 4 policies block every gate and have no steps."})
    errors = {}
    for index, step in enumerate(steps):
        if step.get("role") not in Role.values:
            errors[f"steps.{index}.role"] = "Choose a role."
        if int(step.get("approvals") or 0) < 1:
            errors[f"steps.{index}.approvals"] = "At least one approval is needed."
        if int(step.get("sla_hours") or 0) < 1:
            errors[f"steps.{index}.sla_hours"] = "The SLA must be at least one hour."
        if not str(step.get("name") or "").strip():
            errors[f"steps.{index}.name"] = "Name the step."
    if policy.tier != Tier.UNACCEPTABLE and not steps:
        errors["steps"] = "A policy needs at least one step."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = ApprovalPolicy.objects.select_for_update().get(pk=policy.pk)
        latest = (
            ApprovalPolicy.objects.filter(tier=current.tier, gate=current.gate)
            .order_by("-version")
            .first()
        )
        ApprovalPolicy.objects.filter(tier=current.tier, gate=current.gate, is_active=True).update(
            is_active=False
        )
        revised = ApprovalPolicy.objects.create(
            tier=current.tier,
            gate=current.gate,
            version=latest.version + 1,
            blocks_gate=current.blocks_gate,
            created_by=actor,
        )
        ApprovalStep.objects.bulk_create(
            ApprovalStep(
                policy=revised,
                order=order,
                name=str(step["name"]).strip(),
                required_role=step["role"],
                approvals_needed=int(step["approvals"]),
                sla_hours=int(step["sla_hours"]),
                escalation_role=step.get("escalation_role") or Role.COE_ADMIN,
                fast_path_allowed=bool(step.get("fast_path")),
            )
            for order, step in enumerate(steps)
        )
        record_event(
            actor=actor,
            action="approval_policy.revised",
            target=revised,
            before=current.snapshot(),
            after=revised.snapshot(),
        )
    return revised
