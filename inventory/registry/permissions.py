"""Who may change the model registry and the vendor register."""

from core.choices import Role
from core.permissions import can_manage_inventory, can_write_for_business_unit, has_any_role


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


def can_manage_vendors(user) -> bool:
    """The vendor register is kept by the CoE (due diligence) and platform engineers."""
    return can_manage_inventory(user) or has_any_role(
        user, {Role.COE_ADMIN, Role.COE_REVIEWER, Role.RISK_OFFICER}
    )


def can_report_monitoring(user, model) -> bool:
    """Monitoring status comes from the model's editors, or from a monitoring job signed in
    as a platform engineer (a service account with an API token)."""
    return can_edit_model(user, model)
