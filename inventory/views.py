from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from core.htmx import render_list

from . import selectors
from .filtersets import AIModelFilterSet, GPUAllocationFilterSet, GPUPoolFilterSet


@login_required
def model_list(request):
    return render_list(
        request,
        template="inventory/model_list.html",
        queryset=selectors.model_list(user=request.user),
        filterset_class=AIModelFilterSet,
    )


@login_required
def model_detail(request, pk):
    model = selectors.model_get(user=request.user, pk=pk)
    return render(request, "inventory/model_detail.html", {"model": model})


@login_required
def pool_list(request):
    return render_list(
        request,
        template="inventory/pool_list.html",
        queryset=selectors.pool_list(user=request.user),
        filterset_class=GPUPoolFilterSet,
    )


@login_required
def pool_detail(request, pk):
    pool = selectors.pool_get(user=request.user, pk=pk)
    return render(request, "inventory/pool_detail.html", {"pool": pool})


@login_required
def allocation_list(request):
    return render_list(
        request,
        template="inventory/allocation_list.html",
        queryset=selectors.allocation_list(user=request.user),
        filterset_class=GPUAllocationFilterSet,
    )


@login_required
def allocation_detail(request, pk):
    allocation = selectors.allocation_get(user=request.user, pk=pk)
    return render(request, "inventory/allocation_detail.html", {"allocation": allocation})
