"""Who may assess, override and review controls."""

from core.choices import Role
from core.permissions import has_any_role
from portfolio.initiatives.permissions import can_edit_initiative

RISK_OVERRIDE_ROLES = frozenset({Role.RISK_OFFICER, Role.ADMIN})
CONTROL_REVIEW_ROLES = frozenset({Role.COE_REVIEWER, Role.COE_ADMIN, Role.RISK_OFFICER, Role.ADMIN})
WAIVER_ROLES = frozenset({Role.RISK_OFFICER, Role.COE_ADMIN, Role.ADMIN})
LIBRARY_ROLES = frozenset({Role.COE_ADMIN, Role.ADMIN})


def can_assess(user, initiative) -> bool:
    """Owners and their BU answer the questionnaire; CoE staff and risk officers may too."""
    return can_edit_initiative(user, initiative) or has_any_role(user, CONTROL_REVIEW_ROLES)


def can_override_tier(user) -> bool:
    return has_any_role(user, RISK_OVERRIDE_ROLES)


def can_submit_evidence(user, initiative) -> bool:
    return can_assess(user, initiative)


def can_review_controls(user) -> bool:
    return has_any_role(user, CONTROL_REVIEW_ROLES)


def can_waive_controls(user) -> bool:
    return has_any_role(user, WAIVER_ROLES)


def can_manage_library(user) -> bool:
    return has_any_role(user, LIBRARY_ROLES)
