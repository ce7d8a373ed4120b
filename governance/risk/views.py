"""Thin HTML views for risk assessments, controls and the risk register: resolve through
selectors, call one service, render the page or the htmx partial."""

from pathlib import PurePosixPath

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from core.exports import list_page, stored_file_response
from core.forms import apply_validation_error
from core.htmx import is_partial_request, render_list
from governance.reporting import views as export_views
from governance.risk import controls as risk_controls
from governance.risk import scoring, selectors, services
from governance.risk.choices import ControlKind, Gate
from governance.risk.filtersets import RiskRegisterFilterSet
from governance.risk.forms import (
    EvidenceForm,
    OverrideForm,
    QuestionnaireForm,
    ReviewForm,
    WaiverForm,
)
from governance.risk.permissions import (
    can_assess,
    can_override_tier,
    can_review_controls,
    can_submit_evidence,
    can_waive_controls,
)
from governance.risk.residual import initiative_scores
from portfolio.initiatives.selectors import initiative_get

# The questionnaire form marks itself so that completing saves the answers it holds (the
# only way they arrive without JavaScript); a bare "complete" keeps the saved answers.
ANSWERS_MARKER = "answers_included"


# --- Risk assessment -----------------------------------------------------------------------


def _assessment_url(initiative) -> str:
    return reverse("governance:assessment", args=[initiative.pk])


def _questions(draft) -> list:
    return list(selectors.questionnaire_with_questions(draft.questionnaire))


def stored_live_tier(draft, questions) -> scoring.TierResult:
    """The draft's tier as last saved, with the questions it still leaves open."""
    unanswered = tuple(
        question.key
        for question in questions
        if not scoring.is_answered(question, draft.answers.get(question.key))
    )
    return scoring.TierResult(
        tier=draft.computed_tier or scoring.MINIMAL,
        score=draft.score,
        rationale=tuple(draft.rationale),
        unanswered=unanswered,
    )


def live_context(questions, form, live: scoring.TierResult) -> dict:
    """The context of the questionnaire and its live tier (``governance/assessment.html#tier``),
    shared with the registration wizard's risk step."""
    return {
        "questionnaire_form": form,
        "live": live,
        "live_unanswered": [question for question in questions if question.key in live.unanswered],
    }


def _answers_as_data(answers: dict) -> QueryDict:
    """Stored answers as form data, to show a service's errors beside saved answers."""
    data = QueryDict(mutable=True)
    for key, value in answers.items():
        if isinstance(value, list):
            data.setlist(key, [str(item) for item in value])
        elif isinstance(value, float) and value.is_integer():
            data[key] = str(int(value))
        else:
            data[key] = str(value)
    return data


def _render_assessment(
    request,
    initiative,
    current,
    draft,
    *,
    questions=None,
    questionnaire_form=None,
    live=None,
    override_form=None,
):
    user = request.user
    may_assess = can_assess(user, initiative)
    may_override = current is not None and can_override_tier(user)
    context = {
        "initiative": initiative,
        "current": current,
        "risk_scores": initiative_scores(initiative, current),
        "draft": draft,
        "reassessment_reasons": selectors.reassessment_reasons(current, initiative),
        "history": selectors.assessment_history(initiative=initiative).exclude(is_current=True),
        "can_assess": may_assess,
        "can_override": may_override,
        "override_form": (override_form or OverrideForm(assessment=current))
        if may_override
        else None,
    }
    if draft is not None and may_assess:
        questions = questions if questions is not None else _questions(draft)
        form = questionnaire_form or QuestionnaireForm(questions=questions, answers=draft.answers)
        context.update(live_context(questions, form, live or stored_live_tier(draft, questions)))
    return render(request, "governance/risk/assessment.html", context)


def _refuse_unless_assessor(user, initiative) -> None:
    if not can_assess(user, initiative):
        raise PermissionDenied("You cannot assess this initiative.")


def _back_to_assessment(request, initiative):
    url = _assessment_url(initiative)
    return HttpResponseClientRedirect(url) if is_partial_request(request) else redirect(url)


@login_required
@require_GET
def assessment(request, pk):
    initiative, current, draft = selectors.assessment_for(user=request.user, initiative_pk=pk)
    return _render_assessment(request, initiative, current, draft)


@login_required
@require_POST
def assessment_start(request, pk):
    initiative = initiative_get(user=request.user, pk=pk)
    services.assessment_start(actor=request.user, initiative=initiative)
    return redirect(_assessment_url(initiative))


