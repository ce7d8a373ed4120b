"""Reads of the incident register, always scoped first: a person sees an incident when they
can see one of its initiatives (``portfolio.initiatives.selectors.scope_initiatives``);
anything else is a 404."""

import json
from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from core.audit import object_type_of
from core.models import AuditEvent
from core.permissions import reads_whole_organisation
from governance.incidents.choices import IncidentStatus, Severity
from governance.incidents.models import CorrectiveAction, Incident, IncidentReport, ReportingRegime
from portfolio.initiatives.models import Initiative
from portfolio.initiatives.selectors import scope_initiatives


def scope_incidents(queryset: QuerySet[Incident], user) -> QuerySet[Incident]:
    if reads_whole_organisation(user):
        return queryset
    visible = scope_initiatives(Initiative.objects.filter(incidents=OuterRef("pk")), user)
    return queryset.filter(Exists(visible))


def incident_list(*, user) -> QuerySet[Incident]:
    """The register's rows: each with its initiatives and open-report counts, in a fixed
    number of queries."""
    now = timezone.now()
    queryset = Incident.objects.select_related("owner", "reporter").prefetch_related(
        Prefetch("initiatives", queryset=Initiative.objects.only("id", "reference", "title"))
    )
    return (
        scope_incidents(queryset, user)
        .annotate(
            reports_open=Count(
                "reports", filter=Q(reports__submitted_at__isnull=True), distinct=True
            ),
            reports_missed=Count(
                "reports",
                filter=Q(reports__submitted_at__isnull=True, reports__due_at__lt=now),
                distinct=True,
            ),
        )
        .order_by("-became_aware_at", "-pk")
    )


def incident_get(*, user, pk) -> Incident:
    queryset = Incident.objects.select_related("owner", "reporter").prefetch_related(
        "initiatives__business_unit", "model_versions__model", "business_units"
    )
    return get_object_or_404(scope_incidents(queryset, user), pk=pk)


def incident_reports(*, incident: Incident) -> list[IncidentReport]:
    return list(incident.reports.select_related("regime", "submitted_by"))


def incident_actions(*, incident: Incident) -> list[CorrectiveAction]:
    return list(incident.actions.select_related("owner", "waived_by"))


def incident_timeline(*, incident: Incident) -> list[dict]:
    """The incident's moments (detected, aware, causal link) and its audited events, oldest
    first."""
    entries = [
        {"at": incident.detected_at, "what": "Detected", "who": None},
        {"at": incident.became_aware_at, "what": "Became aware", "who": None},
    ]
    if incident.causal_link_at:
        entries.append(
            {"at": incident.causal_link_at, "what": "Causal link established", "who": None}
        )
    events = AuditEvent.objects.filter(
        object_type=object_type_of(incident), object_id=str(incident.pk)
    ).select_related("actor")
    for event in events.order_by("sequence"):
        entries.append({"at": event.created_at, "what": _describe(event), "who": event.actor})
    return sorted(entries, key=lambda entry: entry["at"])


def _describe(event) -> str:
    after = json.loads(event.payload).get("after") or {}
    labels = {
        "incident.reported": "Reported",
        "incident.transitioned": f"Status → {after.get('status', '')}",
        "incident.updated": "Details changed",
        "incident.report_recorded": f"Report recorded: {after.get('report', '')}",
        "incident.action_added": f"Corrective action: {after.get('title', '')}",
        "incident.action_completed": f"Action done: {after.get('title', '')}",
        "incident.action_waived": f"Action waived: {after.get('title', '')}",
        "incident.initiative_paused": f"Initiative paused: {after.get('initiative', '')}",
        "incident.deadline_warned": f"Deadline warning: {after.get('report', '')}",
        "incident.deadline_escalated": f"Escalated to risk: {after.get('report', '')}",
    }
    return labels.get(event.action, event.action)


def initiative_incidents(*, user, initiative: Initiative) -> list[Incident]:
    """The incidents of an initiative the user already sees (the initiative page, the dossier)."""
    return list(
        scope_incidents(Incident.objects.filter(initiatives=initiative), user).select_related(
            "owner"
        )
    )


def incident_panel(*, user, now=None) -> dict:
    """The dashboard panel in one query: open incidents by severity, reports due within 7
    days and missed deadlines, over the incidents the user sees."""
    now = now or timezone.now()
    week = now + timedelta(days=7)
    open_incident = ~Q(status=IncidentStatus.CLOSED)
    unsent = Q(reports__submitted_at__isnull=True)
    figures = {
        f"open_{severity}": Count("pk", filter=open_incident & Q(severity=severity), distinct=True)
        for severity in Severity.values
    }
    figures["due_soon"] = Count(
        "reports", filter=unsent & Q(reports__due_at__gte=now, reports__due_at__lte=week)
    )
    figures["missed"] = Count("reports", filter=unsent & Q(reports__due_at__lt=now))
    counts = scope_incidents(Incident.objects.all(), user).aggregate(**figures)
    return {
        "by_severity": [
            (value, label, counts[f"open_{value}"]) for value, label in Severity.choices
        ],
        "open_total": sum(counts[f"open_{value}"] for value in Severity.values),
        "due_soon": counts["due_soon"],
        "missed": counts["missed"],
    }


def regime_list() -> QuerySet[ReportingRegime]:
    return ReportingRegime.objects.all()


def incidents_flagging(initiative: Initiative) -> QuerySet[Incident]:
    """Incidents of the initiative that call for a risk reassessment (SEV1/SEV2 or serious)."""
    from governance.incidents.choices import REASSESSMENT_SEVERITIES, SERIOUS_CATEGORIES

    return Incident.objects.filter(initiatives=initiative).filter(
        Q(severity__in=REASSESSMENT_SEVERITIES) | Q(category__in=SERIOUS_CATEGORIES)
    )
