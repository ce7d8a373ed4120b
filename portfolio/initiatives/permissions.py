"""Who may do what to initiatives. Pure predicates, also used to show or hide buttons."""

from core.permissions import can_write_for_business_unit, writes_whole_organisation


def can_create_initiative(user, business_unit) -> bool:
    return business_unit is not None and can_write_for_business_unit(user, business_unit.pk)


def can_edit_initiative(user, initiative) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return (
        can_write_for_business_unit(user, initiative.business_unit_id)
        or initiative.accountable_owner_id == user.pk
        or initiative.technical_lead_id == user.pk
    )


def can_change_stage(user, initiative) -> bool:
    return can_edit_initiative(user, initiative) or writes_whole_organisation(user)