@login_required
@require_POST
def assessment_answer(request, pk):
    """Save the whole questionnaire form; an htmx request gets the live ``tier`` partial
    (with each question's errors swapped out of band), a plain one the page."""
    initiative, current, draft = selectors.assessment_for(user=request.user, initiative_pk=pk)
    _refuse_unless_assessor(request.user, initiative)
    if draft is None:
        messages.info(request, "The assessment was completed meanwhile; start a new one.")
        return _back_to_assessment(request, initiative)
    questions = _questions(draft)
    form = QuestionnaireForm(request.POST, questions=questions)
    live = None
    if form.is_valid():
        try:
            live = services.assessment_answer(
                actor=request.user, assessment=draft, answers=form.answers()
            )
        except ValidationError as error:
            apply_validation_error(form, error)
    live = live or stored_live_tier(draft, questions)
    if is_partial_request(request):
        context = {**live_context(questions, form, live), "oob_errors": True}
        return render(request, "governance/risk/assessment.html#tier", context)
    if form.errors:
        return _render_assessment(
            request,
            initiative,
            current,
            draft,
            questions=questions,
            questionnaire_form=form,
            live=live,
        )
    messages.success(request, "Answers saved.")
    return redirect(_assessment_url(initiative))


@login_required
@require_POST
def assessment_complete(request, pk):
    initiative, current, draft = selectors.assessment_for(user=request.user, initiative_pk=pk)
    _refuse_unless_assessor(request.user, initiative)
    if draft is None:
        messages.error(request, "There is no assessment in progress to complete.")
        return redirect(_assessment_url(initiative))
    questions = _questions(draft)
    posted = ANSWERS_MARKER in request.POST
    form = QuestionnaireForm(
        request.POST if posted else _answers_as_data(draft.answers), questions=questions
    )
    if not form.is_valid():
        return _render_assessment(
            request, initiative, current, draft, questions=questions, questionnaire_form=form
        )
    try:
        if posted:
            services.assessment_answer(actor=request.user, assessment=draft, answers=form.answers())
        completed = services.assessment_complete(actor=request.user, assessment=draft)
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            for message in error.messages:
                messages.error(request, message)
            return redirect(_assessment_url(initiative))
        # Unanswered or invalid questions: show each error beside its question.
        apply_validation_error(form, error)
        draft.refresh_from_db()
        return _render_assessment(
            request, initiative, current, draft, questions=questions, questionnaire_form=form
        )
    messages.success(
        request, f"Assessment completed: {scoring.TIER_LABELS[completed.computed_tier]}."
    )
    return redirect(_assessment_url(initiative))


