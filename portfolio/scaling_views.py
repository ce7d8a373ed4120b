"""The scaling page: the four scaling metrics with their definitions, drill-downs to the
initiatives behind each number, and the organisation-wide trend from the roadmap indicators.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse

from core import charts
from core.htmx import render_list

from . import metrics, roadmap, selectors
from .filtersets import InitiativeFilterSet

PARTS = ("numerator", "denominator")


def _members_url(key: str, part: str) -> str:
    return reverse("portfolio:scaling_members", args=[key, part])


@login_required
def scaling_page(request):
    initiatives = selectors.initiative_list(user=request.user)
    results = metrics.scaling_metrics(initiatives)
    indicators = roadmap.indicators_for_metrics(metrics.METRICS)
    cards = []
    for key, definition in metrics.METRICS.items():
        result = results[key]
        indicator = indicators.get(key)
        history = [value.value for value in indicator.history] if indicator else []
        numerator, _ = metrics.MEMBERS[key]
        cards.append(
            {
                "key": key,
                "metric": definition,
                "result": result,
                "display": charts.format_number(result.value, 1, definition.unit),
                "numerator_url": _members_url(key, "numerator") if numerator is not None else "",
                "denominator_url": _members_url(key, "denominator"),
                "trend": charts.sparkline(
                    history,
                    title=f"{definition.name}, organisation-wide, last {roadmap.HISTORY_DAYS} days",
                    target=indicator.target if indicator else None,
                    unit=definition.unit if definition.unit in ("%", "days") else "",
                    width=200,
                ),
                "has_trend": bool(history),
            }
        )
    production = results[metrics.PRODUCTION_TWO_UNITS]
    conversion = results[metrics.CONVERSION]
    funnel = None
    if production.denominator:
        funnel = charts.bar_chart(
            [
                ("Initiatives in view", production.denominator),
                ("Reached pilot", conversion.denominator),
                ("Reached production", conversion.numerator),
                ("In production in ≥ 2 units", production.numerator),
            ],
            title="From registration to scale: initiatives at each step",
            decimals=0,
        )
    context = {
        "cards": cards,
        "funnel": funnel,
        "common_note": metrics.COMMON_NOTE,
    }
    return render(request, "portfolio/scaling.html", context)


@login_required
def scaling_members(request, key, part):
    """The initiatives counted in one part of one metric, as a filterable list."""
    definition = metrics.METRICS.get(key)
    if definition is None or part not in PARTS:
        raise Http404("No such metric.")
    try:
        members = metrics.metric_members(
            selectors.initiative_list(user=request.user), key=key, part=part
        )
    except KeyError as error:
        raise Http404("This metric has no such part.") from error
    label = definition.numerator_label if part == "numerator" else definition.denominator_label
    return render_list(
        request,
        template="portfolio/scaling_members.html",
        queryset=members,
        filterset_class=InitiativeFilterSet,
        extra_context={
            "metric": definition,
            "part": part,
            "part_label": label,
            "list_url": request.path,
        },
    )
