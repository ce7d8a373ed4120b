"""The GPU utilisation page and its exports: thin views over ``inventory.utilisation``."""

import datetime as dt

from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.exports import csv_response, xlsx_response
from core.selectors import business_unit_list

from . import utilisation
from .models import GPUPool
from .usage_charts import line_chart

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
    return render(request, "inventory/utilisation.html", context)


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
