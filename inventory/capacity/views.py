"""Pages of GPU requests, quotas (usage against quota), external keys and the GPU catalogue.
Thin: reads through ``inventory.capacity.selectors``, writes through
``inventory.capacity.services``."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exports import ListExport, list_page, person_name
from core.forms import apply_validation_error
from core.htmx import render_list
from core.svg import format_number
from governance.approvals import selectors as approval_selectors
from inventory.capacity import selectors as quota_selectors
from inventory.capacity import services as gpu_requests
from inventory.capacity.choices import GPURequestStatus
from inventory.capacity.filtersets import (
    ExternalKeyFilterSet,
    GPUQuotaFilterSet,
    GPURequestFilterSet,
)
from inventory.capacity.forms import ExternalKeyForm, GPUQuotaForm, GPURequestForm
from inventory.gpu.selectors import pool_get
from inventory.usage.charts import quota_bar


def _with_bars(rows):
    rows = quota_selectors.with_bars(rows)
    for quota in rows:
        quota.bar = quota_bar(quota)
    return rows


# --- GPU requests ----------------------------------------------------------------------------


GPU_REQUEST_EXPORT = ListExport(
    stem="gpu-requests",
    title="GPU requests",
    columns=(
        ("Request", lambda row: row.pk),
        ("Requested on", lambda row: row.created_at),
        ("Requested by", lambda row: person_name(row.requested_by)),
        ("Initiative", lambda row: row.initiative.reference),
        ("Initiative title", lambda row: row.initiative.title),
        ("Business unit", lambda row: row.business_unit.name),
        ("Pool", lambda row: row.pool.name),
        ("GPU type", lambda row: row.pool.gpu_type.name),
        ("GPUs", lambda row: row.gpu_count),
        ("Purpose", lambda row: row.get_purpose_display()),
        ("Starts on", lambda row: row.starts_on),
        ("Ends on", lambda row: row.ends_on),
        ("Status", lambda row: row.get_status_display()),
        ("Allocation", lambda row: row.allocation_id),
    ),
    queryset=lambda request: quota_selectors.requests_list(user=request.user),
    filterset_class=GPURequestFilterSet,
)

QUOTA_EXPORT = ListExport(
    stem="gpu-quotas",
    title="GPU quotas",
    columns=(
        ("Business unit", lambda row: row.business_unit.name if row.business_unit else ""),
        ("Initiative", lambda row: row.initiative.reference if row.initiative else ""),
        ("Pool", lambda row: row.pool.name),
        ("Deserved GPUs", lambda row: row.deserved_gpus),
        ("Limit GPUs", lambda row: row.limit_gpus),
        ("Monthly GPU-hour budget", lambda row: row.monthly_gpu_hour_budget),
    ),
    queryset=lambda request: quota_selectors.quota_list(user=request.user),
    filterset_class=GPUQuotaFilterSet,
)

EXTERNAL_KEY_EXPORT = ListExport(
    stem="external-keys",
    title="Matching keys",
    columns=(
        ("Kind", lambda row: row.get_kind_display()),
        ("Value", lambda row: row.value),
        ("Initiative", lambda row: row.initiative.reference if row.initiative else ""),
        ("Business unit", lambda row: row.business_unit.name if row.business_unit else ""),
        ("Allocation", lambda row: row.allocation_id),
        ("Added", lambda row: row.created_at),
    ),
    queryset=lambda request: quota_selectors.external_key_list(user=request.user),
    filterset_class=ExternalKeyFilterSet,
)


@login_required
@require_GET
@list_page("inventory:gpu_request_list")
def gpu_request_list(request):
    return render_list(
        request,
        template="inventory/capacity/gpu_request_list.html",
        queryset=quota_selectors.requests_list(user=request.user),
        filterset_class=GPURequestFilterSet,
        export="inventory:gpu_request_list",
        extra_context={"can_create": request.user.is_authenticated},
    )


def _success_message(gpu_request) -> str:
    if gpu_request.status == GPURequestStatus.APPROVED:
        return (
            f"Fast-tracked: {format_number(gpu_request.gpu_count, 2)} GPUs allocated in "
            f"{gpu_request.pool.name}."
        )
    return "Submitted: the approvers have been asked."


@login_required
@require_http_methods(["GET", "POST"])
def gpu_request_create(request):
    # The initiative page links here with ?initiative=<pk>, the pool page with ?pool=<pk>.
    initial = {key: request.GET.get(key) for key in ("initiative", "pool") if request.GET.get(key)}
    form = GPURequestForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            gpu_request = gpu_requests.gpu_request_create(
                actor=request.user, data=form.cleaned_data
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _success_message(gpu_request))
            return redirect(gpu_request)
    return render(request, "inventory/capacity/gpu_request_form.html", {"form": form})


@login_required
@require_GET
def gpu_request_detail(request, pk):
    gpu_request = quota_selectors.request_get(user=request.user, pk=pk)
    approvals = list(
        approval_selectors.requests_about(
            user=request.user,
            subject_type=gpu_requests.GPU_REQUEST_SUBJECT,
            subject_ids=[gpu_request.pk],
        )
    )
    checks, missing = [], []
    if gpu_request.status == GPURequestStatus.PENDING:
        checks, missing = gpu_requests.quota_checks(gpu_request)
    context = {
        "gpu_request": gpu_request,
        "approval": approvals[0] if approvals else None,
        "checks": checks,
        "missing_quota": missing,
        "problems": gpu_requests.fast_path_problems(gpu_request)
        if gpu_request.status == GPURequestStatus.PENDING
        else [],
    }
    return render(request, "inventory/capacity/gpu_request_detail.html", context)


# --- Quotas ---------------------------------------------------------------------------------------


@login_required
@require_GET
@list_page("inventory:quota_list")
def quota_list(request):
    return render_list(
        request,
        template="inventory/capacity/quota_list.html",
        queryset=quota_selectors.quota_list(user=request.user),
        filterset_class=GPUQuotaFilterSet,
        export="inventory:quota_list",
        extra_context={"can_manage": gpu_requests.can_manage_quotas(request.user)},
        decorate=_with_bars,
    )


@login_required
@require_http_methods(["GET", "POST"])
def quota_create(request):
    if not gpu_requests.can_manage_quotas(request.user):
        raise PermissionDenied("Only platform engineers and CoE admins manage GPU quotas.")
    form = GPUQuotaForm(request.POST or None, initial={"pool": request.GET.get("pool")})
    if request.method == "POST" and form.is_valid():
        try:
            gpu_requests.quota_create(actor=request.user, data=form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, "Quota added.")
            return redirect("inventory:quota_list")
    return render(request, "inventory/capacity/quota_form.html", {"form": form, "quota": None})


@login_required
@require_http_methods(["GET", "POST"])
def quota_update(request, pk):
    quota = quota_selectors.quota_get(user=request.user, pk=pk)
    if not gpu_requests.can_manage_quotas(request.user):
        raise PermissionDenied("Only platform engineers and CoE admins manage GPU quotas.")
    form = GPUQuotaForm(request.POST or None, instance=quota)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in gpu_requests.QUOTA_EDITABLE_FIELDS}
        quota.refresh_from_db()  # the form wrote its values on the instance
        try:
            gpu_requests.quota_update(actor=request.user, quota=quota, data=data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, "Quota saved.")
            return redirect("inventory:quota_list")
    return render(request, "inventory/capacity/quota_form.html", {"form": form, "quota": quota})


@login_required
@require_POST
def quota_delete(request, pk):
    quota = quota_selectors.quota_get(user=request.user, pk=pk)
    gpu_requests.quota_delete(actor=request.user, quota=quota)
    messages.success(request, "Quota deleted.")
    return redirect("inventory:quota_list")


@login_required
@require_GET
def pool_quotas(request, pk):
    """The pool page's quota panel (loaded by htmx): quotas with usage, and free GPUs."""
    pool = pool_get(user=request.user, pk=pk)
    context = {
        "pool": pool,
        "quotas": _with_bars(quota_selectors.quota_list(user=request.user).filter(pool=pool)),
        "free_gpus": Decimal(pool.gpu_count) - Decimal(pool.allocated_gpus),
        "can_manage": gpu_requests.can_manage_quotas(request.user),
    }
    return render(request, "inventory/capacity/partials/_pool_quotas.html", context)


