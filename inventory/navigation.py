"""The inventory's links in the main menu (``core.navigation``), registered at start-up."""

from core.navigation import Group, NavLink, register_nav_links
from inventory.usage.services.batches import can_view_batches


def register() -> None:
    register_nav_links(
        NavLink(Group.MODELS, "Models", "inventory:model_list"),
        NavLink(Group.MODELS, "Reviews overdue", "inventory:overdue_review_list"),
        NavLink(Group.MODELS, "Vendors", "inventory:vendor_list"),
        NavLink(Group.MODELS, "Usage & cost imports", "inventory:ingest_list", can_view_batches),
        NavLink(Group.GPUS, "Pools", "inventory:pool_list"),
        NavLink(Group.GPUS, "Allocations", "inventory:allocation_list"),
        NavLink(Group.GPUS, "GPU requests", "inventory:gpu_request_list"),
        NavLink(Group.GPUS, "Quotas", "inventory:quota_list"),
        NavLink(Group.GPUS, "Utilisation", "inventory:utilisation"),
        NavLink(Group.GPUS, "Chargeback", "inventory:chargeback"),
        NavLink(Group.GPUS, "Findings", "inventory:finding_list"),
        NavLink(Group.GPUS, "Matching keys", "inventory:external_key_list"),
        NavLink(Group.GPUS, "GPU catalogue", "inventory:gpu_type_list"),
    )
