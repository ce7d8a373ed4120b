"""Generated PDFs: the board pack and governance dossiers, built in the background.

Contract (services; views, the task and the ``board_pack`` command stay thin):

- ``board_pack_request(*, actor, filters: DashboardFilters) -> ReportFile``: a QUEUED row
  (``kind=board_pack``, the filters stored, ``filters_label`` in words, ``expires_at`` =
  now + ``REPORT_RETENTION_DAYS``) and ``build_report_task`` queued on commit. Anyone who
  may open the dashboard may ask (``dashboard.can_view_dashboard``); the filters were
  validated by ``dashboard_filters`` for this actor.
- ``dossier_request(*, actor, initiative) -> ReportFile``: the same for one initiative's
  governance dossier (``kind=dossier``); the actor must be able to see the initiative
  (``portfolio.initiatives.selectors.initiative_get``).
- ``report_build(report_id) -> ReportFile``: the task's body. Claims a QUEUED row (compare
  and set to RUNNING; a redelivered task finds it claimed and does nothing), renders the PDF
  as ``created_by`` (their scope, re-checked: a user who lost access gets FAILED with the
  reason), updating ``progress`` / ``progress_label`` as it goes (figures, charts, render),
  saves the file to private storage, then READY with ``size_bytes``, ``page_count`` and
  ``finished_at``. Any error: FAILED with ``error``, no file.
- ``render_board_pack(*, user, filters) -> bytes`` / ``render_dossier(*, user,
  initiative) -> bytes``: the PDF bytes (also used by ``manage.py board_pack``).
- ``report_list(*, user) -> QuerySet[ReportFile]``: the user's own reports, newest first.
- ``report_get(*, user, pk) -> ReportFile``: one of the user's own reports, else 404.
- ``reports_purge_expired(*, now=None) -> int``: delete the files of reports past
  ``expires_at`` and mark them EXPIRED (rows stay, so the list says what was there);
  run daily by beat (``purge_expired_reports_task``).

Besides the contract: ``board_pack_pdf`` / ``dossier_pdf`` return the bytes with their page
count (the command prints it), ``cell_text`` is the one way the PDF writes a table cell, and
``download_filename`` names the attachment.
"""

from __future__ import annotations

import datetime
import html
import logging
import re
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import Http404
from django.template.defaultfilters import floatformat
from django.template.loader import render_to_string
from django.utils import timezone

from core.audit import record_event
from core.scheduling import enqueue
from core.selectors import business_unit_list
from governance.reporting import dashboard as dashboard_module
from governance.reporting.charts import dashboard_charts, money
from governance.reporting.choices import ReportKind, ReportStatus
from governance.reporting.models import REPORT_RETENTION_DAYS, ReportFile
from portfolio.initiatives.selectors import initiative_get

logger = logging.getLogger(__name__)

BOARD_PACK_TEMPLATE = "governance/reporting/board_pack_pdf.html"
PDF_CONTENT_TYPE = "application/pdf"


@dataclass(frozen=True)
class RenderedPDF:
    content: bytes
    page_count: int


# --------------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------------


def _expiry(now: datetime.datetime) -> datetime.datetime:
    return now + datetime.timedelta(days=REPORT_RETENTION_DAYS)


def _enqueue(report_id: int) -> None:
    result = enqueue("governance.tasks.build_report_task", report_id)
    task_id = getattr(result, "id", "") or ""
    ReportFile.objects.filter(pk=report_id).update(task_id=task_id[:64])


def _create(*, actor, kind: str, **fields) -> ReportFile:
    now = timezone.now()
    with transaction.atomic():
        report = ReportFile.objects.create(
            kind=kind, created_by=actor, created_at=now, expires_at=_expiry(now), **fields
        )
        record_event(
            actor=actor,
            action="report.requested",
            target=report,
            after={"kind": kind, "filters": report.filters_label},
        )
        transaction.on_commit(lambda: _enqueue(report.pk))
    return report


