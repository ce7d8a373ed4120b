"""The executive dashboard page, its definitions page and its CSV/XLSX exports.

Thin: who may look and which figures they see are ``governance.dashboard``'s rules
(``can_view_dashboard``, ``dashboard_filters``, ``dashboard``); the charts are
``governance.dashboard_charts`` (shared with the board-pack PDF), and table cells are
written by ``governance.reports.cell_text``, as the PDF writes them. An htmx request for
the page gets only the panels partial (filters applied), with ``Vary: HX-Request``.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from core.exports import EXTENSIONS, export_response
from core.htmx import render_partial_aware
from core.selectors import business_unit_list

from . import dashboard as figures
from .dashboard_charts import PANEL_CHARTS, dashboard_charts
from .reports import cell_text

TEMPLATE = "governance/dashboard.html"
PANELS_PARTIAL = "panels"


def _filter_bar(*, user, params, filters=None) -> dict:
    """What the filter form shows: the units the reader may choose (their own only, for a
    BU lead), the periods, and the current choice (the submitted one after an error)."""
    units = list(business_unit_list(user=user).order_by("name"))
    if filters is not None:
        chosen_unit = filters.business_unit.pk if filters.business_unit else ""
        chosen_months = filters.months
    else:
        chosen_unit = params.get("business_unit", "")
        chosen_months = params.get("months", "")
    return {
        "unit_options": [(unit.pk, unit.name) for unit in units],
        "offer_all_units": len(units) != 1,
        "period_options": figures.PERIOD_CHOICES,
        "chosen_unit": str(chosen_unit),
        "chosen_months": str(chosen_months),
    }


# Panels with more than their charts to show (figures, a list, a table) have their own body
# template; the others show their charts only.
PANELS_WITH_A_BODY = frozenset(
    {"scaling", "risk-mix", "approvals", "gpu-spend", "roadmap", "top-risks"}
)


def _body_template(key: str) -> str:
    if key in PANELS_WITH_A_BODY:
        return f"governance/partials/_dashboard_{key.replace('-', '_')}.html"
    return "governance/partials/_dashboard_charts.html"


def _cards(board, charts) -> list[dict]:
    """One card per panel: the panel, its charts, its body template and its table with the
    cells written as the board pack writes them."""
    cards = []
    for panel in board.panels:
        table = panel.table()
        cards.append(
            {
                "panel": panel,
                "charts": [charts[key] for key in PANEL_CHARTS[panel.key]],
                "body": _body_template(panel.key),
                "table": table,
                "cells": [[cell_text(value) for value in row] for row in table.rows],
            }
        )
    return cards


@login_required
@require_GET
def dashboard_page(request):
    """The dashboard for ``?business_unit=<id>&months=<3|6|12>``: headline figures and one
    card per panel with its chart, definition, drill-down, data table and exports."""
    try:
        filters = figures.dashboard_filters(user=request.user, params=request.GET)
    except ValidationError as error:
        context = {
            **_filter_bar(user=request.user, params=request.GET),
            "errors": error.message_dict if hasattr(error, "error_dict") else {},
        }
        response = render(request, TEMPLATE, context, status=400)
        patch_vary_headers(response, ["HX-Request"])
        return response
    board = figures.dashboard(user=request.user, filters=filters)
    charts = dashboard_charts(board)
    context = {
        **_filter_bar(user=request.user, params=request.GET, filters=filters),
        "board": board,
        "charts": charts,
        "filters_label": filters.label(),
        "query": _query_string(filters),
        "cards": _cards(board, charts),
    }
    return render_partial_aware(request, TEMPLATE, context, partial=PANELS_PARTIAL)


@login_required
@require_GET
def definitions_page(request):
    """What every dashboard figure means, anchored by panel key (``#funnel`` …)."""
    figures.require_dashboard_reader(request.user)
    return render(
        request,
        "governance/dashboard_definitions.html",
        {"definitions": figures.definitions()},
    )


@login_required
@require_GET
def dashboard_export(request, key, fmt):
    """One panel's table as CSV or XLSX, for the same filters (and scope) as the page."""
    figures.require_dashboard_reader(request.user)
    if key not in figures.PANEL_KEYS or fmt not in EXTENSIONS:
        raise Http404("No such dashboard export.")
    try:
        filters = figures.dashboard_filters(user=request.user, params=request.GET)
    except ValidationError as error:
        return HttpResponseBadRequest(" ".join(error.messages), content_type="text/plain")
    board = figures.dashboard(user=request.user, filters=filters)
    table = board.panel(key).table()
    stem = f"dashboard-{key}"
    if filters.business_unit is not None:
        stem += f"-{slugify(filters.business_unit.code)}"
    return export_response(
        [tuple(table.columns), *table.rows], extension=fmt, stem=stem, title=table.title
    )


def _query_string(filters) -> str:
    """The filters as a query string for export links."""
    return urlencode(filters.query())
