"""Approval pages: the reviewers' queue, the request dossier and its decisions, submitting an
initiative for its next gate, approval policies and delegations. Thin: resolve through
selectors, call one ``approval_services`` function, render the page or the htmx partial."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.discussions.views import discussion_context
from core.exports import ListExport, export_links, list_page, person_name, yes_no
from core.forms import apply_validation_error
from core.htmx import is_partial_request, render_list
from core.models import AuditEvent
from core.permissions import has_any_role
from core.selectors import history_context
from governance.approvals import delegation as delegation_services
from governance.approvals import escalation, policies
from governance.approvals import selectors as approval_selectors
from governance.approvals import services as approval_services
from governance.approvals.choices import Outcome, RequestStatus
from governance.approvals.filtersets import ALL_SCOPE, ApprovalQueueFilterSet
from governance.approvals.forms import (
    CommentForm,
    DecisionForm,
    DelegationForm,
    DelegationRuleForm,
    PolicyStepFormSet,
    ReasonForm,
    SubmitForm,
    policy_step_initial,
)
from governance.approvals.models import ApprovalPolicy, Delegation
from governance.risk import controls as risk_controls
from governance.risk import library, selectors
from governance.risk.choices import Gate
from governance.risk.models import Questionnaire, RiskAssessment
from portfolio.initiatives.permissions import can_edit_initiative
from portfolio.initiatives.selectors import initiative_get

AlreadyDecided = approval_services.AlreadyDecided

DECISION_PARTIAL = "governance/approvals/request_detail.html#decision"
AUDIT_HISTORY_LENGTH = 20


# --- Queue ---------------------------------------------------------------------------------

SCOPES = (
    ("mine", "Awaiting me"),
    ("role", "Awaiting my roles"),
    (ALL_SCOPE, "All requests"),
)


@login_required
@require_GET
@list_page("governance:queue")
def queue(request):
    """Pending requests for the reviewer, most urgent first; ``?scope=`` picks the tab."""
    scope = request.GET.get("scope")
    if scope not in dict(SCOPES):
        scope = SCOPES[0][0]
    rows = approval_selectors.request_queue(user=request.user, scope=scope)
    return render_list(
        request,
        template="governance/approvals/queue.html",
        queryset=rows,
        filterset_class=ApprovalQueueFilterSet,
        extra_context={"scope": scope, "scopes": SCOPES, "now": timezone.now()},
    )


# --- The request dossier -------------------------------------------------------------------


def _request_url(approval) -> str:
    return reverse("governance:request_detail", args=[approval.pk])


def _step_rows(approval, decisions) -> list[dict]:
    """Each step of the request's policy snapshot with its status in the current round."""
    current = [d for d in decisions if d.round == approval.round]
    rows = []
    for index, step in enumerate(approval.steps):
        approvals = sum(
            1 for d in current if d.step_index == index and d.outcome == Outcome.APPROVE
        )
        if approval.status == RequestStatus.APPROVED:
            status, css = (
                ("Fast-tracked", "done") if approval.fast_tracked else ("Approved", "done")
            )
        elif index < approval.current_step:
            status, css = "Approved", "done"
        elif index > approval.current_step:
            status, css = "Not reached", "waiting"
        elif approval.status == RequestStatus.PENDING:
            status, css = "Awaiting decision", "current"
        else:
            status, css = approval.get_status_display(), approval.status
        rows.append(
            {
                "number": index + 1,
                "step": step,
                "approvals": approvals,
                "status": status,
                "css": css,
                "is_current": index == approval.current_step
                and approval.status == RequestStatus.PENDING,
            }
        )
    return rows


def _may_escalate(user, approval, decisions) -> bool:
    """Mirrors ``request_escalate_disagreement``'s checks, to offer the form only to a
    reviewer who approved the step that another approver rejected or sent back."""
    if approval.status not in (RequestStatus.REJECTED, RequestStatus.CHANGES_REQUESTED):
        return False
    step = approval.step
    if step is None or approval.escalation_level >= escalation.max_escalation_level(step):
        return False
    on_step = [
        d for d in decisions if d.round == approval.round and d.step_index == approval.current_step
    ]
    approvers = {d.approver_id for d in on_step if d.outcome == Outcome.APPROVE}
    return user.pk in approvers and any(d.outcome != Outcome.APPROVE for d in on_step)


