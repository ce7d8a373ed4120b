"""The portfolio's links in the main menu (``core.navigation``), registered at start-up."""

from core.navigation import Group, NavLink, register_nav_links
from portfolio.duplicates.permissions import can_review_duplicates


def register() -> None:
    register_nav_links(
        NavLink(Group.PORTFOLIO, "Initiatives", "portfolio:initiative_list"),
        NavLink(Group.PORTFOLIO, "Scaling", "portfolio:scaling"),
        NavLink(Group.PORTFOLIO, "Roadmap", "roadmap:index"),
        NavLink(Group.PORTFOLIO, "Barriers", "roadmap:barrier_heatmap"),
        NavLink(
            Group.PORTFOLIO,
            "Possible duplicates",
            "portfolio:duplicate_list",
            can_review_duplicates,
        ),
    )