def board_pack_request(*, actor, filters: dashboard_module.DashboardFilters) -> ReportFile:
    # Checked again here, not only in the view: the service is the gate.
    filters = dashboard_module.dashboard_filters(user=actor, params=filters.query())
    return _create(
        actor=actor,
        kind=ReportKind.BOARD_PACK,
        business_unit=filters.business_unit,
        months=filters.months,
        filters_label=filters.label()[:300],
    )


def dossier_request(*, actor, initiative) -> ReportFile:
    initiative = initiative_get(user=actor, pk=initiative.pk)  # 404 outside the actor's scope
    return _create(
        actor=actor,
        kind=ReportKind.DOSSIER,
        initiative=initiative,
        filters_label=f"{initiative.reference} {initiative.title}"[:300],
    )


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def cell_text(value) -> str:
    """A table cell as the PDF writes it: ``None`` is "no data"; numbers with thousands
    separators, a decimal with its own places up to two (money 1,234.50, a share 42.5),
    a float with one as the charts write it; dates ISO; the rest as ``str``."""
    if value is None:
        return "no data"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        places = min(max(-exponent, 0), 2) if isinstance(exponent, int) else 2
        return str(floatformat(value, f"{places}g"))
    if isinstance(value, float):
        return f"{value:,.1f}"  # rounded as the charts round it (core.charts)
    if isinstance(value, int):
        return str(floatformat(value, "g"))
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _table(panel) -> dict:
    table = panel.table()
    return {
        "title": table.title,
        "columns": table.columns,
        "rows": [[cell_text(cell) for cell in row] for row in table.rows],
    }


def _percent(metric) -> str:
    """A share as the dashboard's headline figures write it (one decimal)."""
    if metric is None or not metric.has_data:
        return "no data"
    return f"{floatformat(metric.value, 1)} %"


def _money(value, currency: str) -> str:
    return f"{cell_text(value)} {currency}".strip() if value is not None else "no data"


def _summary(board) -> list[str]:
    """The executive summary: the headline figures in words, written as the dashboard's
    headline figures write them (the tables after it carry the exact amounts)."""
    lines = []
    if board.funnel.has_data:
        lines.append(f"{cell_text(board.funnel.total)} initiatives in the portfolio.")
    scaling = board.scaling
    if scaling.has_data:
        lines.append(
            f"Scaling gap {_percent(scaling.scaling_gap)}; pilot→production conversion "
            f"{_percent(scaling.conversion)}."
        )
    risk = board.risk_mix
    if risk.has_data:
        high = sum(count.count for count in risk.tiers if str(count.key) in ("3", "4"))
        lines.append(
            f"{cell_text(high)} active initiatives in Tier 3–4; "
            f"{cell_text(risk.unassessed)} not yet assessed."
        )
    approvals = board.approvals
    if approvals.has_data:
        lines.append(
            f"{cell_text(approvals.in_flight)} approval requests in flight, "
            f"{cell_text(approvals.overdue)} overdue."
        )
    spend = board.spend
    if spend.has_data:
        month = f" in {spend.month:%B %Y}" if spend.month else " this month"
        lines.append(
            f"GPU spend{month}: {money(spend.total_this_month, spend.currency)}; "
            f"unused commitments {money(spend.unused_commitments, spend.currency)}; orphaned "
            f"{money(spend.orphaned, spend.currency)}; idle allocations "
            f"{money(spend.idle_allocations, spend.currency)} a month."
        )
    if board.top_risks.has_data:
        lines.append(
            f"{cell_text(board.top_risks.total)} Tier 3–4 initiatives with failing controls."
        )
    if not lines:
        lines.append("No figures yet: the portfolio has no data for these filters.")
    return lines


SVG_LABEL = re.compile(r'<svg[^>]*\saria-label="([^"]*)"')


def chart_figure(svg) -> dict:
    """A chart for the PDF: the SVG and, as its visible caption, the chart's accessible name
    (an SVG ``<title>`` is a tooltip, not drawn)."""
    match = SVG_LABEL.search(str(svg))
    return {"svg": svg, "title": html.unescape(match.group(1)) if match else ""}