def _decision_context(request, approval, *, timeline=None, **extra) -> dict:
    """What the ``#decision`` partial shows: status, the actions this user may take."""
    user = request.user
    initiative = approval.initiative
    if timeline is None:
        timeline = approval_selectors.request_timeline(request=approval)
    decisions = [item for kind, _, item in timeline if kind == "decision"]
    on_behalf_of, problem, may_decide = None, "", False
    if approval.status == RequestStatus.PENDING:
        on_behalf_of, problem = approval_services.decision_capacity(approval, user)
        may_decide = approval_services.can_decide(user, approval)
    may_edit = approval_services.may_edit_subject(user, approval)
    context = {
        "approval": approval,
        "initiative": initiative,
        "now": timezone.now(),
        "may_decide": may_decide,
        "on_behalf_of": on_behalf_of if may_decide else None,
        "decision_problem": problem,
        "decision_form": DecisionForm(),
        "may_withdraw": approval.is_open and (user.pk == approval.submitted_by_id or may_edit),
        "may_resubmit": approval.status == RequestStatus.CHANGES_REQUESTED and may_edit,
        "may_escalate": _may_escalate(user, approval, decisions),
        "reason_form": ReasonForm(auto_id="id_escalate_%s"),
        "resubmit_form": CommentForm(auto_id="id_resubmit_%s"),
    }
    context.update(extra)
    return context


def _content_context(request, approval, **extra) -> dict:
    """The page of a governance-content request: the decision, the draft it publishes and
    the current assessments whose tier the draft would change (re-scored, nothing written)."""
    timeline = approval_selectors.request_timeline(request=approval)
    decisions = [item for kind, _, item in timeline if kind == "decision"]
    questionnaire = Questionnaire.objects.filter(pk=approval.subject_id).first()
    changes = (
        library.tier_changes(user=request.user, questionnaire=questionnaire)
        if questionnaire is not None and not questionnaire.is_published
        else []
    )
    return {
        **_decision_context(request, approval, timeline=timeline, **extra),
        "questionnaire": questionnaire,
        "changes": changes,
        "steps": _step_rows(approval, decisions),
        "timeline": timeline,
        **history_context(user=request.user, target=approval),
    }


def _page(request, approval, **extra):
    if approval.is_content:
        return "governance/approvals/content_request_detail.html", _content_context(
            request, approval, **extra
        )
    return "governance/approvals/request_detail.html", _dossier_context(request, approval, **extra)


def _dossier_context(request, approval, **extra) -> dict:
    """The whole request page: the decision context and the dossier around it."""
    initiative = approval.initiative
    timeline = approval_selectors.request_timeline(request=approval)
    assessment = (
        RiskAssessment.objects.filter(initiative=initiative, is_current=True)
        .select_related("assessed_by")
        .first()
    )
    tier = assessment.effective_tier if assessment else None
    # First, because gate_blockers re-evaluates automated controls in memory.
    blockers = risk_controls.gate_blockers(initiative, approval.gate)
    controls = [
        row
        for row in selectors.controls_checklist(initiative=initiative, tier=tier)
        if approval.gate in row["gates"]
    ]
    decisions = [item for kind, _, item in timeline if kind == "decision"]
    return {
        **_decision_context(request, approval, timeline=timeline, **extra),
        "subject": approval_services.request_subject(approval),
        "assessment": assessment,
        "blockers": blockers,
        "controls": controls,
        "models": initiative.ai_models.all(),
        "allocations": initiative.gpu_allocations.select_related("pool__gpu_type"),
        "steps": _step_rows(approval, decisions),
        "timeline": timeline,
        "audit_events": AuditEvent.objects.filter(
            object_type="portfolio.initiative", object_id=str(initiative.pk)
        )
        .select_related("actor")
        .order_by("-sequence")[:AUDIT_HISTORY_LENGTH],
        **history_context(user=request.user, target=approval),
        **discussion_context(user=request.user, subject=approval),
    }


def _render_request(request, approval, *, status=200, **extra):
    """The htmx ``#decision`` partial, or the whole page, with ``extra`` in the partial."""
    if is_partial_request(request):
        return render(
            request, DECISION_PARTIAL, _decision_context(request, approval, **extra), status=status
        )
    template, context = _page(request, approval, **extra)
    return render(request, template, context, status=status)


