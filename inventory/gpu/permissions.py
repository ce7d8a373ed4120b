"""Who may change GPU pools and allocations."""

from core.permissions import can_manage_inventory


def can_manage_pools(user) -> bool:
    return can_manage_inventory(user)


def can_create_allocation(user, business_unit) -> bool:
    return business_unit is not None and can_manage_inventory(user)


def can_edit_allocation(user, allocation) -> bool:
    return can_manage_inventory(user)
