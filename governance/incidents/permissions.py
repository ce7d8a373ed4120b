"""Who may do what to incidents. Pure predicates, also used to show or hide buttons.

Seeing an incident is the selectors' job (scoped through its initiatives); these say who
may act on one that is seen."""

from core.choices import Role
from core.permissions import has_any_role

# The CoE and the risk function run incidents across the organisation.
INCIDENT_MANAGER_ROLES = frozenset(
    {Role.COE_REVIEWER, Role.COE_ADMIN, Role.RISK_OFFICER, Role.ADMIN}
)
RISK_FUNCTION_ROLES = frozenset({Role.RISK_OFFICER})


def is_authenticated(user) -> bool:
    return user is not None and user.is_authenticated


def can_report_incident(user) -> bool:
    """Any signed-in member may report an incident of an initiative they can see."""
    return is_authenticated(user)


def can_manage_incident(user, incident=None) -> bool:
    """Triage, transitions, reports and actions: the CoE, the risk function, or the
    incident's owner."""
    if not is_authenticated(user):
        return False
    if has_any_role(user, INCIDENT_MANAGER_ROLES):
        return True
    return incident is not None and incident.owner_id == user.pk


def is_risk_function(user) -> bool:
    return is_authenticated(user) and has_any_role(user, RISK_FUNCTION_ROLES)


def can_waive_action(user) -> bool:
    """Only a risk officer waives an open corrective action."""
    return is_risk_function(user)


def can_pause_initiative(user) -> bool:
    return is_risk_function(user)


def can_edit_regimes(user) -> bool:
    return is_authenticated(user) and has_any_role(user, {Role.COE_ADMIN, Role.ADMIN})