def _refuse(request, approval, reason: str):
    """403 with the reason shown where the action was offered (never a bare error page)."""
    return _render_request(request, approval, status=403, refusal=reason)


def _already_decided(request, approval, error: AlreadyDecided):
    """The request changed meanwhile: show its current state and say so."""
    message = " ".join(error.messages)
    fresh = approval_selectors.request_get(user=request.user, pk=approval.pk)
    if is_partial_request(request):
        return _render_request(request, fresh, already_decided=message)
    messages.error(request, message)
    return redirect(_request_url(fresh))


def _refused(request, approval, error: PermissionDenied | AlreadyDecided):
    """A service's refusal: 403 in place, or the request's current state if it was decided
    meanwhile."""
    if isinstance(error, AlreadyDecided):
        return _already_decided(request, approval, error)
    return _refuse(request, approval, str(error))


@login_required
@require_GET
def request_detail(request, pk):
    approval = approval_selectors.request_get(user=request.user, pk=pk)
    template, context = _page(request, approval)
    return render(request, template, context)


@login_required
@require_POST
def request_decide(request, pk):
    """Approve, request changes or reject the current step. An htmx request gets the
    ``#decision`` partial; a plain POST is redirected back to the page with a message."""
    approval = approval_selectors.request_get(user=request.user, pk=pk)
    if approval.status == RequestStatus.PENDING:
        # Refuse people who may not decide before asking them to fix a comment.
        _, problem = approval_services.decision_capacity(approval, request.user)
        if problem:
            return _refuse(request, approval, problem)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            decision = approval_services.request_decide(
                actor=request.user,
                request=approval,
                outcome=form.cleaned_data["outcome"],
                comment=form.cleaned_data["comment"],
            )
        except (PermissionDenied, AlreadyDecided) as error:
            return _refused(request, approval, error)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            notice = f"You chose “{decision.get_outcome_display()}” on {approval.step['name']}."
            if not is_partial_request(request):
                messages.success(request, notice)
                return redirect(_request_url(approval))
            fresh = approval_selectors.request_get(user=request.user, pk=pk)
            return _render_request(request, fresh, notice=notice)
    return _render_request(request, approval, decision_form=form)


@login_required
@require_POST
def request_withdraw(request, pk):
    approval = approval_selectors.request_get(user=request.user, pk=pk)
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        approval_services.request_withdraw(
            actor=request.user, request=approval, reason=form.cleaned_data.get("reason", "")
        )
    except (PermissionDenied, AlreadyDecided) as error:
        return _refused(request, approval, error)
    messages.success(request, "Request withdrawn.")
    return redirect(_request_url(approval))


@login_required
@require_POST
def request_resubmit(request, pk):
    approval = approval_selectors.request_get(user=request.user, pk=pk)
    form = CommentForm(request.POST, auto_id="id_resubmit_%s")
    if form.is_valid():
        try:
            approval_services.request_resubmit(
                actor=request.user, request=approval, comment=form.cleaned_data["comment"]
            )
        except (PermissionDenied, AlreadyDecided) as error:
            return _refused(request, approval, error)
        except ValidationError as error:
            # Gate blockers that appeared since submission: list every one.
            for message in error.messages:
                messages.error(request, message)
            return redirect(_request_url(approval))
        messages.success(request, "Resubmitted: the request starts again from the first step.")
        return redirect(_request_url(approval))
    return _render_request(request, approval, resubmit_form=form)


@login_required
@require_POST
def request_escalate(request, pk):
    """A reviewer who approved a step that another rejected asks the next level to decide."""
    approval = approval_selectors.request_get(user=request.user, pk=pk)
    form = ReasonForm(request.POST, auto_id="id_escalate_%s")
    if form.is_valid():
        try:
            escalation.request_escalate_disagreement(
                actor=request.user, request=approval, reason=form.cleaned_data["reason"]
            )
        except (PermissionDenied, AlreadyDecided) as error:
            return _refused(request, approval, error)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, "Escalated: the next level decides this step afresh.")
            return redirect(_request_url(approval))
    return _render_request(request, approval, reason_form=form, show_escalate_form=True)


# --- Submitting an initiative for a gate ---------------------------------------------------


