"""The GPU panel of an initiative's page (loaded by htmx; portfolio cannot import inventory)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core import charts
from portfolio.selectors import initiative_get

from .choices import OPEN_FINDING_STATUSES, GPURequestStatus
from .utilisation import initiative_gpu_summary, target_band


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
    return render(request, "inventory/partials/_initiative_gpu_panel.html", context)
