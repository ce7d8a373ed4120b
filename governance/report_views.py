"""Generated reports: request a board pack or dossier, follow its progress, download it.

Thin: the rules (who may ask, whose scope a PDF shows, retention) live in
``governance.reports``. The detail page carries the progress partial, which polls itself
every second while the PDF is built (an htmx request for the detail page gets only the
partial) and then shows the download link."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from core.exports import stored_file_response
from core.htmx import is_partial_request, render_partial_aware
from portfolio.selectors import initiative_get

from . import dashboard, reports
from .choices import ReportStatus

PROGRESS_PARTIAL = "governance/partials/_report_progress.html"
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
    return render_partial_aware(request, "governance/report_list.html", context)


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
        response = render(request, "governance/report_detail.html", _progress_context(report))
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
