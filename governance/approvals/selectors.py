"""Reads of approval requests, scoped through the initiatives the user may see."""

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from core.permissions import reads_whole_organisation, roles_of
from governance.approvals.models import ApprovalRequest, Decision, Escalation
from portfolio.initiatives.models import Initiative
from portfolio.initiatives.selectors import scope_initiatives


def request_list(*, user) -> QuerySet[ApprovalRequest]:
    """Requests on initiatives the user may see, with what the queue shows."""
    visible = scope_initiatives(Initiative.objects.all(), user).values("pk")
    queryset = ApprovalRequest.objects.select_related(
        "initiative__business_unit", "submitted_by"
    ).annotate(decision_count=Count("decisions", distinct=True))
    if reads_whole_organisation(user):
        return queryset
    return queryset.filter(initiative__in=visible)


def request_queue(*, user, scope: str = "role") -> QuerySet[ApprovalRequest]:
    """Requests for the reviewer's queue, most urgent first (decided ones, which have no due
    time, last). ``scope``: ``mine`` (pending, awaiting a role I hold, and decidable by me
    now: separation of duties allows it and I have not counted at this step yet), ``role``
    (pending and awaiting a role I hold), or ``all`` (every visible request)."""
    requests = request_list(user=user)
    if scope != "all":
        requests = _awaiting_roles_of(requests.filter(status="pending"), user)
    if scope == "mine":
        requests = _decidable_by(requests, user)
    return requests.order_by(F("step_due_at").asc(nulls_last=True), "pk")


def _awaiting_roles_of(requests, user):
    roles = roles_of(user)
    if not roles:
        return requests.none()
    # The engine keeps the roles that may decide now on the request (",role,role,").
    condition = Q()
    for role in roles:
        condition |= Q(acting_roles__contains=f",{role},")
    return requests.filter(condition)


def _decidable_by(requests, user):
    """Neither submitted by ``user`` nor of an initiative they own or lead, and not yet
    decided by them (or for them) at the current step of the current round."""
    decided = Decision.objects.filter(
        request=OuterRef("pk"), round=OuterRef("round"), step_index=OuterRef("current_step")
    ).filter(Q(approver=user) | Q(on_behalf_of=user))
    return (
        requests.exclude(submitted_by=user)
        .exclude(initiative__accountable_owner=user)
        .exclude(initiative__technical_lead=user)
        .exclude(Exists(decided))
    )


def requests_about(*, user, subject_type: str, subject_ids) -> QuerySet[ApprovalRequest]:
    """Visible requests about these subjects (e.g. the release requests of model versions),
    newest first."""
    return (
        request_list(user=user)
        .filter(subject_type=subject_type, subject_id__in=[str(pk) for pk in subject_ids])
        .order_by("-submitted_at", "-pk")
    )


def request_get(*, user, pk) -> ApprovalRequest:
    return get_object_or_404(
        request_list(user=user).select_related("initiative__accountable_owner", "policy"), pk=pk
    )


def timeline_prefetches() -> tuple[Prefetch, Prefetch]:
    """Prefetch a list of requests' decisions and escalations with the people they show,
    for ``timeline_of`` (the governance dossier lists every request of an initiative)."""
    return (
        Prefetch("decisions", queryset=Decision.objects.select_related("approver", "on_behalf_of")),
        Prefetch("escalations", queryset=Escalation.objects.select_related("raised_by")),
    )


def timeline_of(decisions, escalations) -> list[tuple[str, object, object]]:
    """``("decision" | "escalation", time, row)`` of every round, oldest first."""
    events = [("decision", d.created_at, d) for d in decisions] + [
        ("escalation", e.created_at, e) for e in escalations
    ]
    return sorted(events, key=lambda item: (item[1], item[0]))


def request_timeline(*, request: ApprovalRequest):
    """Decisions and escalations of every round, oldest first (two queries)."""
    return timeline_of(
        request.decisions.select_related("approver", "on_behalf_of"),
        request.escalations.select_related("raised_by"),
    )


def overdue_count(*, user) -> int:
    return request_list(user=user).filter(status="pending", step_due_at__lt=timezone.now()).count()
