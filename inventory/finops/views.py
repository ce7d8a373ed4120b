"""Thin HTML views of the GPU chargeback and findings.

GET never writes: an open month shows its stored figures (computed by the nightly or an
explicit "Compute"/"Recompute" POST, with a note when cost was imported since); a month never
computed shows a "Compute" button to those who may. ``?policy=`` preselects the policy of the
recompute form.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from core.exports import (
    ListExport,
    csv_response,
    export_links,
    list_page,
    person_name,
    xlsx_response,
)
from core.htmx import query_without_page, render_list, render_partial_aware
from core.models import BusinessUnit
from core.permissions import can_manage_inventory, can_view_dashboard
from inventory.finops import selectors
from inventory.finops import value as value_module
from inventory.finops.choices import FindingKind
from inventory.finops.forms import (
    ChargebackComputeForm,
    ChargebackMonthForm,
    FindingFilterSet,
    ReasonForm,
    parse_month,
)
from inventory.finops.models import ChargebackLine, ChargebackMonth
from inventory.finops.services import chargeback as chargeback_services
from inventory.finops.services import findings as finding_services
from portfolio.initiatives.models import Initiative
from portfolio.initiatives.selectors import initiative_get, scope_initiatives

RECENT_MONTHS = 12


def _month_or_404(value):
    month = parse_month(value)
    if month is None:
        raise Http404("Not a month (YYYY-MM).")
    return month


def _chargeback_url(month, policy="") -> str:
    url = f"{reverse('inventory:chargeback')}?month={month:%Y-%m}"
    return f"{url}&policy={policy}" if policy else url


@login_required
@require_GET
def chargeback(request):
    picker = ChargebackMonthForm(request.GET or None)
    month = None
    policy = ""
    if picker.is_valid():
        month = picker.cleaned_data["month"]
        policy = picker.cleaned_data["policy"]
    month = month or timezone.localdate().replace(day=1)
    row = selectors.chargeback_get(month=month)
    can_manage = chargeback_services.can_manage_chargeback(request.user)
    context = {
        "picker": picker,
        "month": month,
        "chargeback": row,
        "can_manage": can_manage,
        "month_ended": chargeback_services.month_has_ended(month),
        "compute_form": ChargebackComputeForm(
            initial={"policy": policy or (row.policy if row else "proportional")}
        ),
        "reopen_form": ReasonForm(),
        "recent_months": ChargebackMonth.objects.order_by("-month")[:RECENT_MONTHS],
    }
    if row is not None and row.computed_at:
        context["figures"] = selectors.chargeback_by_bu(row, request.user)
        context["summary"] = selectors.chargeback_summary(row, request.user)
    return render(request, "inventory/finops/chargeback.html", context)


def _computed_or_404(month) -> ChargebackMonth:
    row = selectors.chargeback_get(month=month)
    if row is None or row.computed_at is None:
        raise Http404("This month's chargeback has not been computed.")
    return row


@login_required
@require_GET
def chargeback_bu(request, month, bu_pk):
    row = _computed_or_404(_month_or_404(month))
    business_unit = get_object_or_404(BusinessUnit.objects.only("pk", "name", "code"), pk=bu_pk)
    drill = selectors.chargeback_drilldown(row, business_unit, request.user)
    return render(
        request, "inventory/finops/chargeback_bu.html", {"chargeback": row, "drill": drill}
    )


@login_required
@require_GET
def chargeback_lines(request, month):
    """The month's chargeback lines the reader may see, filtered by ``?kind=`` (repeatable)
    and ``?business_unit=``, with their count and total: the rows behind the dashboard's
    "Unused commitments" (idle lines) and "Orphaned GPU cost"."""
    row = _computed_or_404(_month_or_404(month))
    kinds = [kind for kind in request.GET.getlist("kind") if kind in ChargebackLine.Kind.values]
    unit = request.GET.get("business_unit", "")
    lines = selectors.chargeback_line_list(
        row, request.user, kinds=kinds, business_unit=int(unit) if unit.isdigit() else None
    )
    page = Paginator(lines, settings.KEEL_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "chargeback": row,
        "kinds": [ChargebackLine.Kind(kind).label for kind in kinds],
        "page_obj": page,
        "rows": page.object_list,
        "querystring": query_without_page(request),
        "list_total": selectors.amount_total(lines),
        "list_currency": row.currency,
    }
    return render(request, "inventory/finops/chargeback_lines.html", context)


def _export_name(row, extension) -> str:
    return f"gpu-chargeback-{row.month:%Y-%m}.{extension}"


@login_required
@require_GET
def chargeback_csv(request, month):
    row = _computed_or_404(_month_or_404(month))
    rows = selectors.chargeback_export_rows(row, request.user)
    return csv_response(rows, filename=_export_name(row, "csv"))


@login_required
@require_GET
def chargeback_xlsx(request, month):
    row = _computed_or_404(_month_or_404(month))
    rows = selectors.chargeback_export_rows(row, request.user)
    return xlsx_response(rows, filename=_export_name(row, "xlsx"), title="Chargeback")


def _report(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


@login_required
@require_POST
def chargeback_compute(request, month):
    month = _month_or_404(month)
    form = ChargebackComputeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a policy for idle and shared cost.")
        return redirect(_chargeback_url(month))
    try:
        chargeback_services.chargeback_compute(
            month=month, policy=form.cleaned_data["policy"], actor=request.user
        )
    except ValidationError as error:
        _report(request, error)
    else:
        messages.success(request, f"Chargeback of {month:%B %Y} computed.")
    return redirect(_chargeback_url(month))


@login_required
@require_POST
def chargeback_close(request, month):
    month = _month_or_404(month)
    try:
        chargeback_services.chargeback_close(actor=request.user, month=month)
    except ValidationError as error:
        _report(request, error)
    else:
        messages.success(request, f"Chargeback of {month:%B %Y} closed; its figures are frozen.")
    return redirect(_chargeback_url(month))


@login_required
@require_POST
def chargeback_reopen(request, month):
    month = _month_or_404(month)
    if not chargeback_services.can_manage_chargeback(request.user):
        raise PermissionDenied("Only platform engineers and CoE admins reopen months.")
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            chargeback_services.chargeback_reopen(
                actor=request.user, month=month, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            _report(request, error)
        else:
            messages.success(request, f"Chargeback of {month:%B %Y} reopened.")
            return redirect(_chargeback_url(month))
    else:
        messages.error(request, "Say why the closed month is reopened.")
    return redirect(_chargeback_url(month))


# --- Findings ------------------------------------------------------------------------------


FINDING_EXPORT = ListExport(
    stem="gpu-findings",
    title="GPU findings",
    columns=(
        ("Finding", lambda row: row.pk),
        ("Kind", lambda row: row.get_kind_display()),
        ("Summary", lambda row: row.summary),
        ("Initiative", lambda row: row.initiative.reference if row.initiative else ""),
        ("Business unit", lambda row: row.business_unit.name if row.business_unit else ""),
        ("Monthly waste", lambda row: row.monthly_waste),
        ("Currency", lambda row: row.currency),
        ("Status", lambda row: row.get_status_display()),
        ("Reason", lambda row: row.reason),
        ("Last seen", lambda row: row.last_seen_at),
    ),
    queryset=lambda request: selectors.findings_list(request.user),
    filterset_class=FindingFilterSet,
)


@login_required
@require_GET
@list_page("inventory:finding_list")
def finding_list(request):
    if not request.GET:
        return redirect(f"{reverse('inventory:finding_list')}?status=active")
    queryset = selectors.findings_list(request.user)
    return render_list(
        request,
        template="inventory/finops/finding_list.html",
        queryset=queryset,
        filterset_class=FindingFilterSet,
        total=lambda findings: selectors.amount_total(findings, "monthly_waste"),
        export="inventory:finding_list",
        extra_context={
            "can_scan": can_manage_inventory(request.user),
            "kinds": FindingKind,
            "reason_form": ReasonForm(),
        },
    )


def _finding_page(request, finding, form=None, status=200):
    context = {
        "finding": finding,
        "can_act": finding_services.can_act_on_finding(request.user, finding),
        "reason_form": form or ReasonForm(),
        "is_open": finding.status != "resolved",
    }
    return render(request, "inventory/finops/finding_detail.html", context, status=status)


@login_required
@require_GET
def finding_detail(request, pk):
    return _finding_page(request, selectors.finding_get(request.user, pk))


def _finding_action(request, pk, service, done):
    finding = selectors.finding_get(request.user, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _finding_page(request, finding, form, status=400)
    try:
        service(actor=request.user, finding=finding, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        if hasattr(error, "error_dict") and "reason" in error.error_dict:
            form.add_error("reason", error.error_dict["reason"])
            return _finding_page(request, finding, form, status=400)
        _report(request, error)
        return redirect(finding)
    messages.success(request, done)
    target = request.POST.get("next", "")
    if target.startswith("/inventory/findings/") and "//" not in target:
        return redirect(target)
    return redirect(finding)


@login_required
@require_POST
def finding_acknowledge(request, pk):
    return _finding_action(request, pk, finding_services.finding_acknowledge, "Acknowledged.")


@login_required
@require_POST
def finding_resolve(request, pk):
    return _finding_action(request, pk, finding_services.finding_resolve, "Resolved.")


@login_required
@require_POST
def findings_scan(request):
    if not can_manage_inventory(request.user):
        raise PermissionDenied("Only platform engineers run the findings scan.")
    counts = finding_services.findings_scan(actor=request.user)
    opened = sum(figures["opened"] for figures in counts.values())
    resolved = sum(figures["resolved"] for figures in counts.values())
    messages.success(request, f"Scan done: {opened} new finding(s), {resolved} cleared.")
    return redirect(f"{reverse('inventory:finding_list')}?status=active")


@login_required
@require_GET
def initiative_value_panel(request, pk):
    """The initiative page's value panel: value, cost (run + GPU chargeback) and ROI."""
    initiative = initiative_get(user=request.user, pk=pk)
    context = {
        "initiative": initiative,
        "value": value_module.initiative_value(initiative, user=request.user),
        "cost_months": value_module.COST_MONTHS,
        "can_read_definitions": can_view_dashboard(request.user),
    }
    return render(request, "inventory/finops/partials/_initiative_value_panel.html", context)