@dataclass
class Section:
    """One part of the board pack: a panel's heading, key facts, charts and table."""

    panel: object
    heading: str
    charts: list
    facts: list[tuple[str, str]]
    page_break: bool = False
    table: dict | None = None


def _value_specs(board) -> list[tuple]:
    """The value-against-cost section: totals per currency and the evidence gap."""
    panel = board.value
    if panel is None:
        return []
    facts = [
        (
            f"Value / cost per year ({total.currency})",
            f"{_money(total.value, total.currency)} / {_money(total.cost, total.currency)}"
            f" · ROI {cell_text(total.roi) if total.roi is not None else 'no data'}"
            f"{' %' if total.roi is not None else ''}",
        )
        for total in panel.totals
    ]
    facts.append(("Initiatives with cost but no value evidence", cell_text(panel.without_evidence)))
    return [(panel, f"Value against cost: {panel.title}", [], facts, True)]


def _sections(board, charts: dict) -> list[Section]:
    approvals, spend, top = board.approvals, board.spend, board.top_risks
    band = board.utilisation.band
    specs = [
        (board.funnel, None, ["funnel"], [("Initiatives", cell_text(board.funnel.total))], True),
        (
            board.scaling,
            None,
            ["scaling-trend"],
            [
                ("Scaling gap", _percent(board.scaling.scaling_gap)),
                ("Pilot → production conversion", _percent(board.scaling.conversion)),
            ],
            False,
        ),
        (
            board.risk_mix,
            None,
            ["risk-mix"],
            [("Active initiatives not assessed", cell_text(board.risk_mix.unassessed))],
            False,
        ),
        (
            top,
            f"Risk register extract: {top.title}",
            [],
            [("Tier 3–4 initiatives with failing controls", cell_text(top.total))],
            True,
        ),
        (
            approvals,
            f"Approvals summary: {approvals.title}",
            ["approvals-cycle"],
            [
                ("In flight", cell_text(approvals.in_flight)),
                ("Overdue", cell_text(approvals.overdue)),
            ],
            True,
        ),
        (
            spend,
            f"GPU chargeback by business unit: {spend.title}",
            ["gpu-spend", "gpu-spend-trend"],
            [
                ("Month", f"{spend.month:%B %Y}" if spend.month else "no data"),
                ("Total this month", _money(spend.total_this_month, spend.currency)),
                ("Unused commitments", _money(spend.unused_commitments, spend.currency)),
                ("Orphaned spend", _money(spend.orphaned, spend.currency)),
                ("Idle allocations (a month)", _money(spend.idle_allocations, spend.currency)),
            ],
            True,
        ),
        (
            board.utilisation,
            None,
            ["utilisation"],
            [("Target band", f"{cell_text(band[0])}–{cell_text(band[1])} %")],
            False,
        ),
        (board.roadmap, f"Roadmap status: {board.roadmap.title}", ["roadmap"], [], True),
        (board.barriers, None, ["barriers"], [], True),
        *_value_specs(board),
    ]
    return [
        Section(
            panel=panel,
            heading=heading or panel.title,
            charts=[chart_figure(charts[key]) for key in chart_keys],
            facts=facts if panel.has_data else [],
            page_break=page_break,
            table=_table(panel) if panel.has_data else None,
        )
        for panel, heading, chart_keys, facts, page_break in specs
    ]


def board_pack_context(*, board, charts: dict) -> dict:
    """The template context of the board pack for an already computed dashboard."""
    return {
        "board": board,
        "summary": _summary(board),
        "sections": _sections(board, charts),
        "generated_at": board.generated_at,
        "filters_label": board.filters.label(),
    }


def pdf_layout(html: str):
    """WeasyPrint's laid-out document for one of Keel's PDF templates."""
    import weasyprint  # a heavy import, only where a PDF is made

    return weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).render()


def _pdf(html: str) -> RenderedPDF:
    document = pdf_layout(html)
    return RenderedPDF(content=document.write_pdf(), page_count=len(document.pages))


Progress = Callable[[int, str], None]


def _no_progress(percent: int, label: str) -> None:
    return None


