"""HTML views of the model registry and the vendor register."""

from dataclasses import dataclass, field, replace

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.discussions.views import discussion_context
from core.exports import ListExport, csv_response, list_page, person_name, xlsx_response, yes_no
from core.forms import apply_validation_error, may_create_for_some_unit, submit_through_service
from core.htmx import render_list
from core.reference import ReferenceForm, editable_copy
from core.selectors import history_context
from governance.approvals import selectors as approval_selectors
from governance.approvals import services as approval_services
from inventory.gpu.selectors import model_allocations
from inventory.registry import exports, selectors, services
from inventory.registry import services as model_services
from inventory.registry.choices import ModelStatus
from inventory.registry.filtersets import AIModelFilterSet, OverdueReviewFilterSet, VendorFilterSet
from inventory.registry.forms import (
    AIModelForm,
    EvaluationMetricForm,
    ModelVersionForm,
    MonitoringReportForm,
    ReleaseRequestForm,
    ValidationRecordForm,
    VendorForm,
    VendorProductForm,
    VersionStatusForm,
    manual_targets,
)
from inventory.registry.permissions import (
    can_create_model,
    can_edit_model,
    can_manage_vendors,
    can_report_monitoring,
)
from inventory.registry.selectors import SHARED_MODEL_UNIT_COUNT

OVERDUE_REVIEW_EXPORT = ListExport(
    stem="reviews-overdue",
    title="Reviews overdue",
    columns=(
        ("Model", lambda version: version.model.name),
        ("Version", lambda version: version.version),
        ("Status", lambda version: version.get_status_display()),
        ("Business unit", lambda version: version.model.business_unit.name),
        ("Owner", lambda version: person_name(version.model.owner)),
        ("Last validated", lambda version: version.last_validated_on),
        ("Review due", lambda version: version.next_review_due),
    ),
    queryset=lambda request: selectors.overdue_review_list(user=request.user),
    filterset_class=OverdueReviewFilterSet,
)

VENDOR_EXPORT = ListExport(
    stem="vendors",
    title="Vendors",
    columns=(
        ("Name", lambda vendor: vendor.name),
        ("Due diligence", lambda vendor: vendor.get_due_diligence_status_display()),
        ("Due diligence on", lambda vendor: vendor.due_diligence_on),
        ("DPA signed", lambda vendor: yes_no(vendor.dpa_signed)),
        ("Contract", lambda vendor: vendor.contract_reference),
        ("Contract ends", lambda vendor: vendor.contract_ends_on),
        ("Products", lambda vendor: vendor.product_count),
        ("Models", lambda vendor: vendor.model_count),
    ),
    queryset=lambda request: selectors.vendor_register_list(user=request.user),
    filterset_class=VendorFilterSet,
    custom_fields_entity="vendor",
)


@login_required
@list_page("inventory:model_list")
def model_list(request):
    return render_list(
        request,
        template="inventory/registry/model_list.html",
        queryset=selectors.model_list(user=request.user),
        filterset_class=AIModelFilterSet,
        export="inventory:model_list",
        extra_context={
            "can_create": may_create_for_some_unit(request.user, can_create_model),
            "shared_unit_count": SHARED_MODEL_UNIT_COUNT,
        },
    )


def _export_filename(extension: str) -> str:
    return f"model-inventory-{timezone.localdate():%Y-%m-%d}.{extension}"


@login_required
@require_GET
def model_list_csv(request):
    """Every filtered row of the model inventory (not just one page), streamed."""
    rows = exports.model_export_rows(user=request.user, params=request.GET, request=request)
    return csv_response(rows, filename=_export_filename("csv"))


@login_required
@require_GET
def model_list_xlsx(request):
    """The same rows as the CSV, as a spreadsheet streamed from a temporary file."""
    rows = exports.model_export_rows(user=request.user, params=request.GET, request=request)
    return xlsx_response(rows, filename=_export_filename("xlsx"), title="Models")


@dataclass
class VersionPanel:
    """One version on the model page with the action forms its viewer may use."""

    version: object
    status_form: forms.Form | None = None
    release_form: forms.Form | None = None
    validation_form: forms.Form | None = None
    monitoring_form: forms.Form | None = None
    metric_form: forms.Form | None = None
    metrics: list = field(default_factory=list)


# The version actions: form class and the attribute of VersionPanel it fills.
VERSION_ACTION_FORMS = {
    "status": (VersionStatusForm, "status_form"),
    "release": (ReleaseRequestForm, "release_form"),
    "validation": (ValidationRecordForm, "validation_form"),
    "monitoring": (MonitoringReportForm, "monitoring_form"),
    "metric": (EvaluationMetricForm, "metric_form"),
}


