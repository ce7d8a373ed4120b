"""Reads for the organisation, scoped to what the user may see."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Q, QuerySet
from django.shortcuts import get_object_or_404

from core.models import (
    AuditEvent,
    AuditVerification,
    BusinessUnit,
    Notification,
    Webhook,
    WebhookDelivery,
)
from core.permissions import business_unit_ids, can_manage_webhooks, reads_whole_organisation


def business_unit_list(*, user) -> QuerySet[BusinessUnit]:
    units = BusinessUnit.objects.select_related("parent", "head")
    if reads_whole_organisation(user):
        return units
    return units.filter(pk__in=business_unit_ids(user))


def business_unit_get(*, user, pk) -> BusinessUnit:
    return get_object_or_404(business_unit_list(user=user), pk=pk)


def unread_notification_count(*, user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_list(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def users_with_roles(roles, *, also=()) -> QuerySet:
    """Active users holding any of ``roles`` in some business unit, plus the users whose ids
    are in ``also`` (e.g. an object's owners), each once. The caller orders them."""
    wanted = Q(memberships__role__in=list(roles))
    if also:
        wanted |= Q(pk__in=[pk for pk in also if pk is not None])
    return get_user_model().objects.filter(wanted, is_active=True).distinct()


# --- The audit log (issue 19): who reads which events -------------------------------------

# Object types whose events a BU lead may read: model class -> path of its business unit.
# Higher apps fill it in ``AppConfig.ready()`` (core never imports them).
AUDIT_SUBJECTS: dict = {}
AUDIT_HISTORY_LENGTH = 20


def register_audit_subject(model, unit_path: str) -> None:
    """Let events about ``model`` rows be scoped by the business unit at ``unit_path``
    (e.g. ``"business_unit"`` or ``"initiative__business_unit"``)."""
    AUDIT_SUBJECTS[model] = unit_path


def events_in_units(unit_ids) -> Q:
    """Events whose object belongs to one of ``unit_ids`` (a subquery per registered type)."""
    from django.db.models import CharField
    from django.db.models.functions import Cast

    from core.audit import object_type_of

    condition = Q(pk__in=[])
    for model, unit_path in AUDIT_SUBJECTS.items():
        keys = (
            model._default_manager.filter(**{f"{unit_path}__in": list(unit_ids)})
            .order_by()
            .annotate(audit_key=Cast("pk", CharField()))
            .values("audit_key")
        )
        condition |= Q(object_type=object_type_of(model), object_id__in=keys)
    return condition


def audit_event_list(*, user) -> QuerySet[AuditEvent]:
    """The audit events ``user`` may read, newest first: every event for the audit readers
    (administrators, CoE admins, risk officers), the events about their units' objects for a
    BU lead, none otherwise."""
    from core.permissions import audit_log_unit_ids, can_view_audit_log

    events = AuditEvent.objects.select_related("actor").order_by("-sequence")
    if not can_view_audit_log(user):
        return events.none()
    scope = audit_log_unit_ids(user)
    if scope is not None:
        events = events.filter(events_in_units(scope))
    return events


def audit_event_get(*, user, pk) -> AuditEvent:
    return get_object_or_404(audit_event_list(user=user), pk=pk)


def audit_history(*, targets, limit=AUDIT_HISTORY_LENGTH) -> list[AuditEvent]:
    """The newest ``limit`` events about ``targets`` (objects the caller already resolved
    through their own scoped selector), one query."""
    from core.audit import object_type_of

    condition = Q(pk__in=[])
    for target in targets:
        condition |= Q(object_type=object_type_of(target), object_id=str(target.pk))
    return list(
        AuditEvent.objects.filter(condition).select_related("actor").order_by("-sequence")[:limit]
    )


def audit_verification_latest():
    """The most recent stored verification of the whole chain, or None."""
    return AuditVerification.objects.order_by("-checked_at", "-pk").first()


def history_context(*, user, target, also=()) -> dict:
    """What the History section (``core/partials/_audit_history.html``) shows for ``target``
    (and the ``also`` objects, e.g. a model's versions): its newest events, and, for a
    reader of the audit log, the audit-log filter that lists all of them."""
    from urllib.parse import urlencode

    from core.audit import object_type_of
    from core.permissions import can_view_audit_log

    return {
        "history": audit_history(targets=[target, *also]),
        "history_linked": can_view_audit_log(user),
        "history_query": urlencode(
            {"object_type": object_type_of(target), "object_id": str(target.pk)}
        ),
    }


# --- Webhooks (issue 19): administrators and CoE admins only --------------------------------

WEBHOOK_RECENT_DELIVERIES = 25


def webhook_list(*, user) -> QuerySet[Webhook]:
    """Every webhook with its unit, delivery count, last delivery time and failing count (a
    delivery not succeeded yet); 403 for anyone who does not manage webhooks."""
    if not can_manage_webhooks(user):
        raise PermissionDenied("Only administrators and CoE admins manage webhooks.")
    return Webhook.objects.select_related("business_unit").annotate(
        delivery_count=Count("deliveries"),
        failing_count=Count("deliveries", filter=Q(deliveries__succeeded_at__isnull=True)),
        last_delivery_at=Max("deliveries__created_at"),
    )


def webhook_get(*, user, pk) -> Webhook:
    return get_object_or_404(webhook_list(user=user), pk=pk)


def webhook_recent_deliveries(*, webhook, limit=WEBHOOK_RECENT_DELIVERIES):
    """The webhook's newest deliveries (real events and tests), newest first."""
    return list(
        WebhookDelivery.objects.filter(webhook=webhook).order_by("-created_at", "-pk")[:limit]
    )
