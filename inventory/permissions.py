"""Who may change the model inventory and the GPU estate."""

from core.permissions import can_manage_inventory, can_write_for_business_unit


def can_create_model(user, business_unit) -> bool:
    return business_unit is not None and (
        can_manage_inventory(user) or can_write_for_business_unit(user, business_unit.pk)
    )


def can_edit_model(user, model) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return (
        can_manage_inventory(user)
        or model.owner_id == user.pk
        or can_write_for_business_unit(user, model.business_unit_id)
    )


def can_manage_pools(user) -> bool:
    return can_manage_inventory(user)


def can_create_allocation(user, business_unit) -> bool:
    return business_unit is not None and can_manage_inventory(user)


def can_edit_allocation(user, allocation) -> bool:
    return can_manage_inventory(user)
