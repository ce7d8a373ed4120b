"""Roadmap and barrier pages: thin views over ``portfolio.roadmap.services`` and
``portfolio.scaling.services``.

The roadmap is the organisation's programme, so every signed-in user may read it (linked
initiatives are limited to those the reader may see); CoE admins change it. Barrier
assessments follow the initiative's visibility: outside the reader's scope is a 404.
"""

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core import charts
from core.exports import ListExport, export_links, list_page
from core.forms import apply_validation_error
from portfolio.initiatives import selectors
from portfolio.roadmap import services as roadmap
from portfolio.roadmap.choices import IndicatorDirection
from portfolio.roadmap.forms import (
    BarrierAssessmentForm,
    IndicatorForm,
    RoadmapActivityForm,
    RoadmapPhaseForm,
)
from portfolio.roadmap.models import RoadmapActivity, RoadmapPhase, SuccessIndicator
from portfolio.roadmap.selectors import roadmap_phases
from portfolio.scaling import selectors as barriers
from portfolio.scaling import services as barrier_services
from portfolio.scaling.choices import Barrier


def _require_manager(user) -> None:
    if not roadmap.can_manage_roadmap(user):
        raise PermissionDenied("Only CoE admins can change the roadmap.")


def _submit(request, form, save, *, success: str, next_url: str):
    """Call ``save(cleaned_data)`` for a valid POST; redirect on success, or put the service's
    ValidationError on the form and return None to re-render it."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        save(form.cleaned_data)
    except ValidationError as error:
        apply_validation_error(form, error)
        return None
    messages.success(request, success)
    return redirect(next_url)


def _on_target(indicator) -> bool | None:
    current, target = indicator.current_value, indicator.target
    if current is None or target is None:
        return None
    if indicator.direction == IndicatorDirection.LOWER_IS_BETTER:
        return current <= target
    return current >= target


def _indicator_row(indicator) -> dict:
    history = [value.value for value in indicator.history]
    lower = indicator.direction == IndicatorDirection.LOWER_IS_BETTER
    return {
        "indicator": indicator,
        "computed": bool(indicator.computed_by),
        "has_function": not indicator.computed_by or roadmap.is_registered(indicator.computed_by),
        "current": charts.format_number(indicator.current_value, 2, indicator.unit),
        "target": (
            f"{'≤' if lower else '≥'} {charts.format_number(indicator.target, 2, indicator.unit)}"
            if indicator.target is not None
            else "—"
        ),
        "on_target": _on_target(indicator),
        "sparkline": charts.sparkline(
            history,
            title=f"{indicator.name}, last {roadmap.HISTORY_DAYS} days",
            target=indicator.target,
            unit=indicator.unit if indicator.unit in ("%", "days") else "",
        ),
    }


@login_required
def roadmap_page(request):
    today = timezone.localdate()
    phases = roadmap_phases(user=request.user, today=today)
    sections, overdue = [], []
    for phase in phases:
        activities = list(phase.activities.all())
        overdue.extend(activity for activity in activities if activity.is_overdue)
        sections.append(
            {
                "phase": phase,
                "activities": activities,
                "progress": charts.progress_bar(
                    done=phase.activity_done,
                    total=phase.activity_total,
                    title=f"Phase {phase.number} activities done",
                ),
                "indicators": [_indicator_row(indicator) for indicator in phase.indicators.all()],
            }
        )
    context = {
        "sections": sections,
        "overdue": overdue,
        "today": today,
        "can_manage": roadmap.can_manage_roadmap(request.user),
    }
    return render(request, "portfolio/roadmap/roadmap.html", context)


@login_required
@require_POST
def indicators_recompute(request):
    _require_manager(request.user)
    values = roadmap.indicators_recompute(actor=request.user)
    messages.success(request, f"{len(values)} computed indicators updated for today.")
    return redirect("roadmap:index")


def _form_page(request, form, *, title: str, cancel_url: str, extra=None):
    context = {"form": form, "title": title, "cancel_url": cancel_url, **(extra or {})}
    return render(request, "portfolio/roadmap/roadmap_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def phase_update(request, pk):
    _require_manager(request.user)
    phase = get_object_or_404(RoadmapPhase, pk=pk)
    form = RoadmapPhaseForm(request.POST or None, instance=copy.copy(phase))
    next_url = reverse("roadmap:index") + f"#phase-{phase.number}"
    done = _submit(
        request,
        form,
        lambda data: roadmap.roadmap_phase_update(actor=request.user, phase=phase, data=data),
        success=f"Phase {phase.number} saved.",
        next_url=next_url,
    )
    return done or _form_page(request, form, title=f"Edit {phase}", cancel_url=next_url)


@login_required
@require_http_methods(["GET", "POST"])
def activity_create(request, phase_pk):
    _require_manager(request.user)
    phase = get_object_or_404(RoadmapPhase, pk=phase_pk)
    form = RoadmapActivityForm(request.POST or None, user=request.user)
    next_url = reverse("roadmap:index") + f"#phase-{phase.number}"
    done = _submit(
        request,
        form,
        lambda data: roadmap.roadmap_activity_create(actor=request.user, phase=phase, data=data),
        success="Activity added.",
        next_url=next_url,
    )
    return done or _form_page(
        request, form, title=f"New activity in phase {phase.number}", cancel_url=next_url
    )


@login_required
@require_http_methods(["GET", "POST"])
def activity_update(request, pk):
    _require_manager(request.user)
    activity = get_object_or_404(RoadmapActivity.objects.select_related("phase"), pk=pk)
    form = RoadmapActivityForm(
        request.POST or None, instance=copy.copy(activity), user=request.user
    )
    next_url = reverse("roadmap:index") + f"#phase-{activity.phase.number}"
    done = _submit(
        request,
        form,
        lambda data: roadmap.roadmap_activity_update(
            actor=request.user, activity=activity, data=data
        ),
        success="Activity saved.",
        next_url=next_url,
    )
    return done or _form_page(
        request,
        form,
        title=f"Edit activity: {activity.title}",
        cancel_url=next_url,
        extra={"delete_url": reverse("roadmap:activity_delete", args=[activity.pk])},
    )


@login_required
@require_POST
def activity_delete(request, pk):
    _require_manager(request.user)
    activity = get_object_or_404(RoadmapActivity.objects.select_related("phase"), pk=pk)
    number = activity.phase.number
    roadmap.roadmap_activity_delete(actor=request.user, activity=activity)
    messages.success(request, "Activity deleted.")
    return redirect(reverse("roadmap:index") + f"#phase-{number}")


@login_required
@require_http_methods(["GET", "POST"])
def indicator_update(request, pk):
    _require_manager(request.user)
    indicator = get_object_or_404(SuccessIndicator.objects.select_related("phase"), pk=pk)
    form = IndicatorForm(request.POST or None, instance=copy.copy(indicator))
    next_url = reverse("roadmap:index") + f"#phase-{indicator.phase.number}"
    done = _submit(
        request,
        form,
        lambda data: roadmap.indicator_update(actor=request.user, indicator=indicator, data=data),
        success="Indicator saved.",
        next_url=next_url,
    )
    note = (
        "This indicator is computed from Keel's data; only its target can be changed."
        if indicator.computed_by
        else "A new current value is also stored as today's value in the indicator's history."
    )
    return done or _form_page(
        request,
        form,
        title=f"Edit indicator: {indicator.name}",
        cancel_url=next_url,
        extra={"note": note},
    )


# --------------------------------------------------------------------------------------------
# Barriers
# --------------------------------------------------------------------------------------------


def _heatmap_rows(heatmap) -> list:
    """The heatmap's rows as the page shows them: one per business unit, then all units."""
    return [*heatmap.rows, heatmap.overall] if heatmap.rows else []


