"""Governance's links in the main menu (``core.navigation``), registered at start-up."""

from core.navigation import Group, NavLink, register_nav_links
from governance.imports.services import can_import, can_see_all_imports
from governance.reporting.dashboard import can_view_dashboard
from governance.risk.permissions import can_manage_library


def _uses_imports(user) -> bool:
    """The import history lists only a person's own jobs unless they see all; someone who
    can neither import nor see others' imports has nothing there."""
    return can_import(user) or can_see_all_imports(user)


def register() -> None:
    register_nav_links(
        NavLink(Group.GOVERNANCE, "Approvals", "governance:queue"),
        NavLink(Group.GOVERNANCE, "Risk register", "governance:risk_register"),
        NavLink(Group.GOVERNANCE, "Approval policies", "governance:policy_list"),
        NavLink(
            Group.GOVERNANCE, "Control library", "governance:control_library", can_manage_library
        ),
        NavLink(
            Group.GOVERNANCE,
            "Questionnaire versions",
            "governance:questionnaire_list",
            can_manage_library,
        ),
        NavLink(Group.GOVERNANCE, "Incidents", "governance:incident_list"),
        NavLink(Group.MODELS, "Initiative imports", "governance:import_list", _uses_imports),
        NavLink(Group.REPORTS, "Dashboard", "dashboard:index", can_view_dashboard),
        NavLink(Group.REPORTS, "Board packs & dossiers", "dashboard:report_list"),
        NavLink(Group.REPORTS, "Definitions", "dashboard:definitions", can_view_dashboard),
    )
