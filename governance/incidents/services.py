"""Writes of the incident register: report, edit, move along the workflow (triage computes
the reporting deadlines), record reports, corrective actions, pause an initiative, the
deadline sweep and the Art. 73 draft. Each checks permission, validates, writes inside
``transaction.atomic()`` with its audit event and schedules side effects after commit."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from core.audit import record_event
from core.choices import NotificationKind, Role
from core.exceptions import Conflict
from core.scheduling import enqueue_after_commit
from core.services import apply_changes, notification_send, sequence_next
from governance.incidents.choices import (
    MIN_REASON_LENGTH,
    ActionStatus,
    ClockStart,
    DraftStatus,
    IncidentStatus,
)
from governance.incidents.models import (
    SEQUENCE_NAME,
    BusinessUnitSector,
    CorrectiveAction,
    Incident,
    IncidentReport,
    ReportingRegime,
    format_reference,
)
from governance.incidents.permissions import (
    can_manage_incident,
    can_pause_initiative,
    can_report_incident,
    can_waive_action,
)
from governance.incidents.regimes import (
    IncidentFacts,
    conditions_hold,
    dependent_limits,
    limit_end,
    regimes_install_defaults,
    report_deadlines,
)
from governance.risk.choices import ResultStatus
from governance.risk.controls import schedule_controls_evaluation
from governance.risk.selectors import current_tiers
from portfolio.initiatives.choices import Stage
from portfolio.initiatives.selectors import scope_initiatives
from portfolio.initiatives.services import initiative_change_stage

INCIDENT_FIELDS = (
    "title",
    "description",
    "category",
    "severity",
    "death_suspected",
    "widespread_infringement",
    "personal_data_breach",
    "detected_at",
    "became_aware_at",
    "causal_link_at",
    "immediate_actions",
    "owner",
    "custom_fields",
)
RELATION_FIELDS = ("initiatives", "model_versions", "business_units")


def next_incident_reference() -> str:
    return format_reference(sequence_next(SEQUENCE_NAME))


def _snapshot(incident: Incident) -> dict:
    values = {}
    for name in INCIDENT_FIELDS:
        value = getattr(incident, name)
        values[name] = value.pk if hasattr(value, "pk") else value
    return values


def _check_relations(actor, data: dict) -> None:
    initiatives = list(data.get("initiatives") or [])
    if not initiatives:
        raise ValidationError(
            {"initiatives": "Name at least one initiative the incident concerns."}
        )
    from portfolio.initiatives.models import Initiative

    visible = set(
        scope_initiatives(
            Initiative.objects.filter(pk__in=[i.pk for i in initiatives]), actor
        ).values_list("pk", flat=True)
    )
    if len(visible) != len({i.pk for i in initiatives}):
        raise ValidationError(
            {"initiatives": "You can only report incidents of initiatives you see."}
        )


def _set_relations(incident: Incident, data: dict) -> None:
    for name in RELATION_FIELDS:
        if name in data and data[name] is not None:
            getattr(incident, name).set(list(data[name]))


def _after_commit_reassess(incident: Incident) -> None:
    if incident.flags_reassessment:
        for initiative_id in incident.initiatives.values_list("pk", flat=True):
            transaction.on_commit(lambda pk=initiative_id: schedule_controls_evaluation(pk))


def incident_create(*, actor, data: dict) -> Incident:
    """Any member reports an incident of initiatives they can see; it starts ``reported``."""
    if not can_report_incident(actor):
        raise PermissionDenied("Sign in to report an incident.")
    _check_relations(actor, data)
    incident = Incident(
        reporter=actor, **{name: data[name] for name in INCIDENT_FIELDS if name in data}
    )
    incident.reference = "INC-pending"
    incident.full_clean(exclude=["reference"])
    with transaction.atomic():
        incident.reference = next_incident_reference()
        incident.save()
        _set_relations(incident, data)
        record_event(
            actor=actor, action="incident.reported", target=incident, after=_snapshot(incident)
        )
        _after_commit_reassess(incident)
    return incident


def incident_update(*, actor, incident: Incident, data: dict) -> Incident:
    """Edit an incident's facts (not its status). Deadlines already given do not move: a
    re-triage recomputes them explicitly."""
    if not can_manage_incident(actor, incident):
        raise PermissionDenied("Only the CoE, the risk function or the owner edit an incident.")
    if data.get("initiatives") is not None:
        _check_relations(actor, data)
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        # core.services.apply_changes: the changed fields, custom values per field old → new.
        before, after = apply_changes(locked, data, INCIDENT_FIELDS)
        locked.full_clean()
        locked.save()
        _set_relations(locked, data)
        if after:
            record_event(
                actor=actor, action="incident.updated", target=locked, before=before, after=after
            )
        _after_commit_reassess(locked)
    return locked


def incident_delete(*, actor, incident: Incident) -> None:
    """CoE admins and administrators delete an incident entered by mistake (audited)."""
    from core.permissions import can_manage_organisation

    if not can_manage_organisation(actor):
        raise PermissionDenied("Only CoE admins delete incidents.")
    with transaction.atomic():
        record_event(
            actor=actor, action="incident.deleted", target=incident, before=_snapshot(incident)
        )
        incident.delete()


# --- Facts and deadlines -------------------------------------------------------------------


def incident_facts(incident: Incident) -> IncidentFacts:
    """The facts regimes' conditions read, from the incident and its initiatives."""
    initiatives = list(incident.initiatives.select_related("business_unit"))
    tiers = [tier for tier in current_tiers([i.pk for i in initiatives]).values() if tier]
    jurisdictions = set()
    for initiative in initiatives:
        jurisdictions |= {
            part.strip().upper()
            for part in initiative.jurisdictions.replace(";", ",").split(",")
            if part.strip()
        }
    unit_ids = {i.business_unit_id for i in initiatives} | set(
        incident.business_units.values_list("pk", flat=True)
    )
    sectors = set(
        BusinessUnitSector.objects.filter(business_unit_id__in=unit_ids).values_list(
            "sector", flat=True
        )
    )
    return IncidentFacts(
        category=incident.category,
        severity=incident.severity,
        risk_tier=max(tiers) if tiers else None,
        jurisdiction=frozenset(jurisdictions),
        sector=frozenset(sectors),
        eu_ai_act_role=frozenset(i.eu_ai_act_role for i in initiatives if i.eu_ai_act_role),
        personal_data=incident.personal_data_breach,
        death_suspected=incident.death_suspected,
        widespread=incident.widespread_infringement,
    )