# --- External keys and the catalogue ------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@list_page("inventory:external_key_list")
def external_key_list(request):
    """The matching keys, with an add form for those who may manage some."""
    can_manage = gpu_requests.may_manage_some_external_key(request.user)
    form = ExternalKeyForm(request.POST or None, user=request.user) if can_manage else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("Only platform engineers and BU leads manage matching keys.")
        if form.is_valid():
            try:
                key = gpu_requests.external_key_create(actor=request.user, data=form.cleaned_data)
            except ValidationError as error:
                apply_validation_error(form, error)
            else:
                messages.success(request, f"Key {key.value} added.")
                return redirect("inventory:external_key_list")

    def with_permissions(rows):
        for key in rows:
            key.can_delete = gpu_requests.can_manage_external_key(request.user, key)
        return rows

    return render_list(
        request,
        template="inventory/capacity/external_key_list.html",
        queryset=quota_selectors.external_key_list(user=request.user),
        filterset_class=ExternalKeyFilterSet,
        export="inventory:external_key_list",
        extra_context={"form": form},
        decorate=with_permissions,
    )


@login_required
@require_POST
def external_key_delete(request, pk):
    key = quota_selectors.external_key_get(user=request.user, pk=pk)
    gpu_requests.external_key_delete(actor=request.user, key=key)
    messages.success(request, f"Key {key.value} deleted.")
    return redirect("inventory:external_key_list")
