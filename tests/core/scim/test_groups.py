"""SCIM Groups: membership changes grant and take the mapped roles, Entra's and Okta's group
requests, verbatim; a manual membership is never touched."""

import json
import uuid

from django.contrib.auth import get_user_model

from core.choices import GrantedVia, Role
from core.models import (
    AuditEvent,
    DirectoryGroup,
    GroupMapping,
    Membership,
)
from tests.core.scim.helpers import (
    call,
    create,
    give_id,
)
from tests.core.scim.payloads import (
    BJENSEN_ID,
    ENTRA_ADD_MEMBER,
    ENTRA_CREATE_GROUP,
    ENTRA_CREATE_USER,
    ENTRA_MEMBER_ID,
    ENTRA_REMOVE_MEMBER,
    ENTRA_REMOVE_MEMBER_FLAG,
    ENTRA_USER_NAME,
    MANDY_ID,
    OKTA_ADD_MEMBER,
    OKTA_CREATE_GROUP,
    OKTA_CREATE_USER,
    OKTA_GROUP_ID,
    OKTA_MEMBER_ID,
    OKTA_RENAME_GROUP,
    RFC_ADD_MEMBER,
    RFC_CREATE_USER,
    RFC_GROUP,
    RFC_REMOVE_MEMBER,
)


def test_group_with_members_grants_the_mapped_role_and_removing_a_member_takes_it(
    directory, admin, unit_a
):
    GroupMapping.objects.create(group="Tour Guides", business_unit=unit_a, role=Role.BU_LEAD)
    create(directory, RFC_CREATE_USER)
    create(directory, {"userName": "mpepperidge", "name": {"givenName": "Mandy"}})
    give_id("bjensen", BJENSEN_ID)
    give_id("mpepperidge", MANDY_ID)

    response = call(directory, "post", "Groups", RFC_GROUP)
    assert response.status_code == 201, response.content
    group = response.json()
    assert group["displayName"] == "Tour Guides" and group["meta"]["resourceType"] == "Group"
    assert sorted(m["value"] for m in group["members"]) == sorted([BJENSEN_ID, MANDY_ID])
    for username in ("bjensen", "mpepperidge"):
        held = Membership.objects.get(user__username=username)
        assert (held.business_unit, held.role, held.granted_via) == (
            unit_a,
            Role.BU_LEAD,
            GrantedVia.SCIM,
        )
    assert AuditEvent.objects.filter(action="membership.synced").count() == 2
    babs = call(directory, "get", f"Users/{BJENSEN_ID}").json()
    assert babs["groups"][0]["display"] == "Tour Guides"

    response = call(directory, "patch", f"Groups/{group['id']}", RFC_REMOVE_MEMBER)
    assert response.status_code == 204, response.content
    assert not Membership.objects.filter(user__username="bjensen").exists()
    assert Membership.objects.filter(user__username="mpepperidge").exists()
    event = AuditEvent.objects.get(action="scim.group_updated")
    assert event.actor == admin and '"members_removed":["bjensen"]' in event.payload

    response = call(directory, "patch", f"Groups/{group['id']}", RFC_ADD_MEMBER)
    assert response.status_code == 204
    assert Membership.objects.get(user__username="bjensen").granted_via == GrantedVia.SCIM


def test_entra_group_create_add_member_and_remove_it_both_ways(directory, unit_a):
    GroupMapping.objects.create(
        provider="scim", group="displayName", business_unit=unit_a, role=Role.BU_MEMBER
    )
    person = create(directory, ENTRA_CREATE_USER)
    response = call(directory, "post", "Groups", ENTRA_CREATE_GROUP)
    assert response.status_code == 201, response.content
    group = response.json()
    assert group["members"] == [] and group["externalId"] == "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"
    by_name = call(
        directory, "get", 'Groups?excludedAttributes=members&filter=displayName eq "displayName"'
    ).json()
    assert by_name["totalResults"] == 1 and "members" not in by_name["Resources"][0]

    add = ENTRA_ADD_MEMBER.replace(ENTRA_MEMBER_ID, person["id"])
    assert call(directory, "patch", f"Groups/{group['id']}", add).status_code == 204
    membership = Membership.objects.get(user__username=ENTRA_USER_NAME)
    assert membership.granted_via == GrantedVia.SCIM and membership.role == Role.BU_MEMBER

    remove = ENTRA_REMOVE_MEMBER.replace("u1091", person["id"])
    assert call(directory, "patch", f"Groups/{group['id']}", remove).status_code == 204
    assert not Membership.objects.filter(user__username=ENTRA_USER_NAME).exists()

    assert call(directory, "patch", f"Groups/{group['id']}", add).status_code == 204
    give_id(ENTRA_USER_NAME, "7f4bc1a3-285e-48ae-8202-5accb43efb0e")
    response = call(directory, "patch", f"Groups/{group['id']}", ENTRA_REMOVE_MEMBER_FLAG)
    assert response.status_code == 204
    assert not Membership.objects.filter(user__username=ENTRA_USER_NAME).exists()
    assert not DirectoryGroup.objects.get(scim_id=group["id"]).members.exists()


def test_okta_push_groups_rename_moves_the_mapped_role(directory, unit_a, unit_b):
    GroupMapping.objects.create(group="Test SCIM", business_unit=unit_a, role=Role.BU_MEMBER)
    GroupMapping.objects.create(group="Test SCIM2", business_unit=unit_b, role=Role.BU_MEMBER)
    create(directory, OKTA_CREATE_USER)
    give_id("test.user@okta.local", OKTA_MEMBER_ID)
    group = call(directory, "post", "Groups", OKTA_CREATE_GROUP).json()
    DirectoryGroup.objects.filter(scim_id=group["id"]).update(scim_id=uuid.UUID(OKTA_GROUP_ID))

    assert call(directory, "patch", f"Groups/{OKTA_GROUP_ID}", OKTA_ADD_MEMBER).status_code == 204
    assert Membership.objects.get(user__username="test.user@okta.local").business_unit == unit_a

    assert call(directory, "patch", f"Groups/{OKTA_GROUP_ID}", OKTA_RENAME_GROUP).status_code == 204
    held = Membership.objects.get(user__username="test.user@okta.local")
    assert held.business_unit == unit_b and held.granted_via == GrantedVia.SCIM
    assert call(directory, "get", f"Groups/{OKTA_GROUP_ID}").json()["displayName"] == "Test SCIM2"


def test_a_manual_membership_is_never_touched_by_groups(directory, admin, unit_a, unit_b):
    GroupMapping.objects.create(group="Tour Guides", business_unit=unit_a, role=Role.BU_LEAD)
    create(directory, RFC_CREATE_USER)
    person = get_user_model().objects.get(username="bjensen")
    Membership.objects.create(user=person, business_unit=unit_b, role=Role.BU_MEMBER)
    give_id("bjensen", BJENSEN_ID)
    body = json.loads(RFC_GROUP)
    body["members"] = body["members"][:1]
    group = call(directory, "post", "Groups", body).json()
    assert call(directory, "delete", f"Groups/{group['id']}").status_code == 204
    assert list(Membership.objects.filter(user=person).values_list("granted_via", flat=True)) == [
        GrantedVia.MANUAL
    ]
    assert AuditEvent.objects.filter(action="scim.group_deleted", actor=admin).count() == 1
    assert not DirectoryGroup.objects.exists()