def _heatmap_columns() -> tuple:
    """Unit name and code, then per barrier (in the page's order) its average score and the
    number of assessments behind it, as separate numeric columns."""
    columns = [("Business unit", lambda row: row.name), ("Code", lambda row: row.code)]
    for index, (_, label) in enumerate(Barrier.choices):
        columns += [
            (f"{label}: average score", lambda row, i=index: row.cells[i].average),
            (f"{label}: assessments", lambda row, i=index: row.cells[i].assessments),
        ]
    return tuple(columns)


BARRIER_HEATMAP_EXPORT = ListExport(
    stem="barrier-heatmap",
    title="Barrier heatmap",
    columns=_heatmap_columns(),
    queryset=lambda request: _heatmap_rows(barriers.barrier_heatmap(user=request.user)),
)


@login_required
@list_page("roadmap:barrier_heatmap")
def barrier_heatmap(request):
    heatmap = barriers.barrier_heatmap(user=request.user)
    chart = barriers.heatmap_chart(heatmap)
    context = {
        "heatmap": heatmap,
        "rows": _heatmap_rows(heatmap),
        "chart": chart,
        "definition": barriers.HEATMAP_DEFINITION,
        **export_links(request, "roadmap:barrier_heatmap"),
    }
    return render(request, "portfolio/scaling/barrier_heatmap.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def initiative_barriers(request, pk):
    initiative = selectors.initiative_get(user=request.user, pk=pk)
    can_assess = barrier_services.can_assess_barriers(request.user, initiative)
    if request.method == "POST" and not can_assess:
        raise PermissionDenied("You cannot assess this initiative's scaling barriers.")
    rows = barriers.initiative_barrier_rows(initiative=initiative)
    form = BarrierAssessmentForm(request.POST or None, rows=rows)
    done = _submit(
        request,
        form,
        lambda data: barrier_services.barriers_assess(
            actor=request.user, initiative=initiative, scores=form.scores()
        ),
        success="Barrier assessment saved.",
        next_url=reverse("roadmap:initiative_barriers", args=[initiative.pk]),
    )
    if done:
        return done
    context = {
        "initiative": initiative,
        "form": form,
        "rows": rows,
        "can_assess": can_assess,
        "score_labels": barrier_services.SCORE_LABELS,
    }
    return render(request, "portfolio/scaling/barrier_form.html", context)
