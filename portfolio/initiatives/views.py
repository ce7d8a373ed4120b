"""HTML views of initiatives: list, detail, register, edit and stage changes."""

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.discussions.views import discussion_context
from core.exports import list_page
from core.forms import submit_through_service
from core.htmx import render_list
from core.selectors import history_context
from governance.incidents.selectors import initiative_incidents
from portfolio.initiatives import selectors, services
from portfolio.initiatives.filtersets import InitiativeFilterSet
from portfolio.initiatives.forms import InitiativeForm, StageChangeForm
from portfolio.initiatives.permissions import (
    can_change_stage,
    can_edit_initiative,
    can_register_initiatives,
)


@login_required
@list_page("governance:initiative_export")
def initiative_list(request):
    return render_list(
        request,
        template="portfolio/initiatives/initiative_list.html",
        queryset=selectors.initiative_list(user=request.user),
        filterset_class=InitiativeFilterSet,
        extra_context={"can_register": can_register_initiatives(request.user)},
    )


@login_required
@require_GET
def initiative_by_reference(request, reference, rest=""):
    """``/initiatives/AI-0094/…`` → the same page under the initiative's id, as people quote
    references; 404 for a reference that is unknown or outside the reader's scope."""
    pk = selectors.initiative_pk_by_reference(user=request.user, reference=reference)
    target = f"{reverse('portfolio:initiative_detail', args=[pk])}{rest}"
    query = request.META.get("QUERY_STRING", "")
    return redirect(f"{target}?{query}" if query else target)


@login_required
def initiative_detail(request, pk):
    initiative = selectors.initiative_get(user=request.user, pk=pk)
    context = {
        "initiative": initiative,
        "stage_history": selectors.initiative_stage_history(initiative=initiative),
        "deployments": selectors.initiative_deployments(initiative=initiative),
        "models": initiative.ai_models.all(),
        "allocations": initiative.gpu_allocations.select_related("pool__gpu_type", "business_unit"),
        "can_edit": can_edit_initiative(request.user, initiative),
        "can_change_stage": can_change_stage(request.user, initiative),
        "stage_form": StageChangeForm(initiative=initiative),
        "incidents": initiative_incidents(user=request.user, initiative=initiative),
        **history_context(user=request.user, target=initiative),
        **discussion_context(user=request.user, subject=initiative),
    }
    return render(request, "portfolio/initiatives/initiative_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def initiative_create(request):
    form = InitiativeForm(request.POST or None, user=request.user)
    if not form.fields["business_unit"].queryset.exists():
        raise PermissionDenied("You have no business unit to register initiatives for.")
    done = submit_through_service(
        request,
        form,
        lambda data: services.initiative_create(actor=request.user, data=data),
        success=lambda initiative: f"{initiative.reference} registered.",
    )
    if done:
        return done
    return render(
        request, "portfolio/initiatives/initiative_form.html", {"form": form, "initiative": None}
    )


@login_required
@require_http_methods(["GET", "POST"])
def initiative_update(request, pk):
    initiative = selectors.initiative_get(user=request.user, pk=pk)
    if not can_edit_initiative(request.user, initiative):
        raise PermissionDenied("You cannot edit this initiative.")
    # The form writes into a copy, so a rejected edit leaves the page's heading as stored.
    form = InitiativeForm(request.POST or None, instance=copy.copy(initiative), user=request.user)
    done = submit_through_service(
        request,
        form,
        lambda data: services.initiative_update(
            actor=request.user, initiative=initiative, data=data
        ),
        success=lambda saved: f"{saved.reference} saved.",
    )
    if done:
        return done
    return render(
        request,
        "portfolio/initiatives/initiative_form.html",
        {"form": form, "initiative": initiative},
    )


@login_required
@require_POST
def initiative_change_stage(request, pk):
    initiative = selectors.initiative_get(user=request.user, pk=pk)
    form = StageChangeForm(request.POST, initiative=initiative)
    if form.is_valid():
        try:
            services.initiative_change_stage(
                actor=request.user,
                initiative=initiative,
                to_stage=form.cleaned_data["to_stage"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, "Stage changed.")
    else:
        messages.error(request, "Choose a valid stage.")
    return redirect(initiative)
