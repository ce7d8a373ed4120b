"""Thin HTML views of the GPU ingest: import history, upload, one batch."""

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from core import charts
from core.exports import (
    ListExport,
    csv_response,
    export_links,
    list_page,
    person_name,
    xlsx_response,
)
from core.forms import apply_validation_error
from core.selectors import business_unit_list
from inventory.capacity.choices import GPURequestStatus
from inventory.finops.choices import OPEN_FINDING_STATUSES
from inventory.gpu.models import GPUPool
from inventory.usage import selectors as utilisation
from inventory.usage.charts import line_chart
from inventory.usage.forms import IngestUploadForm
from inventory.usage.parsers import ParseError
from inventory.usage.selectors import initiative_gpu_summary, target_band
from inventory.usage.services import batches as ingest_services
from portfolio.initiatives.selectors import initiative_get


def _ingest_batches(request):
    if not ingest_services.can_view_batches(request.user):
        raise PermissionDenied("The import history is the platform team's.")
    return ingest_services.batch_list(user=request.user)


INGEST_EXPORT = ListExport(
    stem="gpu-ingests",
    title="GPU data imports",
    columns=(
        ("Imported at", lambda batch: batch.created_at),
        ("Uploaded by", lambda batch: person_name(batch.uploaded_by)),
        ("File", lambda batch: batch.filename),
        ("Kind", lambda batch: batch.get_kind_display()),
        ("Rows read", lambda batch: batch.rows_read),
        ("Rows written", lambda batch: batch.rows_written),
        ("SHA-256", lambda batch: batch.sha256),
    ),
    queryset=_ingest_batches,
)


