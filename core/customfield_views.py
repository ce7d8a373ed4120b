"""The CoE admin's pages for custom fields (issue 20): the definitions of every register,
define and edit one, rename a choice (records holding it move with it) and delete a field
(records keep their values, shown as retired) — each asking for confirmation when records
hold values."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from core import customfields
from core.exports import ListExport, export_links, list_page, yes_no
from core.forms import (
    CustomFieldDefinitionForm,
    RenameChoiceForm,
    apply_validation_error,
    submit_through_service,
)
from core.models import CustomFieldDefinition

LIST_URL = "core:custom_field_list"


def _check(user) -> None:
    if not customfields.can_manage_custom_fields(user):
        raise PermissionDenied("Only CoE admins and administrators define custom fields.")


def _definitions(request):
    _check(request.user)
    return CustomFieldDefinition.objects.all()


def _entity_label(definition) -> str:
    entity = customfields.ENTITIES.get(definition.entity)
    return entity.label if entity else definition.entity


CUSTOM_FIELD_EXPORT = ListExport(
    stem="custom-fields",
    title="Custom fields",
    columns=(
        ("Register", _entity_label),
        ("Name", lambda definition: definition.key),
        ("Label", lambda definition: definition.label),
        ("Type", lambda definition: definition.get_field_type_display()),
        ("Required", lambda definition: customfields.required_label(definition) or "No"),
        ("Choices", lambda definition: "; ".join(definition.choices)),
        ("Visible to", lambda definition: "; ".join(definition.visible_to_roles) or "everyone"),
        ("Has default", lambda definition: yes_no(definition.default is not None)),
    ),
    queryset=_definitions,
    permitted=customfields.can_manage_custom_fields,
)


@login_required
@list_page(LIST_URL)
def custom_field_list(request):
    definitions = _definitions(request)
    rows = [(definition, _entity_label(definition)) for definition in definitions]
    context = {"rows": rows, **export_links(request, LIST_URL)}
    return render(request, "core/custom_field_list.html", context)


def _data(form) -> dict:
    return {
        name: value
        for name, value in form.cleaned_data.items()
        if name in customfields.DEFINITION_FIELDS
    }


@login_required
@require_http_methods(["GET", "POST"])
def custom_field_create(request):
    _check(request.user)
    form = CustomFieldDefinitionForm(request.POST or None)
    done = submit_through_service(
        request,
        form,
        lambda data: customfields.definition_create(actor=request.user, data=_data(form)),
        success=lambda definition: f"Custom field {definition.label} defined.",
        to=lambda definition: reverse(LIST_URL),
    )
    if done:
        return done
    return render(request, "core/custom_field_form.html", {"form": form, "definition": None})


@login_required
@require_http_methods(["GET", "POST"])
def custom_field_update(request, pk):
    _check(request.user)
    definition = get_object_or_404(CustomFieldDefinition, pk=pk)
    form = CustomFieldDefinitionForm(request.POST or None, instance=_copy(definition))
    done = submit_through_service(
        request,
        form,
        lambda data: customfields.definition_update(
            actor=request.user, definition=definition, data=_data(form)
        ),
        success=lambda saved: f"Custom field {saved.label} saved.",
        to=lambda saved: reverse(LIST_URL),
    )
    if done:
        return done
    context = {
        "form": form,
        "definition": definition,
        "values_count": customfields.values_count(definition),
        "rename_form": RenameChoiceForm(definition=definition)
        if definition.field_type in customfields.CHOICE_TYPES
        else None,
    }
    return render(request, "core/custom_field_form.html", context)


def _copy(definition):
    import copy

    return copy.copy(definition)


@login_required
@require_http_methods(["POST"])
def custom_field_rename_choice(request, pk):
    """First POST: the confirmation (how many records hold the choice); a POST with
    ``confirm`` renames the choice and migrates those records."""
    _check(request.user)
    definition = get_object_or_404(CustomFieldDefinition, pk=pk)
    form = RenameChoiceForm(request.POST, definition=definition)
    if not form.is_valid():
        messages.error(request, "Choose a choice and type its new value.")
        return redirect("core:custom_field_update", pk=pk)
    old, new = form.cleaned_data["old"], form.cleaned_data["new"]
    if not request.POST.get("confirm"):
        context = {
            "definition": definition,
            "old": old,
            "new": new,
            "holding": customfields.choice_count(definition, old),
        }
        return render(request, "core/custom_field_rename_confirm.html", context)
    try:
        _, moved = customfields.definition_rename_choice(
            actor=request.user, definition=definition, old=old, new=new
        )
    except ValidationError as error:
        apply_validation_error(form, error)
        messages.error(request, " ".join(error.messages))
        return redirect("core:custom_field_update", pk=pk)
    messages.success(request, f"{old!r} renamed to {new!r} in {moved} record(s).")
    return redirect("core:custom_field_update", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def custom_field_delete(request, pk):
    """GET: the confirmation (records keep their values, shown as a retired field); POST
    deletes the definition."""
    _check(request.user)
    definition = get_object_or_404(CustomFieldDefinition, pk=pk)
    if request.method == "POST":
        kept = customfields.definition_delete(actor=request.user, definition=definition)
        messages.success(
            request,
            f"Custom field {definition.label} deleted; {kept} record(s) keep their value.",
        )
        return redirect(LIST_URL)
    context = {"definition": definition, "values_count": customfields.values_count(definition)}
    return render(request, "core/custom_field_delete.html", context)
