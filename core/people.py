"""People and access inside Keel (issue 18, item 5): the People page's reads and writes for CoE
admins and administrators — search, invite by email, grant and remove memberships, change a
role, deactivate and reactivate — every change in the audit chain. Separation of duties:
nobody changes their own access (another admin must).

Membership grants go through ``core.services.membership_grant`` (the one grant, also used by
the demo); what is here adds the People-page rules around it.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.text import slugify

from core.audit import record_event
from core.choices import Role
from core.models import Membership
from core.permissions import can_manage_organisation, forget_memberships
from core.services import membership_grant
from core.sessions import sessions_end


def can_manage_people(actor) -> bool:
    return bool(actor.is_authenticated and (actor.is_superuser or can_manage_organisation(actor)))


def _require(actor) -> None:
    if not can_manage_people(actor):
        raise PermissionDenied("Only CoE admins and administrators manage people and access.")


def _not_self(actor, user) -> None:
    if actor.pk == user.pk:
        raise PermissionDenied(
            "Nobody changes their own access: ask another CoE admin (separation of duties)."
        )


def people_list(*, actor, q: str = "", role: str = "", unit=None, status: str = ""):
    """Everyone, with their memberships (one prefetch), filtered; newest sign-in first."""
    _require(actor)
    people = get_user_model().objects.prefetch_related(
        Prefetch(
            "memberships",
            queryset=Membership.objects.select_related("business_unit", "granted_by").order_by(
                "business_unit__name", "role"
            ),
        )
    )
    q = (q or "").strip()
    if q:
        people = people.filter(
            Q(username__icontains=q)
            | Q(email__icontains=q)
            | Q(first_name__icontains=q)
            | Q(last_name__icontains=q)
        )
    if role:
        people = people.filter(memberships__role=role)
    if unit:
        people = people.filter(memberships__business_unit=unit)
    if status == "active":
        people = people.filter(is_active=True)
    elif status == "inactive":
        people = people.filter(is_active=False)
    return people.distinct().order_by("-is_active", "username")


def person_get(*, actor, pk):
    from django.http import Http404

    person = people_list(actor=actor).filter(pk=pk).first()
    if person is None:
        raise Http404("No such person.")
    return person


def person_grant(*, actor, user, business_unit, role: str) -> Membership:
    """Add a membership by hand (audited by ``membership_grant``)."""
    _require(actor)
    _not_self(actor, user)
    if role not in Role.values:
        raise ValidationError({"role": "Choose a role."})
    if Membership.objects.filter(user=user, business_unit=business_unit, role=role).exists():
        raise ValidationError({"role": "They already hold this role in this unit."})
    membership = membership_grant(actor=actor, user=user, business_unit=business_unit, role=role)
    Membership.objects.filter(pk=membership.pk).update(granted_by=actor)
    return membership


def membership_remove(*, actor, membership: Membership) -> None:
    _require(actor)
    _not_self(actor, membership.user)
    with transaction.atomic():
        record_event(
            actor=actor,
            action="membership.revoked",
            target=membership,
            before={
                "user_id": membership.user_id,
                "business_unit_id": membership.business_unit_id,
                "role": membership.role,
                "granted_via": membership.granted_via,
            },
        )
        membership.delete()
    forget_memberships(membership.user)


def membership_change_role(*, actor, membership: Membership, role: str) -> Membership:
    """The same person and unit, another role (audited as one change, old → new)."""
    _require(actor)
    _not_self(actor, membership.user)
    if role not in Role.values:
        raise ValidationError({"role": "Choose a role."})
    if role == membership.role:
        return membership
    if Membership.objects.filter(
        user=membership.user_id, business_unit=membership.business_unit_id, role=role
    ).exists():
        raise ValidationError({"role": "They already hold that role in this unit."})
    with transaction.atomic():
        before = membership.role
        membership.role, membership.granted_via, membership.granted_by = role, "manual", actor
        membership.save(update_fields=["role", "granted_via", "granted_by"])
        record_event(
            actor=actor,
            action="membership.role_changed",
            target=membership,
            before={"role": before},
            after={"role": role},
        )
    forget_memberships(membership.user)
    return membership


def person_set_active(*, actor, user, active: bool, reason: str = ""):
    """Deactivate (every session ends; tokens stop working) or reactivate a person. ``reason``
    says where the change came from when not the People page (SCIM provisioning)."""
    _require(actor)
    _not_self(actor, user)
    if user.is_active == active:
        return user
    with transaction.atomic():
        user.is_active = active
        user.save(update_fields=["is_active"])
        ended = 0 if active else sessions_end(user=user)
        record_event(
            actor=actor,
            action="user.reactivated" if active else "user.deactivated",
            target=user,
            before={"is_active": not active},
            after={"is_active": active, **({} if active else {"sessions_ended": ended})},
            reason=reason,
        )
    return user


def person_invite(*, actor, email: str, first_name: str = "", last_name: str = "", request=None):
    """A new person with no password yet, emailed a link to choose one (Django's reset token,
    so the link works once). Field errors for a missing or taken email."""
    _require(actor)
    email = (email or "").strip().lower()
    errors = {}
    User = get_user_model()
    if not email or "@" not in email:
        errors["email"] = "Enter the person's email address."
    elif User.objects.filter(email__iexact=email).exists():
        errors["email"] = "Someone with this email address already has an account."
    if errors:
        raise ValidationError(errors)
    base = slugify(email.split("@", 1)[0])[:140] or "person"
    username, number = base, 2
    while User.objects.filter(username__iexact=username).exists():
        username, number = f"{base}-{number}", number + 1
    with transaction.atomic():
        user = User(
            username=username,
            email=email,
            first_name=first_name.strip()[:150],
            last_name=last_name.strip()[:150],
        )
        user.set_unusable_password()
        user.save()
        record_event(
            actor=actor,
            action="user.invited",
            target=user,
            after={"username": username, "email": email},
        )
        link = reverse(
            "password_reset_confirm",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
        if request is not None:
            link = request.build_absolute_uri(link)
        transaction.on_commit(
            lambda: send_mail(
                "You are invited to Keel",
                f"{actor.get_full_name() or actor.get_username()} invited you to Keel, the AI "
                f"portfolio of your organisation. Your username is {username}.\n\n"
                f"Choose your password here (the link works once):\n{link}\n",
                None,
                [email],
            )
        )
    return user


def access_contacts(limit: int = 10):
    """Whom someone with no access should ask: active CoE admins (then administrators)."""
    return list(
        get_user_model()
        .objects.filter(is_active=True, memberships__role__in=[Role.COE_ADMIN, Role.ADMIN])
        .distinct()
        .order_by("last_name", "first_name", "username")[:limit]
    )
