"""The list-page engine shared by every HTML list: filter, sort, paginate, and answer htmx
requests with just the results partial."""

from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers

from core.exports import export_links
from core.filtersets import apply_filters, checkbox_groups

RESULTS_PARTIAL = "results"
SAVED_FILTER_QUERY = "core/_saved_filter_query.html"


def is_partial_request(request) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_partial_aware(
    request, template: str, context: dict, partial: str = RESULTS_PARTIAL, push_url: bool = True
):
    """Render the whole page, or only ``partial`` for an htmx swap.

    A swap of the page's own results pushes its URL into the history; a fragment loaded
    beside the page (``push_url=False``, e.g. the saved filters) must not replace it.

    ``Vary: HX-Request`` keeps browsers and caches from showing a bare fragment on back
    navigation (the same URL serves both).
    """
    partial_request = is_partial_request(request)
    name = f"{template}#{partial}" if partial_request else template
    response = render(request, name, context)
    if partial_request and push_url:
        # Push a tidy URL (no empty filter fields) into the browser history.
        query = tidy_query(request)
        response["HX-Push-Url"] = f"{request.path}?{query}" if query else request.path
    patch_vary_headers(response, ["HX-Request"])
    return response


def filtered_page(request, *, queryset, filterset_class):
    """Apply the FilterSet to the (already scoped) queryset and return (filterset, page)."""
    filterset, rows = apply_filters(
        request.GET, queryset=queryset, filterset_class=filterset_class, request=request
    )
    # Every list page's multi-valued filters show as checkbox groups, whatever its FilterSet.
    checkbox_groups(filterset.form)
    paginator = Paginator(rows, settings.KEEL_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return filterset, page


def tidy_query(request) -> str:
    """The request's query string without empty parameters."""
    params = request.GET.copy()
    for key in list(params):
        values = [value for value in params.getlist(key) if value]
        if values:
            params.setlist(key, values)
        else:
            del params[key]
    return params.urlencode()


def query_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def render_list(
    request,
    *,
    template: str,
    queryset,
    filterset_class,
    extra_context=None,
    decorate=None,
    total=None,
    export=None,
):
    """A filtered, paginated list page (the results partial for htmx). ``decorate`` takes the
    page's rows and returns them ready for the template (e.g. with per-row permissions).
    ``total`` takes the whole filtered queryset and returns the sum the list's summary line
    shows beside its count ("12 results · total 3,400.00"), e.g. the dashboard figure the
    list is the drill-down of. ``export`` names the list's CSV/XLSX export URLs
    (``<export>_csv``/``_xlsx``), whose links with the current filters go into the context
    (``core/_export_links.html``)."""
    filterset, page = filtered_page(request, queryset=queryset, filterset_class=filterset_class)
    rows = decorate(list(page.object_list)) if decorate else page.object_list
    context = {
        "list_total": total(page.paginator.object_list) if total else None,
        "filter": filterset,
        "page_obj": page,
        "rows": rows,
        "querystring": query_without_page(request),
        "is_filtered": any(value for key, value in request.GET.items() if key != "page"),
        **(export_links(request, export, **request.resolver_match.kwargs) if export else {}),
        **(extra_context or {}),
    }
    response = render_partial_aware(request, template, context)
    if is_partial_request(request):
        # The save-filters form (core/_saved_filters.html, beside the filter bar) saves the
        # filters now shown: send its query along, swapped in out of band.
        response.write(
            render_to_string(
                SAVED_FILTER_QUERY, {"saved_filter_query": tidy_query(request), "oob": True}
            )
        )
    return response
