"""HTML views of the GPU catalogue, pools and allocations, and their exports."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from core.exports import ListExport, export_response, list_page
from core.forms import may_create_for_some_unit, submit_through_service
from core.htmx import render_list
from core.reference import ReferenceForm, editable_copy
from inventory.gpu import selectors, services
from inventory.gpu.allocation_import import allocation_import as run_allocation_import
from inventory.gpu.exports import allocation_export_rows, pool_export_rows
from inventory.gpu.filtersets import GPUAllocationFilterSet, GPUPoolFilterSet, GPUTypeFilterSet
from inventory.gpu.forms import AllocationImportForm, GPUAllocationForm, GPUPoolForm, GPUTypeForm
from inventory.gpu.permissions import (
    can_create_allocation,
    can_edit_allocation,
    can_import_allocations,
    can_manage_gpu_types,
    can_manage_pools,
)

GPU_TYPE_EXPORT = ListExport(
    stem="gpu-types",
    title="GPU types",
    columns=(
        ("Vendor", lambda gpu_type: gpu_type.vendor),
        ("Name", lambda gpu_type: gpu_type.name),
        ("Memory (GB)", lambda gpu_type: gpu_type.memory_gb),
        ("Currency", lambda gpu_type: gpu_type.currency),
        ("Reference price per GPU-hour", lambda gpu_type: gpu_type.reference_hourly_price),
        ("Price source", lambda gpu_type: gpu_type.price_source),
        ("Price as of", lambda gpu_type: gpu_type.price_as_of),
        ("Example instance", lambda gpu_type: gpu_type.example_instance),
        ("GPUs per instance", lambda gpu_type: gpu_type.gpus_per_instance),
        ("Instance price per hour", lambda gpu_type: gpu_type.instance_hourly_price),
        ("MIG profiles", lambda gpu_type: ", ".join(gpu_type.mig_profiles or [])),
    ),
    queryset=lambda request: selectors.gpu_type_list(user=request.user),
    filterset_class=GPUTypeFilterSet,
)


@login_required
@require_GET
@list_page("inventory:gpu_type_list")
def gpu_type_list(request):
    return render_list(
        request,
        template="inventory/gpu/gpu_type_list.html",
        queryset=selectors.gpu_type_list(user=request.user),
        filterset_class=GPUTypeFilterSet,
        export="inventory:gpu_type_list",
        extra_context={"can_edit": can_manage_gpu_types(request.user)},
    )


GPU_TYPE_FORM = ReferenceForm(
    form_class=GPUTypeForm,
    template="inventory/gpu/gpu_type_form.html",
    name="gpu_type",
    permitted=can_manage_gpu_types,
    denied=services.GPU_TYPE_DENIED,
    success_url=lambda gpu_type: reverse("inventory:gpu_type_list"),
)

gpu_type_create = GPU_TYPE_FORM.create_view(
    services.gpu_type_create, success=lambda gpu_type: f"GPU type {gpu_type.name} added."
)
gpu_type_update = GPU_TYPE_FORM.update_view(
    selectors.gpu_type_get,
    services.gpu_type_update,
    success=lambda gpu_type: f"GPU type {gpu_type.name} saved.",
)


@login_required
@list_page("inventory:pool_list")
def pool_list(request):
    return render_list(
        request,
        template="inventory/gpu/pool_list.html",
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
    return render(request, "inventory/gpu/pool_detail.html", context)


POOL_FORM = ReferenceForm(
    form_class=GPUPoolForm,
    template="inventory/gpu/pool_form.html",
    name="pool",
    permitted=can_manage_pools,
    denied="Only platform engineers can manage GPU pools.",
)

pool_create = POOL_FORM.create_view(
    services.pool_create, success=lambda pool: f"GPU pool {pool.name} created."
)
pool_update = POOL_FORM.update_view(
    selectors.pool_get, services.pool_update, success=lambda pool: f"GPU pool {pool.name} saved."
)


@login_required
@list_page("inventory:allocation_list")
def allocation_list(request):
    return render_list(
        request,
        template="inventory/gpu/allocation_list.html",
        queryset=selectors.allocation_list(user=request.user),
        filterset_class=GPUAllocationFilterSet,
        extra_context={
            "can_create": may_create_for_some_unit(request.user, can_create_allocation),
            "can_import": can_import_allocations(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def allocation_import(request):
    """Upload a CSV of allocations: a dry run lists every row error, or what would be
    created; a real run creates them all or none (``inventory.gpu.allocation_import``)."""
    if not can_import_allocations(request.user):
        raise PermissionDenied("Only platform engineers can allocate GPUs.")
    form = AllocationImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = run_allocation_import(
            actor=request.user,
            content=form.cleaned_data["file"].read(),
            dry_run=form.cleaned_data["dry_run"],
        )
        if result.ok and not result.dry_run:
            messages.success(
                request,
                f"Imported {len(result.created)} allocations "
                f"({result.gpu_total.normalize():f} GPUs).",
            )
            return redirect("inventory:allocation_list")
    return render(request, "inventory/gpu/allocation_import.html", {"form": form, "result": result})


@login_required
def allocation_detail(request, pk):
    allocation = selectors.allocation_get(user=request.user, pk=pk)
    context = {
        "allocation": allocation,
        "can_edit": can_edit_allocation(request.user, allocation),
    }
    return render(request, "inventory/gpu/allocation_detail.html", context)


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
    return render(request, "inventory/gpu/allocation_form.html", {"form": form, "allocation": None})


@login_required
@require_http_methods(["GET", "POST"])
def allocation_update(request, pk):
    allocation = selectors.allocation_get(user=request.user, pk=pk)
    if not can_edit_allocation(request.user, allocation):
        raise PermissionDenied("Only platform engineers can change GPU allocations.")
    form = GPUAllocationForm(
        request.POST or None, instance=editable_copy(allocation), user=request.user
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
        request, "inventory/gpu/allocation_form.html", {"form": form, "allocation": allocation}
    )


@login_required
@require_GET
def pool_list_export(request, extension):
    """Every filtered GPU pool as CSV or XLSX (``extension`` from the URL)."""
    rows = pool_export_rows(user=request.user, params=request.GET, request=request)
    return export_response(rows, extension=extension, stem="gpu-pools", title="GPU pools")


@login_required
@require_GET
def allocation_list_export(request, extension):
    """Every filtered GPU allocation the user may see as CSV or XLSX."""
    rows = allocation_export_rows(user=request.user, params=request.GET, request=request)
    return export_response(
        rows, extension=extension, stem="gpu-allocations", title="GPU allocations"
    )