def _version_panel(user, version, can_edit: bool, bound: dict) -> VersionPanel:
    """The panel of ``version``; ``bound`` maps (action, version pk) to a submitted form to
    show again with its errors."""

    panel = VersionPanel(version=version)
    if not can_edit:
        return panel
    offered = {
        "status": bool(manual_targets(version)),
        "release": version.can_move_to(ModelStatus.PRODUCTION),
        "validation": version.status != ModelStatus.RETIRED,
        "metric": version.status != ModelStatus.RETIRED,
        "monitoring": version.status == ModelStatus.PRODUCTION
        and can_report_monitoring(user, version.model),
    }
    for action, (form_class, attribute) in VERSION_ACTION_FORMS.items():
        submitted = bound.get((action, version.pk))
        # A refused submission is shown again with its errors, even if the button would
        # not be offered now (the version changed meanwhile).
        if submitted is not None:
            setattr(panel, attribute, submitted)
        elif offered[action]:
            setattr(panel, attribute, form_class(version=version))
    return panel


def _release_requests(user, versions):
    """The model_release approval requests of these versions that the user may see."""
    if not versions:
        return []
    return list(
        approval_selectors.requests_about(
            user=user,
            subject_type=model_services.MODEL_VERSION_SUBJECT,
            subject_ids=[version.pk for version in versions],
        )
    )


def _render_model_detail(request, model, version_form=None, bound=None):
    user = request.user
    can_edit = can_edit_model(user, model)
    versions = list(selectors.model_version_timeline(model=model))
    for version in versions:
        version.model = model  # predicates read the model: no query per version
    by_pk = {version.pk: version for version in versions}
    requests = _release_requests(user, versions)
    for approval in requests:
        approval.version = by_pk.get(int(approval.subject_id))
    consumer_units = list(selectors.model_consumer_units(model=model))
    context = {
        "model": model,
        "versions": versions,
        "panels": [_version_panel(user, version, can_edit, bound or {}) for version in versions],
        "metrics": selectors.model_metric_history(model=model),
        "monitoring_reports": selectors.model_monitoring_history(model=model),
        "initiatives": selectors.model_initiatives(user=user, model=model),
        "consumer_units": consumer_units,
        "is_shared": len(consumer_units) >= SHARED_MODEL_UNIT_COUNT,
        "allocations": model_allocations(user=user, model=model),
        "release_requests": requests,
        "can_edit": can_edit,
        "version_form": version_form
        or (ModelVersionForm(model=model, user=user) if can_edit else None),
        **history_context(user=user, target=model, also=versions),
        **discussion_context(user=user, subject=model),
    }
    return render(request, "inventory/registry/model_detail.html", context)


@login_required
def model_detail(request, pk):
    model = selectors.model_get(user=request.user, pk=pk)
    return _render_model_detail(request, model)


def _version_action(request, pk, version_pk, action, perform, success):
    """The POST half of each version action on the model page: resolve the version through
    the scoped selector (404 if unseen), refuse non-editors (403), validate the action's form,
    call ``perform(version, cleaned_data)`` (one service) and redirect to the version; a
    ValidationError re-renders the page with the form and its errors."""
    version = selectors.model_page_version_get(user=request.user, model_pk=pk, pk=version_pk)
    model = version.model
    if not can_edit_model(request.user, model):
        raise PermissionDenied("You cannot change this model's versions.")
    form_class, _ = VERSION_ACTION_FORMS[action]
    form = form_class(request.POST, version=version)
    if form.is_valid():
        try:
            result = perform(version, form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, success(version, result))
            return redirect(version.get_absolute_url())
    return _render_model_detail(request, model, bound={(action, version.pk): form})


@login_required
@require_POST
def model_version_status(request, pk, version_pk):
    return _version_action(
        request,
        pk,
        version_pk,
        "status",
        lambda version, data: model_services.model_version_change_status(
            actor=request.user, version=version, to_status=data["to_status"], reason=data["reason"]
        ),
        lambda version, moved: f"Version {version.version} is now {moved.get_status_display()}.",
    )


@login_required
@require_POST
def model_version_release(request, pk, version_pk):
    return _version_action(
        request,
        pk,
        version_pk,
        "release",
        lambda version, data: approval_services.model_release_submit(
            actor=request.user, version=version, comment=data["comment"]
        ),
        lambda version, approval: (
            f"Release of version {version.version} "
            + ("approved." if approval.status == "approved" else "submitted for approval.")
        ),
    )


@login_required
@require_POST
def model_version_validation(request, pk, version_pk):
    return _version_action(
        request,
        pk,
        version_pk,
        "validation",
        lambda version, data: model_services.model_version_record_validation(
            actor=request.user,
            version=version,
            validated_on=data["validated_on"],
            note=data["note"],
        ),
        lambda version, validated: (
            f"Validation of version {version.version} recorded; next review due "
            + (f"{validated.next_review_due:%d %b %Y}." if validated.next_review_due else "—.")
        ),
    )


@login_required
@require_POST
def model_version_monitoring(request, pk, version_pk):
    return _version_action(
        request,
        pk,
        version_pk,
        "monitoring",
        lambda version, data: model_services.model_version_report_monitoring(
            actor=request.user, version=version, status=data["status"], note=data["note"]
        ),
        lambda version, report: (
            f"Monitoring of version {version.version}: {report.get_status_display()}."
        ),
    )


@login_required
@require_POST
def model_version_metric(request, pk, version_pk):
    return _version_action(
        request,
        pk,
        version_pk,
        "metric",
        lambda version, data: model_services.evaluation_metric_add(
            actor=request.user, version=version, data=data
        ),
        lambda version, metric: f"Metric {metric.name} added to version {version.version}.",
    )