@login_required
@require_POST
def assessment_override(request, pk):
    initiative, current, draft = selectors.assessment_for(user=request.user, initiative_pk=pk)
    if not can_override_tier(request.user):
        raise PermissionDenied("Only risk officers can override a risk tier.")
    if current is None:
        messages.error(request, "There is no completed assessment to override.")
        return redirect(_assessment_url(initiative))
    form = OverrideForm(request.POST, assessment=current)
    if form.is_valid():
        try:
            updated = services.assessment_override(
                actor=request.user,
                assessment=current,
                tier=form.cleaned_data["tier"],
                justification=form.cleaned_data["justification"],
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            if updated.override_tier:
                messages.success(request, f"Tier overridden to {updated.override_tier}.")
            else:
                messages.success(request, "Override removed.")
            return redirect(_assessment_url(initiative))
    return _render_assessment(request, initiative, current, draft, override_form=form)


@login_required
@require_GET
def risk_panel(request, pk):
    """The initiative page's risk summary, loaded into it by htmx."""
    row = get_object_or_404(selectors.risk_register(user=request.user), pk=pk)
    return render(request, "governance/risk/partials/_risk_panel.html", {"initiative": row})


# --- Controls ------------------------------------------------------------------------------


def _evidence_form(code, *args):
    return EvidenceForm(*args, auto_id=f"id_evidence_{code}_%s")


def _waiver_form(code, *args):
    return WaiverForm(*args, auto_id=f"id_waiver_{code}_%s")


def _controls_url(initiative) -> str:
    return reverse("governance:controls", args=[initiative.pk])


def _may_review(user, initiative) -> bool:
    # Mirrors control_review's refusal so the buttons are not offered to owners and leads.
    return can_review_controls(user) and user.pk not in (
        initiative.accountable_owner_id,
        initiative.technical_lead_id,
    )


def _render_controls(request, initiative, *, code=None, evidence_form=None, waiver_form=None):
    user = request.user
    gate = risk_controls.NEXT_GATE.get(initiative.stage)
    # First, because gate_blockers re-evaluates automated controls: the table then shows
    # their current state.
    blockers = risk_controls.gate_blockers(initiative, gate) if gate else []
    tier = selectors.current_tier(initiative)
    rows = selectors.controls_checklist(initiative=initiative, tier=tier)
    may_evidence = can_submit_evidence(user, initiative)
    may_review = _may_review(user, initiative)
    may_waive = can_waive_controls(user)
    for row in rows:
        control, result = row["control"], row["result"]
        is_manual = control.kind == ControlKind.MANUAL
        row["gate_labels"] = [Gate(value).label for value in row["gates"]]
        row["evidence_name"] = (
            PurePosixPath(result.evidence_file.name).name
            if result is not None and result.evidence_file
            else ""
        )
        row["open"] = control.code == code
        if may_evidence and is_manual:
            row["evidence_form"] = (
                evidence_form if row["open"] and evidence_form else _evidence_form(control.code)
            )
        row["can_review"] = may_review and is_manual and result is not None
        if may_waive:
            row["waiver_form"] = (
                waiver_form if row["open"] and waiver_form else _waiver_form(control.code)
            )
    context = {
        "initiative": initiative,
        "tier": tier,
        "rows": rows,
        "gate": Gate(gate).label if gate else None,
        "blockers": blockers,
        "can_evaluate": may_evidence or can_review_controls(user),
    }
    return render(request, "governance/risk/controls.html", context)


@login_required
@require_GET
def controls(request, pk):
    initiative = initiative_get(user=request.user, pk=pk)
    return _render_controls(request, initiative)


@login_required
@require_POST
def controls_evaluate(request, pk):
    initiative = initiative_get(user=request.user, pk=pk)
    if not (can_submit_evidence(request.user, initiative) or can_review_controls(request.user)):
        raise PermissionDenied("You cannot re-evaluate this initiative's controls.")
    services.controls_evaluate(initiative=initiative)
    messages.success(request, "Automated controls re-evaluated.")
    return redirect(_controls_url(initiative))


def _active_control(code):
    return get_object_or_404(selectors.control_list(), code=code, is_active=True)


@login_required
@require_POST
def control_evidence(request, pk, code):
    initiative = initiative_get(user=request.user, pk=pk)
    control = _active_control(code)
    if not can_submit_evidence(request.user, initiative):
        raise PermissionDenied("You cannot add evidence to this initiative.")
    form = _evidence_form(code, request.POST, request.FILES)
    if form.is_valid():
        try:
            risk_controls.control_evidence_submit(
                actor=request.user,
                initiative=initiative,
                control=control,
                evidence_file=form.cleaned_data["evidence_file"],
                evidence_link=form.cleaned_data["evidence_link"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, f"Evidence added to {control.code}; it awaits review.")
            return redirect(_controls_url(initiative))
    return _render_controls(request, initiative, code=code, evidence_form=form)


@login_required
@require_GET
def control_evidence_file(request, pk, code):
    """Stream an evidence file to a user who may see the initiative (404 otherwise)."""
    result = selectors.control_result_get(user=request.user, initiative_pk=pk, control_code=code)
    if not result.evidence_file:
        raise Http404("This control has no evidence file.")
    name = PurePosixPath(result.evidence_file.name).name
    return stored_file_response(
        result.evidence_file,
        filename=name,
        content_type=risk_controls.evidence_content_type(name),
        missing="The evidence file is missing.",
    )


@login_required
@require_POST
def control_review(request, pk, code):
    result = selectors.control_result_get(user=request.user, initiative_pk=pk, control_code=code)
    if not can_review_controls(request.user):
        raise PermissionDenied("Only CoE reviewers and risk officers review controls.")
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"{code}: choose passing or failing.")
    else:
        try:
            risk_controls.control_review(
                actor=request.user,
                result=result,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, f"{code}: {message}")
        else:
            messages.success(request, f"{code} marked {form.cleaned_data['status']}.")
    return redirect(_controls_url(result.initiative))


@login_required
@require_POST
def control_waive(request, pk, code):
    initiative = initiative_get(user=request.user, pk=pk)
    control = _active_control(code)
    if not can_waive_controls(request.user):
        raise PermissionDenied("Only risk officers and CoE admins can waive controls.")
    form = _waiver_form(code, request.POST)
    if form.is_valid():
        try:
            risk_controls.control_waive(
                actor=request.user,
                initiative=initiative,
                control=control,
                expires_on=form.cleaned_data["expires_on"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, f"{control.code} waived.")
            return redirect(_controls_url(initiative))
    return _render_controls(request, initiative, code=code, waiver_form=form)


# --- Risk register -------------------------------------------------------------------------


def _register_rows(request):
    return export_views.risk_register_rows(request.user)


@login_required
@require_GET
@list_page("governance:risk_register")
def risk_register(request):
    return render_list(
        request,
        template="governance/risk/risk_register.html",
        queryset=_register_rows(request),
        filterset_class=RiskRegisterFilterSet,
        extra_context={
            "compliance_by_unit": selectors.compliance_by_business_unit(user=request.user)
        },
    )


# The exports (CSV and XLSX) live in export_views; the CSV keeps its name for urls.py.
risk_register_csv = export_views.risk_register_csv
