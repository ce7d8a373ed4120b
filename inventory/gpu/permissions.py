"""Who may change the GPU catalogue, pools and allocations."""

from core.permissions import can_manage_inventory


def can_manage_gpu_types(user) -> bool:
    """The catalogue is the platform team's reference data, like pools and vendors:
    platform engineers, CoE admins and administrators."""
    return can_manage_inventory(user)


def can_manage_pools(user) -> bool:
    return can_manage_inventory(user)


def can_create_allocation(user, business_unit) -> bool:
    return business_unit is not None and can_manage_inventory(user)


def can_edit_allocation(user, allocation) -> bool:
    return can_manage_inventory(user)


def can_import_allocations(user) -> bool:
    """The bulk allocation import: whoever allocates GPUs (each row's unit is checked too)."""
    return can_manage_inventory(user)
