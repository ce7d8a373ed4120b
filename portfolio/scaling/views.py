"""Cross-BU adoption: another business unit plans a deployment of an initiative and asks the
``scale`` gate for it; approving that request puts the deployment in production.

``adopt_initiative`` composes the portfolio and governance services (a domain service in
portfolio cannot call governance) and is shared by the HTML view and the API.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from core import charts
from core.exports import ListExport, list_page
from core.forms import apply_validation_error
from core.htmx import render_list
from governance.approvals import services as approval_services
from governance.risk import controls
from governance.risk import selectors as risk_selectors
from governance.risk.choices import Gate
from portfolio.initiatives import selectors, services
from portfolio.initiatives.filtersets import InitiativeFilterSet
from portfolio.intake.forms import AdoptForm
from portfolio.roadmap import services as roadmap
from portfolio.roadmap.selectors import indicators_for_metrics
from portfolio.scaling import metrics
from portfolio.scaling import selectors as scaling_selectors


def adopt_initiative(*, actor, initiative, business_unit, comment: str = ""):
    """Plan ``business_unit``'s deployment of ``initiative`` and submit it for the ``scale``
    gate, all or nothing: a refused submission (gate blockers, Tier 4) leaves no deployment.
    Returns (deployment, approval request); a fast-tracked request has already put the
    deployment in production."""
    with transaction.atomic():
        deployment = services.deployment_plan_adoption(
            actor=actor, initiative=initiative, business_unit=business_unit
        )
        approval = approval_services.request_submit(
            actor=actor,
            initiative=initiative,
            gate=Gate.SCALE,
            comment=comment.strip() or f"Adoption by {business_unit.name}.",
            deployment=deployment,
        )
    deployment.refresh_from_db()
    return deployment, approval


def scale_requests_by_deployment(initiative) -> dict[int, object]:
    """The latest ``scale`` request of each of the initiative's deployments."""
    requests = initiative.approval_requests.filter(
        gate=Gate.SCALE, subject_type=approval_services.DEPLOYMENT_SUBJECT
    ).order_by("submitted_at", "pk")
    return {int(request.subject_id): request for request in requests}


@login_required
@require_GET
def initiative_deployments(request, pk):
    """The initiative page's deployments panel, loaded into it by htmx: where it runs, each
    adoption's scale request, and the adopt button for units that may adopt it."""
    initiative = selectors.initiative_get(user=request.user, pk=pk)
    deployments = list(selectors.initiative_deployments(initiative=initiative))
    by_deployment = scale_requests_by_deployment(initiative)
    rows = [(deployment, by_deployment.get(deployment.pk)) for deployment in deployments]
    counted = scaling_selectors.with_production_unit_count(
        selectors.initiative_list(user=request.user).filter(pk=initiative.pk)
    ).first()
    context = {
        "initiative": initiative,
        "rows": rows,
        "production_units": counted.production_units if counted else 0,
        "adoption_units": selectors.adoption_business_units(
            user=request.user, initiative=initiative
        ),
    }
    return render(request, "portfolio/scaling/deployment_panel.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def initiative_adopt(request, pk):
    """Adopt the initiative in one of the user's other business units."""
    initiative = selectors.initiative_get(user=request.user, pk=pk)
    units = selectors.adoption_business_units(user=request.user, initiative=initiative)
    if not units:
        raise PermissionDenied("None of your business units can adopt this initiative.")
    form = AdoptForm(request.POST if request.method == "POST" else None, units=units)
    if request.method == "POST" and form.is_valid():
        try:
            deployment, approval = adopt_initiative(
                actor=request.user,
                initiative=initiative,
                business_unit=form.cleaned_data["business_unit"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            if approval.fast_tracked:
                messages.success(
                    request,
                    f"Fast-tracked: {initiative.reference} is in production in "
                    f"{deployment.business_unit.name}.",
                )
            else:
                messages.success(
                    request,
                    f"Submitted: {deployment.business_unit.name}'s adoption of "
                    f"{initiative.reference} awaits the Scale gate.",
                )
            return redirect(approval)
    tier = risk_selectors.current_tier(initiative)
    policy = approval_services.active_policy(tier=tier, gate=Gate.SCALE) if tier else None
    context = {
        "initiative": initiative,
        "form": form,
        "tier": tier,
        "policy": policy,
        "policy_steps": list(policy.steps.all()) if policy else [],
        "blockers": controls.gate_blockers(initiative, Gate.SCALE) if tier else [],
    }
    return render(request, "portfolio/scaling/deployment_adopt.html", context)


PARTS = ("numerator", "denominator")


def _members_url(key: str, part: str) -> str:
    return reverse("portfolio:scaling_members", args=[key, part])


@login_required
def scaling_page(request):
    initiatives = selectors.initiative_list(user=request.user)
    results = metrics.scaling_metrics(initiatives)
    indicators = indicators_for_metrics(metrics.METRICS)
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
    return render(request, "portfolio/scaling/scaling.html", context)


def _metric_members(request, key, part):
    definition = metrics.METRICS.get(key)
    if definition is None or part not in PARTS:
        raise Http404("No such metric.")
    try:
        members = metrics.metric_members(
            selectors.initiative_list(user=request.user), key=key, part=part
        )
    except KeyError as error:
        raise Http404("This metric has no such part.") from error
    return definition, members


SCALING_MEMBERS_EXPORT = ListExport(
    stem="scaling-members",
    title="Scaling members",
    columns=(
        ("Reference", lambda initiative: initiative.reference),
        ("Title", lambda initiative: initiative.title),
        ("Business unit", lambda initiative: initiative.business_unit.name),
        ("Stage", lambda initiative: initiative.get_stage_display()),
    ),
    queryset=lambda request: _metric_members(
        request, request.resolver_match.kwargs["key"], request.resolver_match.kwargs["part"]
    )[1],
    filterset_class=InitiativeFilterSet,
)


@login_required
@list_page("portfolio:scaling_members")
def scaling_members(request, key, part):
    """The initiatives counted in one part of one metric, as a filterable list."""
    definition, members = _metric_members(request, key, part)
    label = definition.numerator_label if part == "numerator" else definition.denominator_label
    return render_list(
        request,
        template="portfolio/scaling/scaling_members.html",
        queryset=members,
        filterset_class=InitiativeFilterSet,
        export="portfolio:scaling_members",
        extra_context={
            "metric": definition,
            "part": part,
            "part_label": label,
            "list_url": request.path,
        },
    )