def _value_evidence_rows(request):
    queryset = scope_initiatives(Initiative.objects.all(), request.user)
    unit, phase = request.GET.get("business_unit", ""), request.GET.get("roadmap_phase", "")
    if unit.isdigit():
        queryset = queryset.filter(business_unit_id=int(unit))
    if phase == "none":
        queryset = queryset.filter(roadmap_phase__isnull=True)
    elif phase.isdigit():
        queryset = queryset.filter(roadmap_phase=int(phase))
    return value_module.without_value_evidence(queryset, user=request.user)


def _missing_evidence(row) -> str:
    missing = ["realised value"] if row.realised_value is None else []
    return " and ".join(missing + ([] if row.value_evidence_url else ["evidence link"]))


VALUE_EVIDENCE_EXPORT = ListExport(
    stem="value-evidence-missing",
    title="Cost without value evidence",
    columns=(
        ("Initiative", lambda row: row.reference),
        ("Title", lambda row: row.title),
        ("Business unit", lambda row: row.business_unit.name),
        ("Accountable owner", lambda row: person_name(row.accountable_owner)),
        ("Currency", lambda row: row.currency),
        ("Cost / yr", lambda row: row.cost),
        ("Value / yr", lambda row: row.value),
        (
            "Value is",
            lambda row: (
                ""
                if row.value is None
                else "realised"
                if row.realised_value is not None
                else "expected"
            ),
        ),
        ("Missing", _missing_evidence),
    ),
    queryset=_value_evidence_rows,
)


@login_required
@require_GET
@list_page("inventory:value_evidence_missing")
def value_evidence_missing(request):
    """Active initiatives with a cost but no evidenced realised value, costliest first;
    ``?business_unit=<id>`` narrows to one unit (within the reader's scope) and
    ``?roadmap_phase=<1-4|none>`` to one roadmap phase."""
    rows = _value_evidence_rows(request)
    page = Paginator(rows, settings.KEEL_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "rows": page.object_list,
        "querystring": query_without_page(request),
        "cost_months": value_module.COST_MONTHS,
        **export_links(request, "inventory:value_evidence_missing"),
    }
    return render_partial_aware(request, "inventory/finops/value_evidence_missing.html", context)
