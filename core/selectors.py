"""Reads for the organisation, scoped to what the user may see."""

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from core.models import BusinessUnit, Notification
from core.permissions import business_unit_ids, reads_whole_organisation


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