def _controls_url(initiative) -> str:
    return reverse("governance:controls", args=[initiative.pk])


@login_required
@require_GET
def initiative_requests(request, pk):
    """The governance pages' approval box, loaded by htmx: the initiative's requests and, for
    its owners, the button that submits it for its next gate."""
    initiative = initiative_get(user=request.user, pk=pk)
    requests = list(
        initiative.approval_requests.select_related("submitted_by").order_by("-submitted_at", "-pk")
    )
    gate = risk_controls.NEXT_GATE.get(initiative.stage)
    # A deployment's scale request (another unit adopting) does not stop the initiative's own.
    open_request = next(
        (r for r in requests if r.gate == gate and r.is_open and not r.subject_type), None
    )
    context = {
        "initiative": initiative,
        "requests": requests,
        "gate": gate,
        "gate_label": Gate(gate).label if gate else "",
        "open_request": open_request,
        "may_submit": bool(gate)
        and open_request is None
        and can_edit_initiative(request.user, initiative),
    }
    return render(request, "governance/approvals/partials/_request_gate.html", context)


@login_required
@require_POST
def request_submit(request, pk):
    """Submit the initiative for a gate; a refusal lists every reason (each blocker) on the
    controls page, where they are fixed."""
    initiative = initiative_get(user=request.user, pk=pk)
    form = SubmitForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a gate to submit for.")
        return redirect(_controls_url(initiative))
    gate = form.cleaned_data["gate"]
    try:
        approval = approval_services.request_submit(
            actor=request.user,
            initiative=initiative,
            gate=gate,
            comment=form.cleaned_data["comment"],
        )
    except AlreadyDecided as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect(_controls_url(initiative))
    except ValidationError as error:
        messages.error(request, f"The {Gate(gate).label} gate submission was refused:")
        for message in error.messages:
            messages.error(request, message)
        return redirect(_controls_url(initiative))
    if approval.fast_tracked:
        messages.success(
            request, f"Fast-tracked: the {approval.get_gate_display()} gate is approved."
        )
    else:
        messages.success(request, f"Submitted for the {approval.get_gate_display()} gate.")
    return redirect(_request_url(approval))


# --- Policies ------------------------------------------------------------------------------


def _may_edit_policies(user) -> bool:
    return has_any_role(user, policies.POLICY_ADMIN_ROLES)


def _gate_position(policy) -> int:
    return Gate.values.index(policy.gate)


def _active_policies():
    return sorted(
        ApprovalPolicy.objects.filter(is_active=True)
        .select_related("created_by")
        .prefetch_related("steps"),
        key=lambda policy: (_gate_position(policy), policy.tier),
    )


def _policy_steps(request):
    """(policy, step) per step of every active policy, in the page's order; a policy without
    steps is one row with no step."""
    return [
        (policy, step)
        for policy in _active_policies()
        for step in (list(policy.steps.all()) or [None])
    ]


def _step(attribute):
    return lambda row: "" if row[1] is None else getattr(row[1], attribute)


POLICY_EXPORT = ListExport(
    stem="approval-policies",
    title="Approval policies",
    columns=(
        ("Gate", lambda row: row[0].get_gate_display()),
        ("Tier", lambda row: row[0].tier),
        ("Version", lambda row: row[0].version),
        ("Blocks the gate", lambda row: yes_no(row[0].blocks_gate)),
        ("Step", _step("order")),
        ("Step name", _step("name")),
        ("Decided by", lambda row: "" if row[1] is None else row[1].get_required_role_display()),
        ("Approvals needed", _step("approvals_needed")),
        ("SLA (hours)", _step("sla_hours")),
        (
            "Escalates to",
            lambda row: "" if row[1] is None else row[1].get_escalation_role_display(),
        ),
        (
            "Fast path allowed",
            lambda row: "" if row[1] is None else yes_no(row[1].fast_path_allowed),
        ),
        ("Published by", lambda row: person_name(row[0].created_by)),
        ("Published at", lambda row: row[0].created_at),
    ),
    queryset=_policy_steps,
)


