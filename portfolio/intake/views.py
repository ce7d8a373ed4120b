"""The registration wizard: one page whose ``#wizard-step`` partial htmx swaps step by step
(basics → purpose, outputs & data → risk questionnaire → owners & links → review).

Every step saves the draft (``portfolio.initiatives.services.initiative_wizard_save``; the risk step
through the governance assessment services) and records progress, so a draft can be left
and resumed at its first incomplete step. Without JavaScript each step is a plain POST
redirected to the next step's URL (``?step=N``); with htmx the next step's partial comes
back directly and its URL is pushed into the history.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from core.forms import apply_validation_error
from core.htmx import is_partial_request
from governance.approvals import services as approval_services
from governance.approvals.choices import OPEN_REQUEST_STATUSES
from governance.risk import controls
from governance.risk import selectors as risk_selectors
from governance.risk import services as risk_services
from governance.risk.choices import Gate
from governance.risk.forms import QuestionnaireForm
from governance.risk.views import live_context, stored_live_tier
from portfolio.initiatives import selectors, services
from portfolio.initiatives.choices import AutonomyLevel, Stage
from portfolio.initiatives.permissions import can_edit_initiative
from portfolio.intake.forms import BasicsForm, OwnersForm, PurposeForm, SubmitForm
from portfolio.intake.selectors import wizard_drafts

TEMPLATE = "portfolio/intake/wizard.html"
PARTIAL = "step"
# The wizard is for registering: once an initiative is past proposed, its page takes over.
WIZARD_STAGES = frozenset({Stage.DRAFT, Stage.PROPOSED})
ACTIONS = frozenset({"next", "back", "later", "start", "submit"})


@dataclass(frozen=True)
class Step:
    number: int
    key: str
    title: str

    @property
    def template(self) -> str:
        return f"portfolio/intake/partials/_wizard_{self.key}.html"


BASICS, PURPOSE, RISK, OWNERS, REVIEW = (
    Step(1, "basics", "Basics"),
    Step(2, "purpose", "Purpose, outputs & data"),
    Step(3, "risk", "Risk questionnaire"),
    Step(4, "owners", "Owners & links"),
    Step(5, "review", "Review & submit"),
)
STEPS = (BASICS, PURPOSE, RISK, OWNERS, REVIEW)
assert len(STEPS) == services.WIZARD_LAST_STEP
FIELD_FORMS = {BASICS.number: BasicsForm, PURPOSE.number: PurposeForm, OWNERS.number: OwnersForm}
# Each fact is asked once: the questionnaire's data question takes step 2's answer (sent
# along hidden), and its autonomy answer becomes the initiative's autonomy level.
DATA_QUESTION = "data_sensitivity"
AUTONOMY_QUESTION = "decision_autonomy"


def first_incomplete_step(initiative) -> int:
    return min(initiative.wizard_step + 1, services.WIZARD_LAST_STEP)


def step_url(initiative, number: int) -> str:
    return f"{reverse('portfolio:wizard_resume', args=[initiative.pk])}?step={number}"


def _action(request) -> str:
    action = request.POST.get("action", "next")
    return action if action in ACTIONS else "next"


def _field_form(number: int, request, initiative, data=None):
    extra = {"user": request.user} if number == BASICS.number else {}
    return FIELD_FORMS[number](data, instance=initiative, **extra)


# --- Rendering -----------------------------------------------------------------------------


def _progress(initiative, current: int) -> list[dict]:
    reachable = first_incomplete_step(initiative) if initiative else BASICS.number
    done = initiative.wizard_step if initiative else 0
    return [
        {
            "step": step,
            "current": step.number == current,
            "done": step.number <= done,
            "url": step_url(initiative, step.number)
            if initiative and step.number <= reachable
            else "",
        }
        for step in STEPS
    ]


def _risk_context(request, initiative, questionnaire_form=None) -> dict:
    _, current, draft = risk_selectors.assessment_for(
        user=request.user, initiative_pk=initiative.pk
    )
    context = {"current": current, "draft": draft}
    if draft is not None:
        questions = list(risk_selectors.questionnaire_with_questions(draft.questionnaire))
        form = questionnaire_form or QuestionnaireForm(
            questions=questions, answers=draft.answers, given=given_answers(initiative, questions)
        )
        context["given"] = [
            (question, initiative.get_data_sensitivity_display())
            for question in questions
            if question.key in form.given
        ]
        context.update(live_context(questions, form, stored_live_tier(draft, questions)))
    elif current is not None:
        context["reassessment_reasons"] = risk_selectors.reassessment_reasons(current, initiative)
    return context


def _review_context(request, initiative) -> dict:
    _, current, _draft = risk_selectors.assessment_for(
        user=request.user, initiative_pk=initiative.pk
    )
    tier = current.effective_tier if current else None
    policy = approval_services.active_policy(tier=tier, gate=Gate.PILOT) if tier else None
    open_request = (
        initiative.approval_requests.filter(
            gate=Gate.PILOT, subject_type="", status__in=OPEN_REQUEST_STATUSES
        )
        .order_by("-submitted_at")
        .first()
    )
    return {
        "current": current,
        "tier": tier,
        "policy": policy,
        "policy_steps": list(policy.steps.all()) if policy else [],
        "blockers": controls.gate_blockers(initiative, Gate.PILOT) if tier else [],
        "open_request": open_request,
        "submit_form": SubmitForm(),
    }


def _render(request, initiative, number: int, **extra):
    step = STEPS[number - 1]
    context = {
        "initiative": initiative,
        "step": step,
        "steps": STEPS,
        "progress": _progress(initiative, number),
        "step_url": step_url(initiative, number)
        if initiative
        else reverse("portfolio:wizard_start"),
    }
    if number in FIELD_FORMS and "form" not in extra:
        extra["form"] = _field_form(number, request, initiative)
    if number == RISK.number:
        extra = {
            **_risk_context(request, initiative, extra.pop("questionnaire_form", None)),
            **extra,
        }
    if number == REVIEW.number:
        extra = {**_review_context(request, initiative), **extra}
    if initiative is None:
        context["drafts"] = wizard_drafts(user=request.user)[:20]
    context.update(extra)
    partial = is_partial_request(request)
    response = render(request, f"{TEMPLATE}#{PARTIAL}" if partial else TEMPLATE, context)
    if partial and initiative is not None:
        response["HX-Push-Url"] = context["step_url"]
    patch_vary_headers(response, ["HX-Request"])
    return response


def _go(request, initiative, number: int):
    """Show step ``number``: the partial for htmx, a redirect to its URL otherwise."""
    if is_partial_request(request):
        initiative.refresh_from_db()
        return _render(request, initiative, number)
    return redirect(step_url(initiative, number))


def _leave(request, url: str):
    if is_partial_request(request):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _after_save(request, initiative, number: int):
    action = _action(request)
    if action == "later" and initiative.stage == Stage.DRAFT:
        messages.success(
            request, f"Draft {initiative.reference} saved. Resume it from “Your drafts”."
        )
        return _leave(request, reverse("portfolio:wizard_start"))
    if action == "later":
        messages.success(request, f"{initiative.reference} saved.")
        return _leave(request, initiative.get_absolute_url())
    if action == "back":
        return _go(request, initiative, max(number - 1, BASICS.number))
    return _go(request, initiative, min(number + 1, REVIEW.number))


# --- Views ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def wizard_start(request):
    """Step 1 of a new registration, with the user's drafts to resume."""
    form = BasicsForm(request.POST if request.method == "POST" else None, user=request.user)
    if not form.fields["business_unit"].queryset.exists():
        raise PermissionDenied("You have no business unit to register initiatives for.")
    if request.method == "POST" and form.is_valid():
        try:
            initiative = services.initiative_wizard_save(
                actor=request.user,
                initiative=None,
                step=BASICS.number,
                # The registrant owns it until step 4 names the accountable owner.
                data={**form.cleaned_data, "accountable_owner": request.user},
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return _after_save(request, initiative, BASICS.number)
    return _render(request, None, BASICS.number, form=form)


@login_required
@require_http_methods(["GET", "POST"])
def wizard_resume(request, pk):
    """A draft's wizard, at ``?step=N`` (never beyond the first incomplete step) or, without
    it, at the first incomplete step."""
    initiative = selectors.initiative_get(user=request.user, pk=pk)
    if not can_edit_initiative(request.user, initiative):
        raise PermissionDenied("You cannot edit this initiative.")
    if initiative.stage not in WIZARD_STAGES:
        messages.info(
            request,
            f"{initiative.reference} is {initiative.get_stage_display().lower()}: "
            "its registration is complete.",
        )
        return _leave(request, initiative.get_absolute_url())
    number = _requested_step(request, initiative)
    if request.method == "POST":
        if number in FIELD_FORMS:
            return _post_fields(request, initiative, number)
        if number == RISK.number:
            return _post_risk(request, initiative)
        return _post_review(request, initiative)
    return _render(request, initiative, number)


def _requested_step(request, initiative) -> int:
    furthest = first_incomplete_step(initiative)
    try:
        number = int(request.GET.get("step", furthest))
    except (TypeError, ValueError):
        number = furthest
    return number if 1 <= number <= furthest else furthest


def _post_fields(request, initiative, number: int):
    form = _field_form(number, request, initiative, request.POST)
    if form.is_valid():
        try:
            saved = services.initiative_wizard_save(
                actor=request.user, initiative=initiative, step=number, data=form.cleaned_data
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            if number == PURPOSE.number and _action(request) == "next":
                _prepare_questionnaire(request.user, saved)
            return _after_save(request, saved, number)
    return _render(request, initiative, number, form=form)


def given_answers(initiative, questions) -> dict:
    """The questionnaire's answers the wizard knows from earlier steps: the data sensitivity
    of step 2, when the questionnaire asks it with that choice."""
    for question in questions:
        if question.key == DATA_QUESTION and any(
            choice.key == initiative.data_sensitivity for choice in question.choices.all()
        ):
            return {DATA_QUESTION: initiative.data_sensitivity}
    return {}


def _start_questionnaire(user, initiative) -> None:
    """Open (or keep) the draft assessment, with the answers known from earlier steps."""
    draft = risk_services.assessment_start(actor=user, initiative=initiative)
    questions = list(risk_selectors.questionnaire_with_questions(draft.questionnaire))
    given = given_answers(initiative, questions)
    if any(draft.answers.get(key) != value for key, value in given.items()):
        risk_services.assessment_answer(actor=user, assessment=draft, answers=given)


def _carry_autonomy(user, initiative, answers: dict):
    """The questionnaire's autonomy answer is the initiative's autonomy level."""
    autonomy = answers.get(AUTONOMY_QUESTION)
    if autonomy in AutonomyLevel.values and autonomy != initiative.autonomy_level:
        return services.initiative_update(
            actor=user, initiative=initiative, data={"autonomy_level": autonomy}
        )
    return initiative


def _prepare_questionnaire(user, initiative) -> None:
    """Entering the risk step: open a draft assessment unless one is open or the current
    one still holds (a reassessment starts from its answers)."""
    _, current, draft = risk_selectors.assessment_for(user=user, initiative_pk=initiative.pk)
    if draft is not None or (
        current is None or risk_selectors.reassessment_reasons(current, initiative)
    ):
        _start_questionnaire(user, initiative)


def _post_risk(request, initiative):
    """Save the answers; "next" also completes the assessment (every question answered)."""
    action = _action(request)
    _, current, draft = risk_selectors.assessment_for(
        user=request.user, initiative_pk=initiative.pk
    )
    if draft is None:
        return _post_risk_without_draft(request, initiative, current, action)
    if action == "start":
        return _go(request, initiative, RISK.number)
    questions = list(risk_selectors.questionnaire_with_questions(draft.questionnaire))
    form = QuestionnaireForm(
        request.POST, questions=questions, given=given_answers(initiative, questions)
    )
    if form.is_valid():
        try:
            with transaction.atomic():
                risk_services.assessment_answer(
                    actor=request.user, assessment=draft, answers=form.answers()
                )
                initiative = _carry_autonomy(request.user, initiative, form.answers())
            if action == "next":
                with transaction.atomic():
                    risk_services.assessment_complete(actor=request.user, assessment=draft)
                    services.initiative_wizard_advance(
                        actor=request.user, initiative=initiative, step=RISK.number
                    )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return _after_save(request, initiative, RISK.number)
    return _render(request, initiative, RISK.number, questionnaire_form=form)


def _post_risk_without_draft(request, initiative, current, action: str):
    """No questionnaire open: start one (when asked, or when going on needs one), or go on
    with the current assessment."""
    needs_assessment = current is None or bool(
        risk_selectors.reassessment_reasons(current, initiative)
    )
    if action == "start" or (action == "next" and needs_assessment):
        _start_questionnaire(request.user, initiative)
        return _go(request, initiative, RISK.number)
    if action == "next":
        services.initiative_wizard_advance(
            actor=request.user, initiative=initiative, step=RISK.number
        )
    return _after_save(request, initiative, RISK.number)


def _post_review(request, initiative):
    action = _action(request)
    if action == "back":
        return _go(request, initiative, OWNERS.number)
    if action != "submit":
        return _after_save(request, initiative, REVIEW.number)
    form = SubmitForm(request.POST)
    errors = []
    if form.is_valid():
        try:
            approval = _submit_for_pilot(request.user, initiative, form.cleaned_data["comment"])
        except ValidationError as error:
            errors = error.messages
        else:
            if approval.fast_tracked:
                messages.success(request, "Fast-tracked: the Pilot gate is approved.")
            else:
                messages.success(request, "Submitted for the Pilot gate.")
            return _leave(request, approval.get_absolute_url())
    return _render(request, initiative, REVIEW.number, submit_form=form, submit_errors=errors)


def _submit_for_pilot(actor, initiative, comment: str):
    """Propose a draft (no gate needed) and submit it for the pilot gate, all or nothing:
    a refused submission leaves the draft as it was."""
    with transaction.atomic():
        if initiative.stage == Stage.DRAFT:
            initiative = services.initiative_change_stage(
                actor=actor,
                initiative=initiative,
                to_stage=Stage.PROPOSED,
                reason="Registered through the wizard and submitted for the pilot gate.",
            )
        approval = approval_services.request_submit(
            actor=actor, initiative=initiative, gate=Gate.PILOT, comment=comment
        )
        services.initiative_wizard_advance(actor=actor, initiative=initiative, step=REVIEW.number)
    return approval
