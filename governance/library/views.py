"""Thin views of the governance library (CoE admins): resolve, call one service, render.
Every page answers 403 to anyone who may not manage the library (the same predicate as the
services and the menu)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exports import ListExport, dated_filename, export_links, list_page, yes_no
from core.forms import apply_validation_error
from core.htmx import query_without_page, render_list, render_partial_aware
from governance.approvals import content
from governance.approvals.forms import CommentForm
from governance.risk import library, library_io
from governance.risk.filtersets import ControlLibraryFilterSet
from governance.risk.forms import (
    ControlForm,
    LibraryImportForm,
    QuestionnaireDraftForm,
    RetireForm,
)
from governance.risk.models import Control, Questionnaire
from governance.risk.permissions import can_manage_library
from governance.risk.services import questionnaire_edit_problem


def _refuse_unless_admin(user) -> None:
    if not can_manage_library(user):
        raise PermissionDenied("Only CoE admins manage the governance library.")


def _page(request, rows):
    """The requested page of a library list (its export has every row)."""
    return Paginator(rows, settings.KEEL_PAGE_SIZE).get_page(request.GET.get("page"))


def _requirements_text(control) -> str:
    return "; ".join(
        f"{requirement.get_gate_display()} ≥ Tier {requirement.minimum_tier}"
        for requirement in control.requirements.all()
    )


# --- Controls ------------------------------------------------------------------------------

CONTROL_EXPORT = ListExport(
    stem="control-library",
    title="Control library",
    columns=(
        ("Code", lambda c: c.code),
        ("Title", lambda c: c.title),
        ("Kind", lambda c: c.get_kind_display()),
        ("Applies", lambda c: c.get_applies_when_display()),
        ("Required at", _requirements_text),
        ("EU AI Act", lambda c: c.eu_ai_act_article),
        ("NIST AI RMF", lambda c: c.get_nist_function_display()),
        ("ISO/IEC 42001", lambda c: c.iso_42001_clause),
        ("Mitigation weight", lambda c: c.mitigation_weight),
        ("Retired", lambda c: yes_no(not c.is_active)),
        ("Results", lambda c: c.result_count),
    ),
    queryset=lambda request: library.control_library_list(user=request.user),
    filterset_class=ControlLibraryFilterSet,
    permitted=can_manage_library,
)


@login_required
@require_GET
@list_page("governance:control_library")
def control_library(request):
    """The control library: active controls first, then retired ones."""
    _refuse_unless_admin(request.user)
    return render_list(
        request,
        template="governance/library/control_library.html",
        queryset=library.control_library_list(user=request.user),
        filterset_class=ControlLibraryFilterSet,
        export="governance:control_library",
    )


def _control_form_page(request, form, control=None, retire_form=None, status=200):
    return render(
        request,
        "governance/library/control_form.html",
        {"form": form, "control": control, "retire_form": retire_form or RetireForm()},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def control_create(request):
    _refuse_unless_admin(request.user)
    form = ControlForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            control = library.control_create(
                actor=request.user, data=form.data_for_service(), requirements=form.requirements()
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Added {control.code} to the control library.")
            return redirect("governance:control_library")
    return _control_form_page(request, form)


def _control(code) -> Control:
    return get_object_or_404(Control.objects.prefetch_related("requirements"), code=code)


@login_required
@require_http_methods(["GET", "POST"])
def control_edit(request, code):
    _refuse_unless_admin(request.user)
    control = _control(code)
    form = ControlForm(request.POST or None, initial=ControlForm.initial_for(control), editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            library.control_update(
                actor=request.user,
                control=control,
                data=form.data_for_service(),
                requirements=form.requirements(),
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Saved {control.code}.")
            return redirect("governance:control_library")
    return _control_form_page(request, form, control)


@login_required
@require_POST
def control_retire(request, code):
    _refuse_unless_admin(request.user)
    control = _control(code)
    form = RetireForm(request.POST)
    if form.is_valid():
        try:
            library.control_retire(
                actor=request.user, control=control, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(
                request,
                f"Retired {control.code}: no longer required; its past results are kept.",
            )
            return redirect("governance:control_library")
    edit_form = ControlForm(initial=ControlForm.initial_for(control), editing=True)
    return _control_form_page(request, edit_form, control, retire_form=form, status=400)


@login_required
@require_POST
def control_reinstate(request, code):
    _refuse_unless_admin(request.user)
    control = _control(code)
    try:
        library.control_reinstate(actor=request.user, control=control)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Reinstated {control.code}.")
    return redirect("governance:control_library")


# --- Questionnaire versions ------------------------------------------------------------------


def _status_of(questionnaire) -> str:
    if questionnaire.is_active:
        return "Current"
    return "Superseded" if questionnaire.is_published else "Draft"


QUESTIONNAIRE_EXPORT = ListExport(
    stem="questionnaire-versions",
    title="Questionnaire versions",
    columns=(
        ("Version", lambda q: q.version),
        ("Title", lambda q: q.title),
        ("Status", _status_of),
        ("Published at", lambda q: q.published_at),
        ("Questions", lambda q: q.question_count),
        ("Assessments", lambda q: q.assessment_count),
    ),
    queryset=lambda request: library.questionnaire_versions(user=request.user),
    permitted=can_manage_library,
)


@login_required
@require_GET
@list_page("governance:questionnaire_list")
def questionnaire_list(request):
    _refuse_unless_admin(request.user)
    page = _page(request, library.questionnaire_versions(user=request.user))
    return render_partial_aware(
        request,
        "governance/library/questionnaire_list.html",
        {
            "page_obj": page,
            "versions": page.object_list,
            "has_draft": library.questionnaire_draft_exists(),
            "querystring": query_without_page(request),
            **export_links(request, "governance:questionnaire_list"),
        },
    )


@login_required
@require_POST
def questionnaire_draft_start(request):
    _refuse_unless_admin(request.user)
    try:
        draft = library.questionnaire_draft(actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("governance:questionnaire_list")
    messages.success(request, f"Draft v{draft.version} is a copy of the current version.")
    return redirect("governance:questionnaire_detail", draft.pk)


def _questions(questionnaire):
    return list(questionnaire.questions.prefetch_related("choices"))


@login_required
@require_http_methods(["GET", "POST"])
def questionnaire_detail(request, pk):
    """A version: read-only once published; a draft is edited here, previewed (which
    current assessments would change tier) and submitted for publication."""
    _refuse_unless_admin(request.user)
    questionnaire = get_object_or_404(Questionnaire, pk=pk)
    questions = _questions(questionnaire)
    problem = questionnaire_edit_problem(questionnaire)
    form = QuestionnaireDraftForm(
        request.POST if request.method == "POST" else None,
        questionnaire=questionnaire,
        questions=questions,
    )
    status = 200
    if request.method == "POST":
        if problem:
            raise PermissionDenied(problem)
        if form.is_valid():
            question_edits, choice_edits = form.edits()
            try:
                library.questionnaire_draft_update(
                    actor=request.user,
                    questionnaire=questionnaire,
                    title=form.cleaned_data["title"],
                    questions=question_edits,
                    choices=choice_edits,
                )
            except ValidationError as error:
                apply_validation_error(form, error)
            else:
                messages.success(request, f"Saved draft v{questionnaire.version}.")
                return redirect("governance:questionnaire_detail", questionnaire.pk)
        status = 400
    open_request = content.open_publication_request(questionnaire)
    return render(
        request,
        "governance/library/questionnaire_detail.html",
        {
            "questionnaire": questionnaire,
            "form": form,
            "editable": not problem,
            "edit_problem": problem,
            "changes": []
            if questionnaire.is_published
            else library.tier_changes(user=request.user, questionnaire=questionnaire),
            "open_request": open_request,
            "requests": content.publication_requests(questionnaire).select_related("submitted_by"),
            "submit_form": CommentForm(),
        },
        status=status,
    )


@login_required
@require_POST
def questionnaire_submit(request, pk):
    _refuse_unless_admin(request.user)
    questionnaire = get_object_or_404(Questionnaire, pk=pk)
    form = CommentForm(request.POST)
    comment = form.cleaned_data.get("comment", "") if form.is_valid() else ""
    try:
        approval = content.questionnaire_publication_submit(
            actor=request.user, questionnaire=questionnaire, comment=comment
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("governance:questionnaire_detail", questionnaire.pk)
    messages.success(request, f"Submitted v{questionnaire.version} for publication.")
    return redirect(approval)


@login_required
@require_POST
def questionnaire_discard(request, pk):
    _refuse_unless_admin(request.user)
    questionnaire = get_object_or_404(Questionnaire, pk=pk)
    try:
        library.questionnaire_discard(actor=request.user, questionnaire=questionnaire)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("governance:questionnaire_detail", questionnaire.pk)
    messages.success(request, f"Discarded draft v{questionnaire.version}.")
    return redirect("governance:questionnaire_list")


# --- YAML ------------------------------------------------------------------------------------


@login_required
@require_GET
def library_export(request):
    """The control library and the current questionnaire as YAML."""
    _refuse_unless_admin(request.user)
    response = HttpResponse(library_io.library_yaml(), content_type="application/yaml")
    filename = dated_filename("governance-library", "yaml")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def library_import(request):
    """Upload → dry-run plan (the file's text kept in the form) → apply."""
    _refuse_unless_admin(request.user)
    form = LibraryImportForm(request.POST or None, request.FILES or None)
    plan, text, status = None, "", 200
    if request.method == "POST" and form.is_valid():
        text = form.yaml_text()
        apply = request.POST.get("action") == "apply"
        if not text and not form.errors:
            form.add_error("file", "Choose a YAML file exported from Keel.")
        if text:
            try:
                plan = library_io.library_import(actor=request.user, text=text, dry_run=not apply)
            except ValidationError as error:
                form.row_errors = sorted(error.message_dict.items())
                status = 400
            else:
                if apply:
                    draft = (
                        f"; draft v{plan.draft.version} awaits publication" if plan.draft else ""
                    )
                    messages.success(
                        request, f"Imported the library: {plan.changes} change(s){draft}."
                    )
                    if plan.draft:
                        return redirect("governance:questionnaire_detail", plan.draft.pk)
                    return redirect("governance:control_library")
    if form.errors:
        status = 400
    return render(
        request,
        "governance/library/library_import.html",
        {"form": form, "plan": plan, "text": text, "now": timezone.now()},
        status=status,
    )