def incident_clocks(incident: Incident) -> dict:
    return {
        ClockStart.BECAME_AWARE: incident.became_aware_at,
        ClockStart.DETECTED: incident.detected_at,
        ClockStart.CAUSAL_LINK: incident.causal_link_at,
        ClockStart.CLASSIFIED: incident.triaged_at,
    }


def applicable_regimes(incident: Incident) -> list[tuple[ReportingRegime, list]]:
    """Each active regime that applies, with the reports it asks for and their due times."""
    facts = incident_facts(incident)
    clocks = incident_clocks(incident)
    found = []
    if not ReportingRegime.objects.exists():
        # No regime at all (never installed, or the table flushed): the defaults, as the
        # questionnaire and the approval policies do. Deactivated regimes stay deactivated.
        regimes_install_defaults(model=ReportingRegime)
    for regime in ReportingRegime.objects.filter(is_active=True):
        if conditions_hold(regime.conditions, facts):
            found.append((regime, report_deadlines(regime.deadlines, facts, clocks)))
    return found


def _give_deadlines(incident: Incident) -> list[str]:
    """Create (or, on a re-triage, reset) the unsent reports the applicable regimes ask for.
    Submitted reports are history and stay as they are."""
    given = []
    for regime, due_reports in applicable_regimes(incident):
        for due in due_reports:
            report = IncidentReport.objects.filter(
                incident=incident, regime=regime, kind=due.kind
            ).first()
            if report is not None and report.submitted_at is not None:
                continue
            if report is None:
                report = IncidentReport(incident=incident, regime=regime, kind=due.kind)
            report.order, report.due_at, report.basis = due.order, due.due_at, due.basis
            report.warned_at = report.escalated_at = None
            report.save()
            given.append(f"{regime.code}:{due.kind}:{due.due_at.isoformat()}")
    return given


# --- Workflow ------------------------------------------------------------------------------


