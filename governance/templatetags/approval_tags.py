"""Display helpers for approval requests: role labels, people, escalation targets."""

from django import template

from core.choices import Role
from governance.approvals.services import escalation_role_for

register = template.Library()


@register.filter
def role_label(value: str) -> str:
    """A role's label ("coe_reviewer" → "CoE reviewer"); unknown values as they are."""
    try:
        return Role(value).label
    except ValueError:
        return value or ""


@register.filter
def person(user) -> str:
    """A user's full name, else their username ("—" for nobody)."""
    if user is None:
        return "—"
    return user.get_full_name() or user.get_username()


@register.filter
def escalated_to(approval) -> str:
    """The role a pending request's current step is escalated to ("" when not escalated)."""
    step = approval.step
    if not approval.escalation_level or step is None:
        return ""
    return role_label(escalation_role_for(step, approval.escalation_level))
