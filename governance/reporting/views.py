"""The executive dashboard page, its definitions page and its CSV/XLSX exports.

Thin: who may look and which figures they see are ``governance.reporting.dashboard``'s rules
(``can_view_dashboard``, ``dashboard_filters``, ``dashboard``); the charts are
``governance.reporting.charts`` (shared with the board-pack PDF), and table cells are
written by ``governance.reporting.services.cell_text``, as the PDF writes them. An htmx request for
the page gets only the panels partial (filters applied), with ``Vary: HX-Request``.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from core.choices import Role
from core.exports import EXPORT_CHUNK_SIZE, EXTENSIONS, export_response, stored_file_response
from core.filtersets import apply_filters
from core.htmx import is_partial_request, render_partial_aware
from core.selectors import business_unit_list
from governance.approvals import selectors as approval_selectors
from governance.approvals.filtersets import ApprovalQueueFilterSet
from governance.approvals.views import SCOPES
from governance.imports import export_rows, presets
from governance.incidents.selectors import incident_panel
from governance.reporting import dashboard
from governance.reporting import dashboard as figures
from governance.reporting import services as reports
from governance.reporting.charts import PANEL_CHARTS, dashboard_charts
from governance.reporting.choices import ReportStatus
from governance.reporting.services import cell_text
from governance.risk import selectors
from governance.risk.filtersets import RiskRegisterFilterSet
from portfolio.initiatives.filtersets import InitiativeFilterSet
from portfolio.initiatives.selectors import initiative_get, initiative_list

TEMPLATE = "governance/reporting/dashboard.html"

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
    {"scaling", "risk-mix", "approvals", "gpu-spend", "roadmap", "top-risks", "value"}
)


def _body_template(key: str) -> str:
    if key in PANELS_WITH_A_BODY:
        return f"governance/reporting/partials/_dashboard_{key.replace('-', '_')}.html"
    return "governance/reporting/partials/_dashboard_charts.html"


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
        # Over every incident the reader sees (the unit and period filters do not apply).
        "incidents": incident_panel(user=request.user),
    }
    return render_partial_aware(request, TEMPLATE, context, partial=PANELS_PARTIAL)


@login_required
@require_GET
def definitions_page(request):
    """What every dashboard figure means, anchored by panel key (``#funnel`` …)."""
    figures.require_dashboard_reader(request.user)
    return render(
        request,
        "governance/reporting/dashboard_definitions.html",
        {
            "definitions": figures.definitions(),
            "other_definitions": figures.OTHER_DEFINITIONS,
        },
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


PROGRESS_PARTIAL = "governance/reporting/partials/_report_progress.html"

ACTIVE = frozenset({ReportStatus.QUEUED, ReportStatus.RUNNING})


def _bad_request(error: ValidationError) -> HttpResponseBadRequest:
    # Plain text: the message may quote what was sent.
    return HttpResponseBadRequest(" ".join(error.messages), content_type="text/plain")


@login_required
@require_GET
def report_list(request):
    """The user's own reports, newest first, with a form to ask for a board pack."""
    paginator = Paginator(reports.report_list(user=request.user), settings.KEEL_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    rows = list(page.object_list)
    for report in rows:  # past its expiry, a report is not offered even before the purge
        report.downloadable = reports.is_downloadable(report)
    may_request = dashboard.can_view_dashboard(request.user)
    context = {
        "page_obj": page,
        "rows": rows,
        "querystring": "",
        "may_request": may_request,
        "period_choices": dashboard.PERIOD_CHOICES,
        "default_months": dashboard.DEFAULT_MONTHS,
    }
    if may_request:
        context["default_filters"] = dashboard.dashboard_filters(user=request.user, params={})
        context["units"] = reports.requestable_units(user=request.user)
    return render_partial_aware(request, "governance/reporting/report_list.html", context)


@login_required
@require_POST
def board_pack_request(request):
    """Queue a board pack for the posted filters (validated as the dashboard does)."""
    try:
        filters = dashboard.dashboard_filters(user=request.user, params=request.POST)
    except ValidationError as error:
        return _bad_request(error)
    report = reports.board_pack_request(actor=request.user, filters=filters)
    messages.success(request, f"Generating the board pack ({report.filters_label}).")
    return redirect(report)


@login_required
@require_POST
def dossier_request(request, initiative_pk):
    initiative = initiative_get(user=request.user, pk=initiative_pk)
    report = reports.dossier_request(actor=request.user, initiative=initiative)
    messages.success(request, f"Generating the governance dossier of {initiative.reference}.")
    return redirect(report)


def _progress_context(report) -> dict:
    return {
        "report": report,
        "polling": report.status in ACTIVE,
        "downloadable": reports.is_downloadable(report),
        "expired": reports.is_expired(report),
    }


@login_required
@require_GET
def report_detail(request, pk):
    """The report's page; for htmx (its own polling) only the progress partial."""
    report = reports.report_get(user=request.user, pk=pk)
    if is_partial_request(request):
        response = render(request, PROGRESS_PARTIAL, _progress_context(report))
    else:
        response = render(
            request, "governance/reporting/report_detail.html", _progress_context(report)
        )
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
def report_download(request, pk):
    """Stream one of the user's own ready reports (404 for anyone else's, 410 once gone)."""
    report = reports.report_get(user=request.user, pk=pk)
    if reports.is_expired(report):
        return HttpResponse(
            "This report has expired: generated PDFs are kept for "
            f"{reports.REPORT_RETENTION_DAYS} days. Request a new one.",
            status=410,
            content_type="text/plain",
        )
    if not reports.is_downloadable(report):
        raise Http404("This report is not ready.")
    return stored_file_response(
        report.file,
        filename=reports.download_filename(report),
        content_type=reports.PDF_CONTENT_TYPE,
        missing="The report's file is missing.",
    )


@dataclass(frozen=True)
class RegisterFormat:
    stem: str  # the file name before the date
    title: str  # the XLSX sheet name
    header: str  # names of the export_rows functions (looked up when called)
    rows: str


INITIATIVE_FORMATS = {
    presets.KEEL: RegisterFormat("initiatives", "Initiatives", "keel_header", "keel_rows"),
    presets.US_FEDERAL_2023: RegisterFormat(
        "ai-use-case-inventory-2023",
        "AI use case inventory",
        "federal_2023_header",
        "federal_2023_rows",
    ),
    presets.US_FEDERAL: RegisterFormat(
        "ai-use-case-inventory", "AI use case inventory", "federal_header", "federal_rows"
    ),
    presets.US_FEDERAL_2025: RegisterFormat(
        "ai-use-case-inventory-2025",
        "AI use case inventory",
        "federal_2025_header",
        "federal_2025_rows",
    ),
}


def initiative_format(params) -> RegisterFormat:
    """The format ``?format=`` names (``keel`` when absent); 400 for any other value."""
    name = params.get("format") or presets.KEEL
    if name not in INITIATIVE_FORMATS:
        raise BadRequest(f"Unknown export format {name!r}: use {' or '.join(INITIATIVE_FORMATS)}.")
    return INITIATIVE_FORMATS[name]


def initiative_export_rows(*, user, params, register: RegisterFormat, request=None):
    """The header, then the rows of ``governance.imports.export_rows`` in ``register``'s
    format, for the initiative list (``portfolio.initiatives.selectors.initiative_list``) as
    filtered
    by ``InitiativeFilterSet`` on ``params``."""
    _, initiatives = apply_filters(
        params,
        queryset=initiative_list(user=user),
        filterset_class=InitiativeFilterSet,
        request=request,
    )
    if register.header == "keel_header":
        # Keel's own format carries the custom fields (the importer reads them back).
        yield export_rows.keel_header(user=user)
        yield from export_rows.keel_rows(initiatives, user=user)
        return
    yield getattr(export_rows, register.header)()
    yield from getattr(export_rows, register.rows)(initiatives)


@login_required
@require_GET
def initiative_export(request, extension):
    """The initiative register as CSV or XLSX, ``?format=keel`` (default: Keel's own format,
    which the importer reads back) or ``?format=us-federal-2023|2024|2025`` (the federal
    inventory columns of that year), with the initiative list's filters."""
    register = initiative_format(request.GET)
    rows = initiative_export_rows(
        user=request.user, params=request.GET, register=register, request=request
    )
    return export_response(rows, extension=extension, stem=register.stem, title=register.title)


APPROVAL_EXPORT_HEADER = (
    "Initiative",
    "Initiative title",
    "Business unit",
    "Gate",
    "Tier",
    "Status",
    "Current step",
    "Current step role",
    "Step due",
    "Overdue",
    "Escalation level",
    "Submitted by",
    "Submitted at",
    "Decided at",
    "Decisions",
)


def queue_scope(params) -> str:
    """The queue tab ``?scope=`` names, as on the page (its first tab when unknown)."""
    scope = params.get("scope")
    return scope if scope in dict(SCOPES) else SCOPES[0][0]


def _role_label(value) -> str:
    try:
        return Role(value).label
    except ValueError:
        return value or ""


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def approval_export_rows(*, user, params, request=None) -> Iterator[tuple]:
    """The header, then one row per request of the queue tab and filters in ``params``."""
    yield APPROVAL_EXPORT_HEADER
    _, approvals = apply_filters(
        params,
        queryset=approval_selectors.request_queue(user=user, scope=queue_scope(params)),
        filterset_class=ApprovalQueueFilterSet,
        request=request,
    )
    now = timezone.now()
    for approval in approvals.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        initiative = approval.initiative
        step = approval.step if approval.status == "pending" else None
        yield (
            initiative.reference,
            initiative.title,
            initiative.business_unit.name,
            approval.get_gate_display(),
            approval.tier,
            approval.get_status_display(),
            step.get("name", "") if step else "",
            _role_label(step.get("role")) if step else "",
            approval.step_due_at,
            "Yes" if approval.is_overdue(now) else "No",
            approval.escalation_level,
            _person(approval.submitted_by),
            approval.submitted_at,
            approval.decided_at,
            approval.decision_count,
        )


@login_required
@require_GET
def approval_queue_export(request, extension):
    """Every request of the approvals queue tab (``?scope=``) and filters, CSV or XLSX."""
    rows = approval_export_rows(user=request.user, params=request.GET, request=request)
    return export_response(rows, extension=extension, stem="approvals", title="Approvals")


RISK_REGISTER_HEADER = (
    "Reference",
    "Title",
    "Business unit",
    "Stage",
    "Computed tier",
    "Override tier",
    "Effective tier",
    "Assessed on",
    "Inherent risk score",
    "Residual risk score",
    "Required controls satisfied",
    "Required controls",
    "Required controls failing",
)


def risk_register_rows(user):
    """The risk register as its page lists it (the counts GROUP BY, which drops the model's
    default ordering: ordered explicitly)."""
    return selectors.risk_register(user=user).order_by("reference")


def risk_register_export_rows(*, user, params, request=None) -> Iterator[tuple]:
    """The header, then one row per initiative of the filtered risk register."""
    yield RISK_REGISTER_HEADER
    _, initiatives = apply_filters(
        params,
        queryset=risk_register_rows(user),
        filterset_class=RiskRegisterFilterSet,
        request=request,
    )
    for initiative in initiatives.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        assessed = initiative.assessed_at
        yield (
            initiative.reference,
            initiative.title,
            initiative.business_unit.name,
            initiative.get_stage_display(),
            initiative.computed_tier,
            initiative.override_tier,
            initiative.effective_tier,
            timezone.localdate(assessed) if assessed else None,
            initiative.inherent_score,
            initiative.residual_score,
            initiative.controls_satisfied,
            initiative.controls_total,
            initiative.controls_failing,
        )


@login_required
@require_GET
def risk_register_export(request, extension):
    """Every filtered row of the risk register (not just one page), CSV or XLSX."""
    rows = risk_register_export_rows(user=request.user, params=request.GET, request=request)
    return export_response(rows, extension=extension, stem="risk-register", title="Risk register")


def risk_register_csv(request):
    """The CSV export under its original name (``governance:risk_register_csv``)."""
    return risk_register_export(request, "csv")