def incident_transition(*, actor, incident: Incident, to_status: str, reason: str = "") -> Incident:
    """Move an incident along ``INCIDENT_TRANSITIONS`` (a compare-and-set under its row lock).

    Triage (from reported or reopened) classifies it now and gives the reports the applicable
    regimes ask for, with due times that are then stored, never recomputed. Closing needs
    every corrective action done or waived.
    """
    if to_status not in IncidentStatus.values:
        raise ValidationError({"status": f"Unknown status {to_status!r}."})
    if not can_manage_incident(actor, incident):
        raise PermissionDenied("Only the CoE, the risk function or the owner move an incident.")
    reason = (reason or "").strip()
    if to_status == IncidentStatus.REOPENED and len(reason) < MIN_REASON_LENGTH:
        raise ValidationError(
            {"reason": "Say why the incident is reopened (10 characters or more)."}
        )
    now = timezone.now()
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        from_status = locked.status
        if not locked.can_move_to(to_status):
            raise ValidationError(
                {"status": f"An incident cannot move from {from_status} to {to_status}."}
            )
        changes = {"status": to_status, "updated_at": now}
        if to_status == IncidentStatus.CLOSED:
            if locked.actions.filter(status=ActionStatus.OPEN).exists():
                raise ValidationError(
                    {"status": "Close or waive every open corrective action first."}
                )
            changes["closed_at"] = now
        if to_status == IncidentStatus.TRIAGED:
            changes["triaged_at"] = now
        if to_status == IncidentStatus.REOPENED:
            changes["closed_at"] = None
        updated = Incident.objects.filter(pk=locked.pk, status=from_status).update(**changes)
        if updated != 1:
            raise Conflict("The incident changed meanwhile; reload and try again.")
        locked.refresh_from_db()
        after = {"status": to_status}
        if to_status == IncidentStatus.TRIAGED:
            after["deadlines"] = _give_deadlines(locked)
        record_event(
            actor=actor,
            action="incident.transitioned",
            target=locked,
            before={"status": from_status},
            after=after,
            reason=reason,
        )
    return locked


# --- Reports -------------------------------------------------------------------------------


def incident_report_record(
    *, actor, report: IncidentReport, submitted_at=None, submitted_to="", reference="", file=None
) -> IncidentReport:
    """Record that a report was sent: its clock stops. A later report of the same regime
    whose limit runs from this one (DORA's intermediate and final) starts from now on."""
    if not can_manage_incident(actor, report.incident):
        raise PermissionDenied("Only the CoE, the risk function or the owner record reports.")
    submitted_at = submitted_at or timezone.now()
    if submitted_at > timezone.now():
        raise ValidationError({"submitted_at": "A report cannot be sent in the future."})
    if file is not None:
        from governance.risk.controls import validate_evidence_file

        try:
            validate_evidence_file(file)
        except ValidationError as error:
            raise ValidationError({"file": error.messages}) from None
    with transaction.atomic():
        locked = (
            IncidentReport.objects.select_for_update()
            .select_related("regime", "incident")
            .get(pk=report.pk)
        )
        if locked.submitted_at is not None:
            raise Conflict("This report is already recorded.")
        locked.submitted_at = submitted_at
        locked.submitted_to = (submitted_to or locked.regime.recipient)[:200]
        locked.submitted_reference = reference[:100]
        locked.submitted_by = actor
        if file is not None:
            locked.file.save(file.name, file, save=False)
        locked.save()
        _restart_following(locked)
        label = f"{locked.regime.code} {locked.kind}"
        record_event(
            actor=actor,
            action="incident.report_recorded",
            target=locked.incident,
            after={
                "report": label,
                "submitted_at": submitted_at,
                "to": locked.submitted_to,
                "reference": locked.submitted_reference,
                "state": locked.state(),
            },
        )
    return locked


def _restart_following(report: IncidentReport) -> None:
    following = (
        IncidentReport.objects.filter(
            incident=report.incident_id,
            regime=report.regime_id,
            order__gt=report.order,
            submitted_at__isnull=True,
        )
        .order_by("order")
        .first()
    )
    if following is None:
        return
    limits = dependent_limits(
        report.regime.deadlines, following.kind, incident_facts(report.incident)
    )
    if limits:
        following.due_at = min(limit_end(report.submitted_at, limit) for limit in limits)
        following.warned_at = following.escalated_at = None
        following.save(update_fields=["due_at", "warned_at", "escalated_at"])


