"""The main menu: links grouped by what people come for, each shown only to those who can use it.

Core cannot import the apps above it, so each app registers its links in its
``AppConfig.ready()`` (``<app>/navigation.py``) with the same permission predicate its view
checks; ``nav_items(user)`` keeps the links whose predicate admits the user. The menu's
template (``templates/core/_nav.html``) only renders what this returns.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from core.customfields import can_manage_custom_fields
from core.logins import can_unlock
from core.people import can_manage_people
from core.permissions import can_manage_webhooks, can_view_audit_log
from core.tokens import can_manage_tokens


class Group:
    PORTFOLIO = "Portfolio"
    GOVERNANCE = "Governance"
    MODELS = "Models & data"
    GPUS = "GPUs"
    REPORTS = "Reports"
    ADMIN = "Admin"


GROUP_ORDER = (
    Group.PORTFOLIO,
    Group.GOVERNANCE,
    Group.MODELS,
    Group.GPUS,
    Group.REPORTS,
    Group.ADMIN,
)


def anyone(user) -> bool:
    """Every signed-in person (the page scopes its rows to them)."""
    return user.is_authenticated


@dataclass(frozen=True)
class NavLink:
    group: str
    label: str
    url_name: str
    permitted: Callable[[object], bool] = anyone

    @property
    def url(self) -> str:
        return reverse(self.url_name)


@dataclass(frozen=True)
class NavEntry:
    label: str
    url: str
    current: bool


@dataclass(frozen=True)
class NavGroup:
    label: str
    links: tuple[NavEntry, ...]

    @property
    def current(self) -> bool:
        return any(link.current for link in self.links)


_LINKS: list[NavLink] = []


def register_nav_links(*links: NavLink) -> None:
    """Add links to the menu (called from ``AppConfig.ready()``; registering twice is a no-op)."""
    for link in links:
        if link.group not in GROUP_ORDER:
            raise ValueError(f"Unknown menu group {link.group!r}.")
        if link not in _LINKS:
            _LINKS.append(link)


def registered_links() -> tuple[NavLink, ...]:
    return tuple(_LINKS)


def _is_staff(user) -> bool:
    return user.is_staff


register_nav_links(
    NavLink(Group.ADMIN, "People", "core:people_list", can_manage_people),
    NavLink(Group.ADMIN, "Custom fields", "core:custom_field_list", can_manage_custom_fields),
    NavLink(Group.ADMIN, "Group mappings", "core:group_mappings", can_manage_people),
    NavLink(Group.ADMIN, "Audit log", "core:audit_list", can_view_audit_log),
    NavLink(Group.ADMIN, "All API tokens", "core:api_tokens_all", can_manage_tokens),
    NavLink(Group.ADMIN, "Locked sign-ins", "core:locked_sign_ins", can_unlock),
    NavLink(Group.ADMIN, "Webhooks", "core:webhooks", can_manage_webhooks),
    NavLink(Group.ADMIN, "API documentation", "api-docs"),
    NavLink(Group.ADMIN, "Django admin", "admin:index", _is_staff),
)


def _current_url(path: str, urls: list[str]) -> str | None:
    """The link the page belongs to: the longest link URL that prefixes the path ("/" only
    for the home page itself)."""
    matches = [url for url in urls if path == url or (url != "/" and path.startswith(url))]
    return max(matches, key=len, default=None)


def nav_items(user, path: str = "") -> list[NavGroup]:
    """The menu for ``user``: non-empty groups in ``GROUP_ORDER``, each with the links the
    user may open, the one for ``path`` marked current."""
    if user is None or not user.is_authenticated:
        return []
    visible = [(link, link.url) for link in _LINKS if link.permitted(user)]
    current = _current_url(path, [url for _, url in visible])
    groups = []
    for group in GROUP_ORDER:
        entries = tuple(
            NavEntry(link.label, url, url == current)
            for link, url in visible
            if link.group == group
        )
        if entries:
            groups.append(NavGroup(group, entries))
    return groups
