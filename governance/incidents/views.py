"""Pages of the incident register: list (filters, CSV/XLSX), report form, detail with its
timeline, reporting countdowns, corrective actions and the risk function's pause; the
reporting regimes' admin pages. Thin: resolve through selectors, call one service."""

import os

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.discussions.views import discussion_context
from core.exports import ListExport, list_page, person_name, stored_file_response, yes_no
from core.forms import apply_validation_error
from core.htmx import render_list
from governance.incidents import selectors, services
from governance.incidents.choices import INCIDENT_TRANSITIONS, DraftStatus, IncidentStatus
from governance.incidents.filtersets import IncidentFilterSet
from governance.incidents.forms import (
    ActionForm,
    IncidentForm,
    PauseForm,
    RegimeForm,
    ReportRecordForm,
    TransitionForm,
    WaiveForm,
)
from governance.incidents.models import CorrectiveAction, IncidentReport, ReportingRegime
from governance.incidents.permissions import (
    can_edit_regimes,
    can_manage_incident,
    can_pause_initiative,
    can_waive_action,
)
from portfolio.initiatives.choices import Stage
from portfolio.initiatives.selectors import initiative_get


def _initiative_references(incident) -> str:
    return ", ".join(initiative.reference for initiative in incident.initiatives.all())


INCIDENT_EXPORT = ListExport(
    stem="incidents",
    title="Incidents",
    columns=(
        ("Reference", lambda incident: incident.reference),
        ("Title", lambda incident: incident.title),
        ("Initiatives", _initiative_references),
        ("Category", lambda incident: incident.get_category_display()),
        ("Severity", lambda incident: incident.get_severity_display()),
        ("Status", lambda incident: incident.get_status_display()),
        ("Serious (Art. 3(49))", lambda incident: yes_no(incident.is_serious)),
        ("Detected at", lambda incident: incident.detected_at),
        ("Became aware at", lambda incident: incident.became_aware_at),
        ("Owner", lambda incident: person_name(incident.owner)),
        ("Reports open", lambda incident: incident.reports_open),
        ("Reports missed", lambda incident: incident.reports_missed),
    ),
    queryset=lambda request: selectors.incident_list(user=request.user),
    filterset_class=IncidentFilterSet,
    custom_fields_entity="incident",
)


@login_required
@require_GET
@list_page("governance:incident_list")
def incident_list(request):
    return render_list(
        request,
        template="governance/incidents/incident_list.html",
        queryset=selectors.incident_list(user=request.user),
        filterset_class=IncidentFilterSet,
        export="governance:incident_list",
    )


def _form_data(form) -> dict:
    return dict(form.cleaned_data)