def board_pack_pdf(*, user, filters, progress: Progress = _no_progress) -> RenderedPDF:
    """The board pack for ``user`` (their scope) and ``filters``, with its page count."""
    progress(10, "Reading the figures")
    board = dashboard_module.dashboard(user=user, filters=filters)
    progress(40, "Drawing the charts")
    charts = dashboard_charts(board)
    progress(70, "Rendering the PDF")
    return _pdf(board_pack_html(board=board, charts=charts))


def board_pack_html(*, board, charts: dict) -> str:
    """The board pack's HTML (what WeasyPrint lays out) for an already computed dashboard."""
    return render_to_string(BOARD_PACK_TEMPLATE, board_pack_context(board=board, charts=charts))


def dossier_pdf(*, user, initiative, progress: Progress = _no_progress) -> RenderedPDF:
    from governance.reporting.dossier import render_dossier_html

    progress(10, "Reading the dossier")
    html = render_dossier_html(user=user, initiative=initiative)
    progress(70, "Rendering the PDF")
    return _pdf(html)


def render_board_pack(*, user, filters) -> bytes:
    return board_pack_pdf(user=user, filters=filters).content


def render_dossier(*, user, initiative) -> bytes:
    return dossier_pdf(user=user, initiative=initiative).content


# --------------------------------------------------------------------------------------------
# The build (the task's body)
# --------------------------------------------------------------------------------------------


def download_filename(report: ReportFile) -> str:
    """E.g. ``keel-board-pack-RETAIL-2025-03-31.pdf``, ``keel-dossier-AI-0007-…pdf``."""
    day = timezone.localtime(report.created_at).date().isoformat()
    if report.kind == ReportKind.DOSSIER:
        subject = report.initiative.reference if report.initiative else f"report-{report.pk}"
        return f"keel-dossier-{subject}-{day}.pdf"
    subject = report.business_unit.code if report.business_unit else "all-units"
    return f"keel-board-pack-{subject}-{day}.pdf"


def _set_progress(report_id: int, percent: int, label: str) -> None:
    # Outside any transaction, so the page polling from another process sees it at once.
    ReportFile.objects.filter(pk=report_id, status=ReportStatus.RUNNING).update(
        progress=percent, progress_label=label[:100]
    )


def _render_for_requester(report: ReportFile, progress: Progress) -> RenderedPDF:
    """The PDF as its requester sees things now (access re-checked at build time)."""
    user = report.created_by
    if not user.is_active:
        raise PermissionDenied(f"{user.get_username()} is no longer active.")
    if report.kind == ReportKind.DOSSIER:
        if report.initiative_id is None:
            raise ValidationError("The initiative of this dossier no longer exists.")
        try:
            initiative = initiative_get(user=user, pk=report.initiative_id)
        except Http404:
            raise PermissionDenied(
                f"{user.get_username()} can no longer see this initiative."
            ) from None
        return dossier_pdf(user=user, initiative=initiative, progress=progress)
    if not dashboard_module.can_view_dashboard(user):
        raise PermissionDenied(f"{user.get_username()} can no longer see the dashboard.")
    asked = dashboard_module.DashboardFilters(
        business_unit=report.business_unit, months=report.months
    )
    filters = dashboard_module.dashboard_filters(user=user, params=asked.query())
    return board_pack_pdf(user=user, filters=filters, progress=progress)