def risk_function_people():
    """Active holders of the risk-officer role (where deadline escalations go)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, memberships__role=Role.RISK_OFFICER)
        .distinct()
        .order_by("pk")
    )


def _claim(report_id: int, marker: str, now) -> bool:
    """Set the marker if nobody has: a conditional UPDATE, so concurrent sweeps send once."""
    return (
        IncidentReport.objects.filter(
            pk=report_id, submitted_at__isnull=True, **{f"{marker}__isnull": True}
        ).update(**{marker: now})
        == 1
    )


def deadlines_sweep(*, now=None) -> dict:
    """Warn each unsent report's incident owner before its deadline (``warn_before_hours``)
    and escalate to the risk function (``escalate_before_hours``, or once missed) — each
    exactly once, even when two sweeps run at the same time."""
    from datetime import timedelta

    now = now or timezone.now()
    sent = {"warned": 0, "escalated": 0}
    candidates = (
        IncidentReport.objects.filter(submitted_at__isnull=True)
        .filter(Q(warned_at__isnull=True) | Q(escalated_at__isnull=True))
        .select_related("regime", "incident__owner", "incident__reporter")
    )
    for report in candidates.iterator(chunk_size=200):
        regime, incident = report.regime, report.incident
        label = f"{incident.reference} · {regime.name} ({report.get_kind_display().lower()})"
        due_text = timezone.localtime(report.due_at).strftime("%d %b %Y %H:%M %Z")
        if (
            report.warned_at is None
            and report.due_at - timedelta(hours=regime.warn_before_hours) <= now
        ):
            with transaction.atomic():
                if _claim(report.pk, "warned_at", now):
                    recipient = incident.owner or incident.reporter
                    notification_send(
                        recipient=recipient,
                        subject=f"Report due {due_text}: {label}",
                        body=f"{report.basis}. Send it to {regime.recipient}.",
                        url=incident.get_absolute_url(),
                        kind=NotificationKind.GENERAL,
                    )
                    record_event(
                        actor=None,
                        action="incident.deadline_warned",
                        target=incident,
                        after={"report": f"{regime.code} {report.kind}", "to": recipient.pk},
                    )
                    sent["warned"] += 1
        if (
            report.escalated_at is None
            and report.due_at - timedelta(hours=regime.escalate_before_hours) <= now
        ):
            with transaction.atomic():
                if _claim(report.pk, "escalated_at", now):
                    missed = report.due_at < now
                    for person in risk_function_people():
                        notification_send(
                            recipient=person,
                            subject=f"{'Missed' if missed else 'Due soon'} ({due_text}): {label}",
                            body=f"{report.basis}. Owner: {incident.owner or '—'}.",
                            url=incident.get_absolute_url(),
                            kind=NotificationKind.GENERAL,
                        )
                    record_event(
                        actor=None,
                        action="incident.deadline_escalated",
                        target=incident,
                        after={"report": f"{regime.code} {report.kind}", "missed": missed},
                    )
                    sent["escalated"] += 1
    return sent


# --- Corrective actions --------------------------------------------------------------------


def action_add(*, actor, incident: Incident, data: dict) -> CorrectiveAction:
    if not can_manage_incident(actor, incident):
        raise PermissionDenied("Only the CoE, the risk function or the owner add actions.")
    action = CorrectiveAction(
        incident=incident,
        title=data.get("title", ""),
        owner=data.get("owner"),
        due_on=data.get("due_on"),
    )
    action.full_clean()
    with transaction.atomic():
        action.save()
        record_event(
            actor=actor,
            action="incident.action_added",
            target=incident,
            after={"title": action.title, "owner": action.owner_id, "due_on": action.due_on},
        )
    return action


def action_complete(*, actor, action: CorrectiveAction) -> CorrectiveAction:
    if not (can_manage_incident(actor, action.incident) or action.owner_id == actor.pk):
        raise PermissionDenied("Only the action's owner or the incident's managers complete it.")
    with transaction.atomic():
        if not CorrectiveAction.objects.filter(pk=action.pk, status=ActionStatus.OPEN).update(
            status=ActionStatus.DONE, completed_at=timezone.now()
        ):
            raise Conflict("This action is no longer open.")
        action.refresh_from_db()
        record_event(
            actor=actor,
            action="incident.action_completed",
            target=action.incident,
            after={"title": action.title, "status": action.status},
        )
    return action


def action_waive(*, actor, action: CorrectiveAction, reason: str) -> CorrectiveAction:
    """A risk officer waives an open action with a written reason, so the incident may close."""
    if not can_waive_action(actor):
        raise PermissionDenied("Only a risk officer waives a corrective action.")
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationError(
            {"reason": f"Write a reason of at least {MIN_REASON_LENGTH} characters."}
        )
    with transaction.atomic():
        if not CorrectiveAction.objects.filter(pk=action.pk, status=ActionStatus.OPEN).update(
            status=ActionStatus.WAIVED, waiver_reason=reason, waived_by=actor
        ):
            raise Conflict("This action is no longer open.")
        action.refresh_from_db()
        record_event(
            actor=actor,
            action="incident.action_waived",
            target=action.incident,
            after={"title": action.title, "status": action.status},
            reason=reason,
        )
    return action


# --- Consequences in the portfolio ---------------------------------------------------------


def incident_pause_initiative(*, actor, incident: Incident, initiative, reason: str):
    """The risk function pauses an initiative of the incident, through the portfolio's stage
    service (its transition table, guards and audit)."""
    if not can_pause_initiative(actor):
        raise PermissionDenied("Only the risk function pauses an initiative from an incident.")
    if not incident.initiatives.filter(pk=initiative.pk).exists():
        raise ValidationError({"initiative": "That initiative is not linked to this incident."})
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationError(
            {"reason": f"Write a reason of at least {MIN_REASON_LENGTH} characters."}
        )
    with transaction.atomic():
        paused = initiative_change_stage(
            actor=actor,
            initiative=initiative,
            to_stage=Stage.PAUSED,
            reason=f"{incident.reference}: {reason}",
        )
        record_event(
            actor=actor,
            action="incident.initiative_paused",
            target=incident,
            after={"initiative": initiative.reference},
            reason=reason,
        )
    return paused


def reassessment_control(initiative, assessment) -> tuple[str, str]:
    """INC-01: fails while a SEV1/SEV2 or serious incident of the initiative was recorded
    after its current risk assessment was completed."""
    from governance.incidents.selectors import incidents_flagging

    flagged = incidents_flagging(initiative)
    if assessment is not None and assessment.completed_at is not None:
        flagged = flagged.filter(created_at__gt=assessment.completed_at)
    references = list(flagged.order_by("created_at").values_list("reference", flat=True))
    if references:
        return (
            ResultStatus.FAILING,
            "Risk reassessment needed after incident " + ", ".join(references) + ".",
        )
    return ResultStatus.PASSING, "No serious or SEV1/SEV2 incident since the last assessment."


# --- Art. 73 draft -------------------------------------------------------------------------

DRAFT_TEMPLATE = "governance/incidents/art73_draft.html"


def incident_draft_request(*, actor, incident: Incident) -> Incident:
    if not can_manage_incident(actor, incident):
        raise PermissionDenied("Only the CoE, the risk function or the owner draft a report.")
    with transaction.atomic():
        Incident.objects.filter(pk=incident.pk).update(draft_status=DraftStatus.QUEUED)
        record_event(actor=actor, action="incident.draft_requested", target=incident)
        enqueue_after_commit("governance.tasks.build_incident_draft_task", incident.pk)
    incident.refresh_from_db()
    return incident


def art73_context(incident: Incident) -> dict:
    initiatives = list(incident.initiatives.select_related("business_unit", "accountable_owner"))
    versions = list(incident.model_versions.select_related("model__vendor"))
    return {
        "incident": incident,
        "initiatives": initiatives,
        "versions": versions,
        "generated_at": timezone.now(),
        "reports": list(
            incident.reports.select_related("regime").filter(regime__code="eu-ai-act-art-73")
        ),
    }


def incident_draft_build(incident_id: int) -> str:
    """Render the EU AI Act Art. 73 initial-report draft (WeasyPrint) into private storage."""
    incident = Incident.objects.filter(pk=incident_id).first()
    if incident is None:
        return ""
    try:
        import weasyprint  # a heavy import, only where a PDF is made
        from django.conf import settings

        html = render_to_string(DRAFT_TEMPLATE, art73_context(incident))
        pdf = weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
    except Exception:  # noqa: BLE001 - the status tells the page; the task logs it
        Incident.objects.filter(pk=incident_id).update(draft_status=DraftStatus.FAILED)
        raise
    with transaction.atomic():
        incident.draft_file.save(
            f"{incident.reference}-art73-initial-draft.pdf", ContentFile(pdf), save=False
        )
        Incident.objects.filter(pk=incident_id).update(
            draft_file=incident.draft_file.name, draft_status=DraftStatus.READY
        )
    return DraftStatus.READY


REGIME_FIELDS = (
    "name",
    "legal_basis",
    "recipient",
    "conditions",
    "deadlines",
    "initial_may_be_incomplete",
    "warn_before_hours",
    "escalate_before_hours",
    "is_active",
    "notes",
)


def regime_update(*, actor, regime: ReportingRegime, data: dict) -> ReportingRegime:
    """Admins edit a regime. Reports already given keep their due times."""
    from core.services import update_audited
    from governance.incidents.permissions import can_edit_regimes
    from governance.incidents.regimes import regime_errors

    if not can_edit_regimes(actor):
        raise PermissionDenied("Only CoE admins edit reporting regimes.")

    def validate(locked, after):
        locked.full_clean()
        errors = regime_errors(locked.conditions, locked.deadlines)
        if errors:
            raise ValidationError(errors)

    return update_audited(
        regime,
        actor=actor,
        action="reporting_regime.updated",
        data=data,
        fields=REGIME_FIELDS,
        validate=validate,
    )