@login_required
@require_GET
def model_card_pdf(request, pk, version_pk):
    """The version's model card as a printable PDF, for whoever may see the model."""
    import weasyprint  # heavy import, only for this view

    version = selectors.model_page_version_get(user=request.user, model_pk=pk, pk=version_pk)
    context = {
        "model": version.model,
        "version": version,
        "metrics": version.metrics.order_by("name", "measured_on", "pk"),
        "initiatives": selectors.model_initiatives(user=request.user, model=version.model),
        "generated_on": timezone.localdate(),
    }
    html = render_to_string("inventory/registry/model_card_pdf.html", context, request=request)
    pdf = weasyprint.HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"model-card-{version.model.name}-{version.version}.pdf".replace('"', "")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@login_required
@list_page("inventory:overdue_review_list")
def overdue_review_list(request):
    return render_list(
        request,
        template="inventory/registry/overdue_review_list.html",
        queryset=selectors.overdue_review_list(user=request.user),
        filterset_class=OverdueReviewFilterSet,
        export="inventory:overdue_review_list",
        extra_context={"today": timezone.localdate()},
    )


@login_required
@list_page("inventory:vendor_list")
def vendor_list(request):
    return render_list(
        request,
        template="inventory/registry/vendor_list.html",
        queryset=selectors.vendor_register_list(user=request.user),
        filterset_class=VendorFilterSet,
        export="inventory:vendor_list",
        extra_context={"can_manage": can_manage_vendors(request.user)},
    )


def _render_vendor_detail(request, vendor, product_form=None):
    can_manage = can_manage_vendors(request.user)
    context = {
        "vendor": vendor,
        "products": vendor.products.order_by("name"),
        "models": selectors.vendor_models(user=request.user, vendor=vendor),
        "can_manage": can_manage,
        "product_form": product_form or (VendorProductForm(vendor=vendor) if can_manage else None),
        "today": timezone.localdate(),
    }
    return render(request, "inventory/registry/vendor_detail.html", context)


@login_required
def vendor_detail(request, pk):
    vendor = selectors.vendor_register_get(user=request.user, pk=pk)
    return _render_vendor_detail(request, vendor)


VENDOR_DENIED = "Only the CoE and platform engineers keep the vendor register."

VENDOR_FORM = ReferenceForm(
    form_class=VendorForm,
    template="inventory/registry/vendor_form.html",
    name="vendor",
    permitted=can_manage_vendors,
    denied=VENDOR_DENIED,
)

vendor_create = VENDOR_FORM.create_view(
    model_services.vendor_create, success=lambda vendor: f"Vendor {vendor.name} added."
)
vendor_update = VENDOR_FORM.update_view(
    selectors.vendor_register_get,
    model_services.vendor_update,
    success=lambda vendor: f"Vendor {vendor.name} saved.",
)

# The same keepers edit a product; it has no page of its own, so its edit page comes from
# and returns to its vendor's.
vendor_product_update = replace(
    VENDOR_FORM,
    form_class=VendorProductForm,
    template="inventory/registry/vendor_product_form.html",
    name="product",
    form_kwargs=lambda product: {"vendor": product.vendor},
    success_url=lambda product: product.vendor.get_absolute_url(),
).update_view(
    lambda *, user, pk, product_pk: selectors.vendor_product_get(
        user=user, vendor_pk=pk, pk=product_pk
    ),
    model_services.vendor_product_update,
    success=lambda product: f"Product {product.name} saved.",
)


@login_required
@require_POST
def vendor_product_create(request, pk):
    vendor = selectors.vendor_register_get(user=request.user, pk=pk)
    if not can_manage_vendors(request.user):
        raise PermissionDenied(VENDOR_DENIED)
    form = VendorProductForm(request.POST, vendor=vendor)
    if form.is_valid():
        try:
            product = model_services.vendor_product_create(
                actor=request.user, vendor=vendor, data=form.cleaned_data
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, f"Product {product.name} added.")
            return redirect(vendor)
    return _render_vendor_detail(request, vendor, product_form=form)


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
    return render(request, "inventory/registry/model_form.html", {"form": form, "model": None})


@login_required
@require_http_methods(["GET", "POST"])
def model_update(request, pk):
    model = selectors.model_get(user=request.user, pk=pk)
    if not can_edit_model(request.user, model):
        raise PermissionDenied("You cannot edit this model.")
    form = AIModelForm(request.POST or None, instance=editable_copy(model), user=request.user)
    done = submit_through_service(
        request,
        form,
        lambda data: services.model_update(actor=request.user, model=model, data=data),
        success=lambda model: f"Model {model.name} saved.",
    )
    if done:
        return done
    return render(request, "inventory/registry/model_form.html", {"form": form, "model": model})


@login_required
@require_POST
def model_version_create(request, pk):
    model = selectors.model_get(user=request.user, pk=pk)
    if not can_edit_model(request.user, model):
        raise PermissionDenied("You cannot add versions to this model.")
    form = ModelVersionForm(request.POST, model=model, user=request.user)
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