@login_required
@require_GET
@list_page("inventory:ingest_list")
def ingest_list(request):
    if not ingest_services.can_view_batches(request.user):
        raise PermissionDenied("The import history is the platform team's.")
    paginator = Paginator(ingest_services.batch_list(user=request.user), settings.KEEL_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "inventory/usage/ingest_list.html",
        {
            "page_obj": page,
            "rows": page.object_list,
            "querystring": "",
            "can_upload": ingest_services.can_ingest(request.user),
            **export_links(request, "inventory:ingest_list"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def ingest_upload(request):
    if not ingest_services.can_ingest(request.user):
        raise PermissionDenied("Only platform engineers and CoE admins import usage and costs.")
    form = IngestUploadForm(request.POST or None, request.FILES or None)
    line_errors = []
    if request.method == "POST" and form.is_valid():
        try:
            batch = ingest_services.ingest_upload(
                actor=request.user,
                upload=form.cleaned_data["file"],
                kind=form.cleaned_data["kind"],
                scraped_at=form.cleaned_data.get("scraped_at"),
                time_origin=form.cleaned_data.get("time_origin"),
                observed_at=form.cleaned_data.get("observed_at"),
            )
        except ParseError as exc:
            line_errors = exc.errors
            form.add_error(
                "file",
                f"{len(exc.errors)} error{'s' if len(exc.errors) != 1 else ''} in the file; "
                "nothing was imported.",
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            if batch.already_imported:
                messages.info(
                    request,
                    f"{batch.filename} was already imported on "
                    f"{batch.created_at:%d %b %Y %H:%M} UTC; nothing was written.",
                )
            else:
                messages.success(
                    request,
                    f"Imported {batch.filename}: {batch.rows_written} rows written.",
                )
            return redirect("inventory:ingest_detail", pk=batch.pk)
    return render(
        request, "inventory/usage/ingest_upload.html", {"form": form, "line_errors": line_errors}
    )


@login_required
@require_GET
def ingest_detail(request, pk):
    batch = ingest_services.batch_get(user=request.user, pk=pk)
    # Pods not counted (pod ingest) are listed in their own table, not as a summary figure.
    not_counted = batch.summary.get("not_counted") or []
    summary = [
        (key.replace("_", " ").capitalize(), value)
        for key, value in batch.summary.items()
        if key != "not_counted"
    ]
    return render(
        request,
        "inventory/usage/ingest_detail.html",
        {"batch": batch, "summary": summary, "not_counted": not_counted},
    )


# The default period: the last 30 days, today included.
DEFAULT_DAYS = 30

# Longest period the page accepts (the series turns weekly beyond 92 days).
MAX_DAYS = 3 * 366


class UtilisationFilterForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    bu = forms.ModelChoiceField(
        label="Business unit", queryset=None, required=False, empty_label="All you can see"
    )
    pool = forms.ModelChoiceField(
        label="GPU pool", queryset=None, required=False, empty_label="All pools"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the units the user may see (never every unit's name).
        self.fields["bu"].queryset = (
            business_unit_list(user=user).select_related(None).only("pk", "name", "code")
        )
        self.fields["pool"].queryset = GPUPool.objects.only("pk", "name").order_by("name")

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        end = data.get("end") or today
        start = data.get("start") or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if end < start:
            self.add_error("end", "The end date cannot be before the start date.")
        elif (end - start).days + 1 > MAX_DAYS:
            self.add_error("start", f"Choose a period of at most {MAX_DAYS} days.")
        data["start"], data["end"] = start, end
        return data


def _period(request):
    """(form, filters or None when the filters are invalid)."""
    form = UtilisationFilterForm(request.GET or None, user=request.user)
    if not form.is_bound:
        form = UtilisationFilterForm({}, user=request.user)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    return form, {
        "start": data["start"],
        "end": data["end"],
        "business_unit": data.get("bu"),
        "pool": data.get("pool"),
    }


@login_required
@require_GET
def utilisation_page(request):
    form, filters = _period(request)
    rows, points = [], []
    if filters is not None:
        rows = utilisation.utilisation_by_bu_and_pool(actor=request.user, **filters)
        points = utilisation.capacity_series(actor=request.user, **filters)
    has_data = any(row.samples or row.gpu_hours_used or row.allocated_gpu_hours for row in rows)
    chart = None
    if has_data and points:
        chart = line_chart(
            title="Capacity, allocated and used GPUs",
            labels=[point.label for point in points],
            series={
                "capacity": [point.capacity for point in points],
                "allocated": [point.allocated for point in points],
                "used": [point.used for point in points],
            },
        )
    low, high = utilisation.target_band()
    context = {
        "form": form,
        "filters": filters,
        "rows": rows,
        "points": points,
        "has_data": has_data,
        "chart": chart,
        "weekly": len(points) and points[0].start != points[0].end,
        "target_low_pct": round(low * 100),
        "target_high_pct": round(high * 100),
        "metric": utilisation.ACTIVITY_METRIC,
        "query": request.GET.urlencode(),
    }
    return render(request, "inventory/usage/utilisation.html", context)


def _export_rows(request):
    _, filters = _period(request)
    rows = (
        utilisation.utilisation_by_bu_and_pool(actor=request.user, **filters)
        if filters is not None
        else []
    )
    return utilisation.utilisation_table(rows, filters)


def _filename(extension: str) -> str:
    return f"gpu-utilisation-{timezone.localdate():%Y-%m-%d}.{extension}"


@login_required
@require_GET
def utilisation_csv(request):
    """The page's table (same scope and filters) as CSV."""
    return csv_response(_export_rows(request), filename=_filename("csv"))


@login_required
@require_GET
def utilisation_xlsx(request):
    """The page's table as a spreadsheet."""
    return xlsx_response(_export_rows(request), filename=_filename("xlsx"), title="GPU utilisation")


@login_required
@require_GET
def initiative_gpu_panel(request, pk):
    initiative = initiative_get(user=request.user, pk=pk)
    summary = initiative_gpu_summary(initiative, user=request.user)
    low, high = target_band()
    allocation_ids = [allocation.pk for allocation in summary.allocations]
    context = {
        "initiative": initiative,
        "gpu": summary,
        "band": (round(low * 100), round(high * 100)),
        "activity_chart": charts.sparkline(
            summary.activity_pct,
            title="Average GPU activity per day, last 30 days",
            target=low * 100,
            unit="%",
            width=260,
        ),
        "pending_requests": initiative.gpu_requests.filter(
            status=GPURequestStatus.PENDING
        ).select_related("pool__gpu_type"),
        "open_findings": initiative.findings.filter(
            status__in=OPEN_FINDING_STATUSES, allocation_id__in=allocation_ids
        ).count()
        if allocation_ids
        else 0,
    }
    return render(request, "inventory/usage/partials/_initiative_gpu_panel.html", context)
