"""Thin HTML views: resolve through selectors, call one service, render page or partial."""

import copy
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from core.forms import apply_validation_error, submit_through_service
from core.htmx import render_list

from . import selectors, services
from .filtersets import AIModelFilterSet, GPUAllocationFilterSet, GPUPoolFilterSet
from .forms import (
    AIModelForm,
    GPUAllocationForm,
    GPUPoolForm,
    ModelVersionForm,
    may_create_for_some_unit,
)
from .permissions import (
    can_create_allocation,
    can_create_model,
    can_edit_allocation,
    can_edit_model,
    can_manage_pools,
)


def _editable_copy(instance):
    """A copy for a ModelForm to write its input into, so a rejected edit leaves the object
    the page describes (heading, links) as it is stored."""
    return copy.copy(instance)


@login_required
def model_list(request):
    return render_list(
        request,
        template="inventory/model_list.html",
        queryset=selectors.model_list(user=request.user),
        filterset_class=AIModelFilterSet,
        extra_context={"can_create": may_create_for_some_unit(request.user, can_create_model)},
    )


def _render_model_detail(request, model, version_form=None):
    can_edit = can_edit_model(request.user, model)
    context = {
        "model": model,
        "versions": selectors.model_versions(model=model),
        "initiatives": selectors.model_initiatives(user=request.user, model=model),
        "can_edit": can_edit,
        "version_form": version_form or (ModelVersionForm(model=model) if can_edit else None),
    }
    return render(request, "inventory/model_detail.html", context)


@login_required
def model_detail(request, pk):
    model = selectors.model_get(user=request.user, pk=pk)
    return _render_model_detail(request, model)


@login_required
@require_http_methods(["GET", "POST"])
def model_create(request):
    form = AIModelForm(request.POST or None, user=request.user)
    if not form.fields["business_unit"].queryset.exists():
        raise PermissionDenied("You have no business unit to register models for.")
    done = submit_through_service(
        request,
        form,
        lambda data: services.model_create(actor=request.user, data=data),
        success=lambda model: f"Model {model.name} registered.",
    )
    if done:
        return done
    return render(request, "inventory/model_form.html", {"form": form, "model": None})


@login_required
@require_http_methods(["GET", "POST"])
def model_update(request, pk):
    model = selectors.model_get(user=request.user, pk=pk)
    if not can_edit_model(request.user, model):
        raise PermissionDenied("You cannot edit this model.")
    form = AIModelForm(request.POST or None, instance=_editable_copy(model), user=request.user)
    done = submit_through_service(
        request,
        form,
        lambda data: services.model_update(actor=request.user, model=model, data=data),
        success=lambda model: f"Model {model.name} saved.",
    )
    if done:
        return done
    return render(request, "inventory/model_form.html", {"form": form, "model": model})


@login_required
@require_POST
def model_version_create(request, pk):
    model = selectors.model_get(user=request.user, pk=pk)
    if not can_edit_model(request.user, model):
        raise PermissionDenied("You cannot add versions to this model.")
    form = ModelVersionForm(request.POST, model=model)
    if form.is_valid():
        try:
            version = services.model_version_create(
                actor=request.user, model=model, data=form.cleaned_data
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, f"Version {version.version} added.")
            return redirect(model)
    return _render_model_detail(request, model, version_form=form)


@login_required
def pool_list(request):
    return render_list(
        request,
        template="inventory/pool_list.html",
        queryset=selectors.pool_list(user=request.user),
        filterset_class=GPUPoolFilterSet,
        extra_context={"can_create": can_manage_pools(request.user)},
    )


@login_required
def pool_detail(request, pk):
    pool = selectors.pool_get(user=request.user, pk=pk)
    context = {
        "pool": pool,
        "free_gpus": Decimal(pool.gpu_count) - Decimal(pool.allocated_gpus),
        "allocations": selectors.pool_current_allocations(user=request.user, pool=pool),
        "can_edit": can_manage_pools(request.user),
        "can_allocate": may_create_for_some_unit(request.user, can_create_allocation),
    }
    return render(request, "inventory/pool_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def pool_create(request):
    if not can_manage_pools(request.user):
        raise PermissionDenied("Only platform engineers can manage GPU pools.")
    form = GPUPoolForm(request.POST or None)
    done = submit_through_service(
        request,
        form,
        lambda data: services.pool_create(actor=request.user, data=data),
        success=lambda pool: f"GPU pool {pool.name} created.",
    )
    if done:
        return done
    return render(request, "inventory/pool_form.html", {"form": form, "pool": None})


@login_required
@require_http_methods(["GET", "POST"])
def pool_update(request, pk):
    pool = selectors.pool_get(user=request.user, pk=pk)
    if not can_manage_pools(request.user):
        raise PermissionDenied("Only platform engineers can manage GPU pools.")
    form = GPUPoolForm(request.POST or None, instance=_editable_copy(pool))
    done = submit_through_service(
        request,
        form,
        lambda data: services.pool_update(actor=request.user, pool=pool, data=data),
        success=lambda pool: f"GPU pool {pool.name} saved.",
    )
    if done:
        return done
    return render(request, "inventory/pool_form.html", {"form": form, "pool": pool})


@login_required
def allocation_list(request):
    return render_list(
        request,
        template="inventory/allocation_list.html",
        queryset=selectors.allocation_list(user=request.user),
        filterset_class=GPUAllocationFilterSet,
        extra_context={"can_create": may_create_for_some_unit(request.user, can_create_allocation)},
    )


@login_required
def allocation_detail(request, pk):
    allocation = selectors.allocation_get(user=request.user, pk=pk)
    context = {
        "allocation": allocation,
        "can_edit": can_edit_allocation(request.user, allocation),
    }
    return render(request, "inventory/allocation_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def allocation_create(request):
    # The pool detail page links here with ?pool=<pk> to preselect it.
    form = GPUAllocationForm(
        request.POST or None, user=request.user, initial={"pool": request.GET.get("pool")}
    )
    if not form.fields["business_unit"].queryset.exists():
        raise PermissionDenied("Only platform engineers can allocate GPUs.")
    done = submit_through_service(
        request,
        form,
        lambda data: services.allocation_create(actor=request.user, data=data),
        success=lambda allocation: "GPUs allocated.",
    )
    if done:
        return done
    return render(request, "inventory/allocation_form.html", {"form": form, "allocation": None})


@login_required
@require_http_methods(["GET", "POST"])
def allocation_update(request, pk):
    allocation = selectors.allocation_get(user=request.user, pk=pk)
    if not can_edit_allocation(request.user, allocation):
        raise PermissionDenied("Only platform engineers can change GPU allocations.")
    form = GPUAllocationForm(
        request.POST or None, instance=_editable_copy(allocation), user=request.user
    )
    done = submit_through_service(
        request,
        form,
        lambda data: services.allocation_update(
            actor=request.user, allocation=allocation, data=data
        ),
        success=lambda allocation: "Allocation saved.",
    )
    if done:
        return done
    return render(
        request, "inventory/allocation_form.html", {"form": form, "allocation": allocation}
    )