def _describe(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    if isinstance(error, PermissionDenied):
        return str(error) or "Permission denied."
    return f"The PDF could not be generated: {error or error.__class__.__name__}"


def _savepoint_if_nested():
    """In autocommit (a worker), no transaction: each progress update is seen at once. Run
    inside a transaction (tests, a caller's ``atomic``), a savepoint, so that a database
    error while rendering still lets the report be marked FAILED."""
    return transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()


def report_build(report_id: int) -> ReportFile:
    """The task's body. A report that is not queued (a redelivered task) is left as it is."""
    claimed = ReportFile.objects.filter(pk=report_id, status=ReportStatus.QUEUED).update(
        status=ReportStatus.RUNNING,
        started_at=timezone.now(),
        progress=5,
        progress_label="Starting",
        error="",
    )
    report = ReportFile.objects.select_related("created_by", "initiative", "business_unit").get(
        pk=report_id
    )
    if not claimed:
        return report
    try:
        with _savepoint_if_nested():
            rendered = _render_for_requester(
                report, lambda percent, label: _set_progress(report.pk, percent, label)
            )
            _set_progress(report.pk, 90, "Saving the file")
            report.file.save(download_filename(report), ContentFile(rendered.content), save=False)
    except Exception as error:  # any failure: the row says why, no file is kept
        if not isinstance(error, ValidationError | PermissionDenied):
            logger.exception("Report %s failed", report.pk)
        ReportFile.objects.filter(pk=report.pk).update(
            status=ReportStatus.FAILED,
            error=_describe(error),
            progress_label="Failed",
            finished_at=timezone.now(),
        )
        report.refresh_from_db()
        return report
    ReportFile.objects.filter(pk=report.pk).update(
        status=ReportStatus.READY,
        file=report.file.name,
        size_bytes=len(rendered.content),
        page_count=rendered.page_count,
        progress=100,
        progress_label="Ready",
        finished_at=timezone.now(),
    )
    report.refresh_from_db()
    return report


# --------------------------------------------------------------------------------------------
# Reads and retention
# --------------------------------------------------------------------------------------------


def report_list(*, user):
    if not user.is_authenticated:
        return ReportFile.objects.none()
    return ReportFile.objects.filter(created_by=user).select_related("business_unit", "initiative")


def requestable_units(*, user):
    """The business units a board pack may be narrowed to, for the request form (the
    request itself is validated by ``dashboard_filters``)."""
    return business_unit_list(user=user).order_by("name")


def report_get(*, user, pk) -> ReportFile:
    report = report_list(user=user).filter(pk=pk).first()
    if report is None:
        raise Http404("No such report.")
    return report


def is_downloadable(report: ReportFile, *, now: datetime.datetime | None = None) -> bool:
    """Ready and not past its retention (the daily purge may not have run yet)."""
    now = now or timezone.now()
    return report.status == ReportStatus.READY and report.expires_at > now and bool(report.file)


def is_expired(report: ReportFile, *, now: datetime.datetime | None = None) -> bool:
    now = now or timezone.now()
    return report.status == ReportStatus.EXPIRED or report.expires_at <= now


# A build still queued or running after this long lost its worker (a crash, a redeploy).
STALE_AFTER = datetime.timedelta(hours=2)
STALE_REASON = "The background worker stopped before the PDF was ready. Request it again."


def reports_fail_stale(*, now=None) -> int:
    """Mark builds stuck in QUEUED or RUNNING for longer than ``STALE_AFTER`` as FAILED with
    the reason, so their pages stop polling and say what happened."""
    now = now or timezone.now()
    return ReportFile.objects.filter(
        status__in=(ReportStatus.QUEUED, ReportStatus.RUNNING),
        created_at__lt=now - STALE_AFTER,
    ).update(
        status=ReportStatus.FAILED, error=STALE_REASON, progress_label="Failed", finished_at=now
    )


def reports_purge_expired(*, now=None) -> int:
    now = now or timezone.now()
    due = (
        ReportFile.objects.filter(expires_at__lte=now)
        .exclude(status=ReportStatus.EXPIRED)
        .only("pk", "file", "status")
    )
    purged = []
    for report in due.iterator():  # a day's worth of reports: one file delete each
        if report.file:
            # File first: if the row update loses a race, only an already-gone file is lost.
            report.file.storage.delete(report.file.name)
        updated = ReportFile.objects.filter(pk=report.pk, status=report.status).update(
            status=ReportStatus.EXPIRED, file="", progress_label="Expired"
        )
        if updated:
            purged.append(report.pk)
    if purged:
        record_event(
            actor=None,
            action="reports.purged",
            object_type="governance.reportfile",
            object_id="",
            after={"reports": purged, "retention_days": REPORT_RETENTION_DAYS},
        )
    return len(purged)