@login_required
@require_http_methods(["GET", "POST"])
def incident_new(request):
    initial = {"detected_at": timezone.localtime(), "became_aware_at": timezone.localtime()}
    if request.GET.get("initiative", "").isdigit():
        initial["initiatives"] = [initiative_get(user=request.user, pk=request.GET["initiative"])]
    form = IncidentForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.incident_create(actor=request.user, data=_form_data(form))
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, f"{incident.reference} reported.")
            return redirect(incident)
    return render(
        request,
        "governance/incidents/incident_form.html",
        {"form": form, "incident": None, "cancel_url": "governance:incident_list"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def incident_edit(request, pk):
    incident = selectors.incident_get(user=request.user, pk=pk)
    if not can_manage_incident(request.user, incident):
        raise PermissionDenied("Only the CoE, the risk function or the owner edit an incident.")
    form = IncidentForm(request.POST or None, user=request.user, instance=incident)
    if request.method == "POST" and form.is_valid():
        try:
            services.incident_update(actor=request.user, incident=incident, data=_form_data(form))
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, f"{incident.reference} saved.")
            return redirect(incident)
    return render(
        request, "governance/incidents/incident_form.html", {"form": form, "incident": incident}
    )


def countdown(due_at, now) -> str:
    """ "3 d 4 h left" / "missed by 2 h" — the incident page's countdown, in words."""
    delta = due_at - now
    seconds = abs(int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    text = f"{days} d {hours} h" if days else f"{hours} h {minutes} min"
    return f"{text} left" if delta.total_seconds() >= 0 else f"missed by {text}"


def _detail_context(request, incident, **forms) -> dict:
    now = timezone.now()
    reports = selectors.incident_reports(incident=incident)
    for report in reports:
        report.current_state = report.state(now)
        report.countdown = countdown(report.due_at, now) if report.is_open else ""
    may_manage = can_manage_incident(request.user, incident)
    pausable = [
        initiative
        for initiative in incident.initiatives.all()
        if Stage.PAUSED in _next_stages(initiative)
    ]
    return {
        "incident": incident,
        "reports": reports,
        "actions": selectors.incident_actions(incident=incident),
        "timeline": selectors.incident_timeline(incident=incident),
        "may_manage": may_manage,
        "may_waive": can_waive_action(request.user),
        "may_pause": can_pause_initiative(request.user),
        "pausable": pausable,
        "next_statuses": [
            (status, IncidentStatus(status).label)
            for status in sorted(INCIDENT_TRANSITIONS.get(incident.status, ()))
        ],
        "transition_form": forms.get("transition_form") or TransitionForm(),
        "action_form": forms.get("action_form") or ActionForm(),
        "report_form": ReportRecordForm(),
        "now": now,
        **discussion_context(user=request.user, subject=incident),
    }


def _next_stages(initiative):
    from portfolio.initiatives.choices import STAGE_TRANSITIONS

    return STAGE_TRANSITIONS.get(initiative.stage, frozenset())


@login_required
@require_GET
def incident_detail(request, pk):
    incident = selectors.incident_get(user=request.user, pk=pk)
    return render(
        request, "governance/incidents/incident_detail.html", _detail_context(request, incident)
    )


def _messages_of(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


@login_required
@require_POST
def incident_transition(request, pk):
    incident = selectors.incident_get(user=request.user, pk=pk)
    form = TransitionForm(request.POST)
    if form.is_valid():
        try:
            services.incident_transition(
                actor=request.user,
                incident=incident,
                to_status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            _messages_of(request, error)
        else:
            messages.success(request, f"{incident.reference} is now {form.cleaned_data['status']}.")
    return redirect(incident)


@login_required
@require_POST
def report_record(request, pk, report_pk):
    incident = selectors.incident_get(user=request.user, pk=pk)
    report = get_object_or_404(IncidentReport, pk=report_pk, incident=incident)
    form = ReportRecordForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.incident_report_record(
                actor=request.user,
                report=report,
                submitted_at=form.cleaned_data["submitted_at"],
                submitted_to=form.cleaned_data["submitted_to"],
                reference=form.cleaned_data["reference"],
                file=form.cleaned_data["file"],
            )
        except ValidationError as error:
            _messages_of(request, error)
        else:
            messages.success(request, "Report recorded; its clock has stopped.")
    return redirect(incident)


@login_required
@require_GET
def report_file(request, pk, report_pk):
    incident = selectors.incident_get(user=request.user, pk=pk)
    report = get_object_or_404(IncidentReport, pk=report_pk, incident=incident)
    if not report.file:
        raise Http404("No file was recorded with this report.")
    return stored_file_response(
        report.file,
        filename=os.path.basename(report.file.name),
        content_type="application/octet-stream",
        missing="The report's file is missing.",
    )


@login_required
@require_POST
def action_add(request, pk):
    incident = selectors.incident_get(user=request.user, pk=pk)
    form = ActionForm(request.POST)
    if form.is_valid():
        try:
            services.action_add(actor=request.user, incident=incident, data=form.cleaned_data)
        except ValidationError as error:
            _messages_of(request, error)
        else:
            messages.success(request, "Corrective action added.")
            return redirect(incident)
    else:
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
    return redirect(incident)


@login_required
@require_POST
def action_complete(request, pk, action_pk):
    incident = selectors.incident_get(user=request.user, pk=pk)
    action = get_object_or_404(CorrectiveAction, pk=action_pk, incident=incident)
    try:
        services.action_complete(actor=request.user, action=action)
    except ValidationError as error:
        _messages_of(request, error)
    return redirect(incident)


@login_required
@require_POST
def action_waive(request, pk, action_pk):
    incident = selectors.incident_get(user=request.user, pk=pk)
    action = get_object_or_404(CorrectiveAction, pk=action_pk, incident=incident)
    form = WaiveForm(request.POST)
    reason = form.data.get("reason", "")
    try:
        services.action_waive(actor=request.user, action=action, reason=reason)
    except ValidationError as error:
        _messages_of(request, error)
    else:
        messages.success(request, "Action waived.")
    return redirect(incident)


@login_required
@require_POST
def incident_pause(request, pk):
    incident = selectors.incident_get(user=request.user, pk=pk)
    form = PauseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose an initiative and give a reason.")
        return redirect(incident)
    initiative = get_object_or_404(incident.initiatives.all(), pk=form.cleaned_data["initiative"])
    try:
        services.incident_pause_initiative(
            actor=request.user,
            incident=incident,
            initiative=initiative,
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        _messages_of(request, error)
    else:
        messages.success(request, f"{initiative.reference} paused.")
    return redirect(incident)


@login_required
@require_POST
def incident_draft(request, pk):
    incident = selectors.incident_get(user=request.user, pk=pk)
    services.incident_draft_request(actor=request.user, incident=incident)
    messages.success(request, "The Art. 73 initial-report draft is being built.")
    return redirect(incident)


@login_required
@require_GET
def incident_draft_download(request, pk):
    incident = selectors.incident_get(user=request.user, pk=pk)
    if incident.draft_status != DraftStatus.READY or not incident.draft_file:
        raise Http404("No draft has been built.")
    return stored_file_response(
        incident.draft_file,
        filename=f"{incident.reference}-art73-initial-draft.pdf",
        content_type="application/pdf",
        missing="The draft file is missing.",
    )


# --- Reporting regimes ---------------------------------------------------------------------


@login_required
@require_GET
def regime_list(request):
    return render(
        request,
        "governance/incidents/regime_list.html",
        {"regimes": selectors.regime_list(), "may_edit": can_edit_regimes(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def regime_edit(request, pk):
    regime = get_object_or_404(ReportingRegime, pk=pk)
    if not can_edit_regimes(request.user):
        raise PermissionDenied("Only CoE admins edit reporting regimes.")
    form = RegimeForm(request.POST or None, instance=ReportingRegime.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.regime_update(actor=request.user, regime=regime, data=form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, f"{regime.name} saved; existing deadlines are unchanged.")
            return redirect("governance:reporting_regimes")
    return render(
        request, "governance/incidents/regime_form.html", {"form": form, "regime": regime}
    )
