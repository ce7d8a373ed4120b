from core.choices import Role
from core.navigation import nav_items
from core.permissions import (
    can_manage_inventory,
    can_manage_organisation,
    can_view_dashboard,
    reads_whole_organisation,
    roles_of,
)
from core.selectors import unread_notification_count


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = roles_of(user)
    return {
        "nav_groups": nav_items(user, request.path),
        "nav_roles": sorted(Role(role).label for role in roles),
        "nav_unread": unread_notification_count(user=user),
        "nav_can_manage_inventory": can_manage_inventory(user),
        "nav_reads_organisation": reads_whole_organisation(user),
        "nav_can_view_dashboard": can_view_dashboard(user),
        "nav_manages_people": user.is_superuser or can_manage_organisation(user),
    }
