"""Who may do what to initiatives. Pure predicates, also used to show or hide buttons."""

from core.choices import BU_WRITE_ROLES, Role
from core.permissions import (
    business_unit_ids,
    can_write_for_business_unit,
    has_any_role,
    writes_whole_organisation,
)


def can_create_initiative(user, business_unit) -> bool:
    return business_unit is not None and can_write_for_business_unit(user, business_unit.pk)


def can_register_initiatives(user) -> bool:
    """Whether the user may register an initiative in some unit (the register form's and the
    wizard's unit choice is not empty): organisation-wide writers, BU members and leads."""
    if user is None or not user.is_authenticated:
        return False
    return writes_whole_organisation(user) or bool(business_unit_ids(user, BU_WRITE_ROLES))


def can_edit_initiative(user, initiative) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return (
        can_write_for_business_unit(user, initiative.business_unit_id)
        or initiative.accountable_owner_id == user.pk
        or initiative.technical_lead_id == user.pk
    )


def can_change_stage(user, initiative, to_stage: str | None = None) -> bool:
    """Editors and organisation-wide writers change stages; the risk function may also pause
    an initiative (from an incident, issue 20), under the same stage rules."""
    if can_edit_initiative(user, initiative) or writes_whole_organisation(user):
        return True
    return to_stage == "paused" and has_any_role(user, {Role.RISK_OFFICER})
