import datetime

from django import template
from django.template.defaultfilters import floatformat
from django.utils.formats import date_format
from django.utils.html import format_html

from core.periods import ONE_DAY, is_midnight

register = template.Library()


def _sort_state(request, field: str):
    """The query string that sorts by ``field`` (toggling its direction, keeping filters),
    the arrow shown and the ``aria-sort`` value of its column ("" when not sorted by it)."""
    params = request.GET.copy()
    current = params.get("ordering", "")
    params["ordering"] = f"-{field}" if current == field else field
    params.pop("page", None)
    if current == field:
        return params.urlencode(), " ▲", "ascending"
    if current == f"-{field}":
        return params.urlencode(), " ▼", "descending"
    return params.urlencode(), "", ""


@register.simple_tag(takes_context=True)
def sort_link(context, field: str, label: str):
    """A column header link that sorts by ``field`` and toggles direction, keeping filters."""
    query, indicator, _aria = _sort_state(context["request"], field)
    return format_html(
        '<a href="?{}" hx-get="?{}" hx-target="#results" hx-push-url="true">{}{}</a>',
        query,
        query,
        label,
        indicator,
    )


@register.simple_tag(takes_context=True)
def sort_header(context, field: str, label: str, css_class: str = "", abbr: str = ""):
    """A sortable ``<th>``: ``aria-sort`` belongs on the column header (not on its link) and
    only on the column the table is sorted by; ``abbr`` explains a short label."""
    _query, _indicator, aria = _sort_state(context["request"], field)
    link = sort_link(context, field, label)
    if abbr:
        link = format_html('<abbr title="{}">{}</abbr>', abbr, link)
    return format_html(
        '<th scope="col"{}{}>{}</th>',
        format_html(' class="{}"', css_class) if css_class else "",
        format_html(' aria-sort="{}"', aria) if aria else "",
        link,
    )


@register.filter
def stage_class(stage: str) -> str:
    return f"badge badge-{stage}"


@register.filter
def token_state(token, now) -> str:
    """An API token's state at ``now``: active, expired or revoked."""
    return token.state(now)


def _period_bound(moment, *, end: bool) -> str:
    if moment is None:
        return ""
    if is_midnight(moment):
        day = (moment - ONE_DAY) if end else moment
        return date_format(day.astimezone(datetime.UTC).date(), "j M Y")
    return date_format(moment.astimezone(datetime.UTC), "j M Y H:i") + " UTC"


@register.filter
def period_start(moment) -> str:
    """An allocation's start on a page: its UTC day, with the time only when not midnight."""
    return _period_bound(moment, end=False)


@register.filter
def period_end(moment) -> str:
    """An allocation's (exclusive) end on a page: the last day held for a whole-day end, else
    the instant with its time; "" when open-ended (so ``|default:"open-ended"`` applies)."""
    return _period_bound(moment, end=True)


@register.filter
def money(amount, currency: str = "") -> str:
    """An amount with two decimals and the locale's thousand separators, after its currency:
    ``USD 686,000.00``; "—" when unknown."""
    if amount is None or amount == "":
        return "—"
    return f"{currency} {floatformat(amount, '2g')}".strip()


@register.inclusion_tag("core/partials/_custom_fields.html", takes_context=True)
def custom_fields(context, instance, card=True):
    """The custom fields of ``instance`` the reader sees (and retired values), as a card of
    facts or (``card=False``) as bare ``dt``/``dd`` pairs inside the page's own list."""
    from core.customfields import detail_rows

    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return {"rows": detail_rows(instance, user=user), "card": card}
