from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_link(context, field: str, label: str):
    """A column header link that sorts by ``field`` and toggles direction, keeping filters."""
    request = context["request"]
    params = request.GET.copy()
    current = params.get("ordering", "")
    descending = current == field
    params["ordering"] = f"-{field}" if descending else field
    params.pop("page", None)
    if current == field:
        indicator, aria = " ▲", "ascending"
    elif current == f"-{field}":
        indicator, aria = " ▼", "descending"
    else:
        indicator, aria = "", "none"
    return format_html(
        '<a href="?{}" hx-get="?{}" hx-target="#results" hx-push-url="true" '
        'aria-sort="{}">{}{}</a>',
        params.urlencode(),
        params.urlencode(),
        aria,
        label,
        indicator,
    )


@register.filter
def stage_class(stage: str) -> str:
    return f"badge badge-{stage}"


@register.filter
def token_state(token, now) -> str:
    """An API token's state at ``now``: active, expired or revoked."""
    return token.state(now)