@login_required
@require_GET
@list_page("governance:policy_list")
def policy_list(request):
    """Every tier × gate with its active policy version and steps."""
    by_gate = {}
    for policy in _active_policies():
        by_gate.setdefault(policy.get_gate_display(), []).append(policy)
    return render(
        request,
        "governance/approvals/policy_list.html",
        {
            "by_gate": by_gate,
            "may_edit": _may_edit_policies(request.user),
            **export_links(request, "governance:policy_list"),
        },
    )


def _apply_step_errors(step_forms, error: ValidationError) -> list[str]:
    """Put ``policy_revise``'s "steps.<index>.<field>" errors on the matching step form;
    return the errors about the policy as a whole."""
    policy_errors = []
    for key, errors in error.message_dict.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "steps" and parts[1].isdigit():
            index, field = int(parts[1]), parts[2]
            if index < len(step_forms):
                form = step_forms[index]
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
                continue
        policy_errors.extend(errors)
    return policy_errors


@login_required
@require_http_methods(["GET", "POST"])
def policy_edit(request, pk):
    """CoE admins publish a new version of a policy; requests already submitted keep the
    snapshot of the version they were submitted under."""
    policy = get_object_or_404(
        ApprovalPolicy.objects.select_related("created_by").prefetch_related("steps"), pk=pk
    )
    if not _may_edit_policies(request.user):
        raise PermissionDenied("Only CoE admins can change approval policies.")
    formset = PolicyStepFormSet(
        request.POST if request.method == "POST" else None,
        initial=policy_step_initial(policy),
        prefix="steps",
    )
    policy_errors = []
    if request.method == "POST" and not policy.blocks_gate and formset.is_valid():
        step_forms = formset.ordered_forms
        try:
            revised = policies.policy_revise(
                actor=request.user, policy=policy, steps=[form.step() for form in step_forms]
            )
        except ValidationError as error:
            policy_errors = _apply_step_errors(step_forms, error)
        else:
            messages.success(
                request,
                f"Published version {revised.version} of {revised.get_gate_display()} · "
                f"Tier {revised.tier}. Requests already submitted keep their version.",
            )
            return redirect("governance:policy_edit", revised.pk)
    history = (
        ApprovalPolicy.objects.filter(tier=policy.tier, gate=policy.gate)
        .select_related("created_by")
        .prefetch_related("steps")
        .order_by("-version")
    )
    return render(
        request,
        "governance/approvals/policy_edit.html",
        {
            "policy": policy,
            "formset": formset,
            "policy_errors": policy_errors,
            "history": history,
        },
    )


# --- Delegations ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def delegations(request):
    """My delegations, given and received, and a form to give one (holiday cover); for
    administrators also the rule of who may act as delegate."""
    user = request.user
    today = timezone.localdate()
    may_delegate = delegation_services.may_delegate(user)
    rule = delegation_services.delegation_rule_get()
    may_set_rule = delegation_services.can_set_delegation_rule(user)
    posted = request.POST if request.method == "POST" else None
    setting_rule = posted is not None and "eligible" in posted
    form = DelegationForm(
        None if setting_rule else posted,
        delegates=delegation_services.eligible_delegates(user, rule),
        initial={"starts_on": today},
    )
    rule_form = DelegationRuleForm(posted if setting_rule else None, rule=rule)
    if setting_rule and not may_set_rule:
        raise PermissionDenied("Only administrators set who may act as delegate.")
    if setting_rule and rule_form.is_valid():
        try:
            delegation_services.delegation_rule_set(actor=user, **rule_form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(rule_form, error)
        else:
            messages.success(request, "The delegation rule was saved.")
            return redirect("governance:delegations")
    elif posted is not None and not setting_rule and may_delegate and form.is_valid():
        try:
            delegation = delegation_services.delegation_create(actor=user, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(
                request,
                f"{delegation.delegate.get_full_name() or delegation.delegate.username} may "
                f"decide for you from {delegation.starts_on:%d %b %Y} to "
                f"{delegation.ends_on:%d %b %Y}.",
            )
            return redirect("governance:delegations")
    context = {
        "form": form,
        "rule": rule,
        "rule_form": rule_form if may_set_rule else None,
        "may_delegate": may_delegate,
        "today": today,
        "given": Delegation.objects.filter(delegator=user).select_related("delegate"),
        "received": Delegation.objects.filter(delegate=user).select_related("delegator"),
    }
    return render(request, "governance/approvals/delegation_list.html", context)
