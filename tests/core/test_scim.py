"""SCIM 2.0 provisioning (issue 18, item 2), against the real ``/scim/v2/`` endpoints with
Django's test client and the request bodies the publishers document, verbatim where the ids
allow (a resource's id is Keel's, so where a body names one, the test gives the person that id
or puts the created one in its place):

- RFC 7644 §3.3 (create a User), §3.5.2.1 (add members), §3.5.2.2 (remove a member by
  ``members[value eq "…"]``) and RFC 7643 §8.4 (a Group with members);
- Microsoft Entra ID's "Develop a SCIM endpoint" request examples (create a User with the
  enterprise extension, ``filter=userName eq "Test_User_…"``, create a Group, PATCH Add
  member) and its "Known issues … SCIM 2.0 protocol compliance" page (PATCH ``"Replace"``
  ``active`` ``"False"``, replace several attributes with and without the
  ``aadOptscim062020`` flag, remove a member both ways);
- Okta's "SCIM 2.0 Protocol Reference" (create, paged filter, PUT, PATCH ``replace`` with
  ``{"active": false}`` and no path, Push Groups: create, add member, rename with the id in the
  value).
"""

import json
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core import tokens
from core.choices import GrantedVia, Role, TokenScope
from core.models import (
    AuditEvent,
    DirectoryGroup,
    GroupMapping,
    Membership,
    ScimIdentity,
    UserSession,
)
from tests.factories import UserFactory, member

SCIM = "application/scim+json"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

# RFC 7644 §3.3.
RFC_CREATE_USER = """{
  "schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
  "userName":"bjensen",
  "externalId":"bjensen",
  "name":{
    "formatted":"Ms. Barbara J Jensen III",
    "familyName":"Jensen",
    "givenName":"Barbara"
  }
}"""
BJENSEN_ID = "2819c223-7f76-453a-919d-413861904646"  # her id in RFC 7643 §8 and 7644 §3.5.2
MANDY_ID = "902c246b-6245-4190-8e05-00816be7344a"
# RFC 7643 §8.4 (the Group resource; its id and meta are the server's, so left out).
RFC_GROUP = """{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
  "displayName": "Tour Guides",
  "members": [
    {
      "value": "2819c223-7f76-453a-919d-413861904646",
      "$ref":
"https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
      "display": "Babs Jensen"
    },
    {
      "value": "902c246b-6245-4190-8e05-00816be7344a",
      "$ref":
"https://example.com/v2/Users/902c246b-6245-4190-8e05-00816be7344a",
      "display": "Mandy Pepperidge"
    }
  ]
}"""
# RFC 7644 §3.5.2.1.
RFC_ADD_MEMBER = """{ "schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations":[
    {
     "op":"add",
     "path":"members",
     "value":[
      {
        "display": "Babs Jensen",
        "$ref":
"https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
        "value": "2819c223-7f76-453a-919d-413861904646"
      }
     ]
    }
  ]
}"""
# RFC 7644 §3.5.2.2, the id written out (the RFC abbreviates it "2819c223-7f76-...413861904646").
RFC_REMOVE_MEMBER = """{ "schemas":
    ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations":[{
    "op":"remove",
    "path":"members[value eq \\"2819c223-7f76-453a-919d-413861904646\\"]"
  }]
}"""

# Microsoft Entra ID, "Develop a SCIM endpoint": Create User.
ENTRA_CREATE_USER = """{
    "schemas": [
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
    "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
    "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
    "active": true,
    "emails": [{
        "primary": true,
        "type": "work",
        "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"
    }],
    "meta": {
        "resourceType": "User"
    },
    "name": {
        "formatted": "givenName familyName",
        "familyName": "familyName",
        "givenName": "givenName"
    },
    "roles": []
}"""
ENTRA_USER_NAME = "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1"
# Entra: Create Group (with the Microsoft schema beside the core one).
ENTRA_CREATE_GROUP = """{
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
    "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
    "displayName": "displayName",
    "meta": {
        "resourceType": "Group"
    }
}"""
# Entra: Update Group [Add Members]; the id ("f648f8d5ea4e4cd38e9c") is put in its place.
ENTRA_ADD_MEMBER = """{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "Add",
        "path": "members",
        "value": [{
            "$ref": null,
            "value": "f648f8d5ea4e4cd38e9c"
        }]
    }]
}"""
ENTRA_MEMBER_ID = "f648f8d5ea4e4cd38e9c"
# Entra, "Known issues" page: "Requests made to disable users", without the feature flag.
ENTRA_DISABLE_USER = """{
    "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    ],
    "Operations": [
        {
            "op": "Replace",
            "path": "active",
            "value": "False"
        }
    ]
}"""
# Entra, "Known issues": "Requests to replace multiple attributes", without the flag …
ENTRA_REPLACE_ATTRIBUTES = """{
    "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    ],
    "Operations": [
        {
            "op": "Replace",
            "path": "displayName",
            "value": "Pvlo"
        },
        {
            "op": "Replace",
            "path": "emails[type eq \\"work\\"].value",
            "value": "TestBcwqnm@test.microsoft.com"
        },
        {
            "op": "Replace",
            "path": "name.givenName",
            "value": "Gtfd"
        },
        {
            "op": "Replace",
            "path": "name.familyName",
            "value": "Pkqf"
        },
        {
            "op": "Replace",
            "path": "externalId",
            "value": "Eqpj"
        },
        {
            "op": "Replace",
            "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
            "value": "Eqpj"
        }
    ]
}"""
# … and with it (an object of paths as the value).
ENTRA_REPLACE_ATTRIBUTES_FLAG = """{
    "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    ],
    "Operations": [
        {
            "op": "replace",
            "path": "emails[type eq \\"work\\"].value",
            "value": "TestMhvaes@test.microsoft.com"
        },
        {
            "op": "replace",
            "value": {
                "displayName": "Bjfe",
                "name.givenName": "Kkom",
                "name.familyName": "Unua",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq"
            }
        }
    ]
}"""
# Entra, "Known issues": "Requests made to remove a group member", without the flag (id "u1091"
# put in its place) and with it.
ENTRA_REMOVE_MEMBER = """{
    "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    ],
    "Operations": [
        {
            "op": "Remove",
            "path": "members",
            "value": [
                {
                    "value": "u1091"
                }
            ]
        }
    ]
}"""
ENTRA_REMOVE_MEMBER_FLAG = """{
    "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    ],
    "Operations": [
        {
            "op": "remove",
            "path": "members[value eq \\"7f4bc1a3-285e-48ae-8202-5accb43efb0e\\"]"
        }
    ]
}"""

# Okta, "SCIM 2.0 Protocol Reference": Create the user, and the password its SCIM test sends.
OKTA_CREATE_USER = """{
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "userName": "test.user@okta.local",
    "name": {
        "givenName": "Test",
        "familyName": "User"
    },
    "emails": [{
        "primary": true,
        "value": "test.user@okta.local",
        "type": "work"
    }],
    "displayName": "Test User",
    "locale": "en-US",
    "externalId": "00ujl29u0le5T6Aj10h7",
    "groups": [],
    "password": "1mz050nq",
    "active": true
}"""
OKTA_USER_ID = "23a35c27-23d3-4c03-b4c5-6443c09e7173"
# Okta: Update the user profile (PUT).
OKTA_PUT_USER = """{
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "id": "23a35c27-23d3-4c03-b4c5-6443c09e7173",
    "userName": "another.user@okta.com",
    "name": {
        "givenName": "Another",
        "middleName": "",
        "familyName": "User"
    },
    "emails": [{
        "primary": true,
        "value": "another.user@example.com",
        "type": "work",
        "display": "another.user@example.com"
    }],
    "active": true,
    "groups": [],
    "meta": {
        "resourceType": "User"
    }
}"""
# Okta: deactivating a user.
OKTA_DEACTIVATE_USER = """{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "replace",
        "value": {
            "active": false
        }
    }]
}"""
# Okta Push Groups: create, rename (the group's own id in the value), add a member.
OKTA_CREATE_GROUP = """{
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
    "displayName": "Test SCIM",
    "members": []
}"""
OKTA_GROUP_ID = "abf4dd94-a4c0-4f67-89c9-76b03340cb9b"
OKTA_RENAME_GROUP = """{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "replace",
        "value": {
            "id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b",
            "displayName": "Test SCIM2"
        }
    }]
}"""
OKTA_ADD_MEMBER = """{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "add",
        "path": "members",
        "value": [{
            "value": "1baf6a44-70e0-44ef-a043-3a546116799f",
            "display": "test.user@example.com"
        }]
    }]
}"""
OKTA_MEMBER_ID = "1baf6a44-70e0-44ef-a043-3a546116799f"


@pytest.fixture
def admin(unit_a):
    return member(Role.ADMIN, unit_a, username="idp-provisioning")


@pytest.fixture
def directory(admin):
    """The identity provider: a client with the admin's read-and-write token."""
    _, key = tokens.token_create(actor=admin, name="Entra ID", scope=TokenScope.READ_WRITE)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def call(client, method: str, path: str, body=None, **extra):
    """A SCIM request; ``body`` a dict or the publisher's JSON text as is."""
    if body is not None and not isinstance(body, str):
        body = json.dumps(body)
    kwargs = {"content_type": SCIM} if body is not None else {}
    return getattr(client, method)(f"/scim/v2/{path}", *([body] if body else []), **kwargs, **extra)


def scim_error(response, status: int, scim_type: str = "") -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == SCIM
    body = response.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status) and body["detail"]
    assert body.get("scimType", "") == scim_type
    return body


def give_id(username: str, scim_id: str) -> None:
    """The id a publisher's body names, given to the person it means."""
    user = get_user_model().objects.get(username=username)
    ScimIdentity.objects.update_or_create(user=user, defaults={"scim_id": uuid.UUID(scim_id)})


def create(directory, body) -> dict:
    response = call(directory, "post", "Users", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_rfc_create_user_then_the_filters_find_it(directory, admin):
    response = call(directory, "post", "Users", RFC_CREATE_USER)
    assert response.status_code == 201 and response["Content-Type"] == SCIM
    created = response.json()
    assert created["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:User"]
    assert created["userName"] == "bjensen" and created["externalId"] == "bjensen"
    assert created["name"]["givenName"] == "Barbara" and created["active"] is True
    meta = created["meta"]
    assert meta["resourceType"] == "User" and meta["created"] and meta["lastModified"]
    assert meta["location"] == f"http://testserver/scim/v2/Users/{created['id']}"
    assert response["Location"] == meta["location"]

    person = get_user_model().objects.get(username="bjensen")
    assert (person.first_name, person.last_name) == ("Barbara", "Jensen")
    assert not person.has_usable_password() and not person.is_superuser
    event = AuditEvent.objects.get(action="scim.user_created")
    assert event.actor == admin and event.object_id == str(person.pk)

    for query in ('userName eq "bjensen"', 'userName eq "BJensen"', 'externalId eq "bjensen"'):
        found = call(directory, "get", "Users", data={"filter": query}).json()
        assert found["schemas"] == [LIST] and found["totalResults"] == 1, query
        assert found["Resources"][0]["id"] == created["id"]
    # externalId is case-exact (RFC 7643 §3.1), userName is not.
    assert (
        call(directory, "get", "Users", data={"filter": 'externalId eq "BJENSEN"'}).json()[
            "totalResults"
        ]
        == 0
    )
    assert call(directory, "get", f"Users/{created['id']}").json()["userName"] == "bjensen"


def test_entra_create_user_and_its_filter(directory):
    created = create(directory, ENTRA_CREATE_USER)
    assert created["userName"] == ENTRA_USER_NAME
    assert created["emails"] == [
        {
            "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com",
            "type": "work",
            "primary": True,
        }
    ]
    found = call(directory, "get", f'Users?filter=userName eq "{ENTRA_USER_NAME}"').json()
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == created["id"]
    # Entra's "Test connection" and its zero-result example: an empty list, not an error.
    none = call(directory, "get", 'Users?filter=userName eq "non-existent user"').json()
    assert none == {
        "schemas": [LIST],
        "totalResults": 0,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    }


def test_okta_create_user_ignores_the_password_and_its_paged_filter_finds_it(directory):
    created = create(directory, OKTA_CREATE_USER)
    person = get_user_model().objects.get(username="test.user@okta.local")
    assert not person.has_usable_password()  # provisioned people sign in through SSO
    assert (
        person.email == "test.user@okta.local" and created["externalId"] == "00ujl29u0le5T6Aj10h7"
    )
    found = call(
        directory,
        "get",
        "Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100",
    ).json()
    assert found["totalResults"] == 1 and found["startIndex"] == 1


def test_duplicate_user_name_is_409_uniqueness_whatever_its_case(directory):
    create(directory, RFC_CREATE_USER)
    scim_error(call(directory, "post", "Users", RFC_CREATE_USER), 409, "uniqueness")
    again = json.loads(RFC_CREATE_USER) | {"userName": "BJensen"}
    scim_error(call(directory, "post", "Users", again), 409, "uniqueness")
    assert get_user_model().objects.filter(username__iexact="bjensen").count() == 1
    assert AuditEvent.objects.filter(action="scim.user_created").count() == 1


def test_an_existing_keel_user_is_found_by_the_directory_and_gets_an_id(directory, member_a):
    found = call(directory, "get", 'Users?filter=userName eq "alice"').json()
    assert found["totalResults"] == 1
    scim_id = found["Resources"][0]["id"]
    assert ScimIdentity.objects.get(user=member_a).scim_id == uuid.UUID(scim_id)
    again = call(directory, "get", 'Users?filter=userName eq "alice"').json()
    assert again["Resources"][0]["id"] == scim_id  # stable


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


def signed_in_with_a_token(username: str):
    """The person's browser session and an API token of theirs (both must die)."""
    person = get_user_model().objects.get(username=username)
    browser = Client()
    browser.force_login(person)
    assert UserSession.objects.filter(user=person).count() == 1
    _, key = tokens.token_create(actor=person, name="laptop")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get("/api/v1/initiatives/").status_code == 200
    return person, browser, api


@pytest.mark.parametrize(
    ("body", "who"), [(ENTRA_DISABLE_USER, "Entra"), (OKTA_DEACTIVATE_USER, "Okta")]
)
def test_deactivation_ends_sessions_and_tokens(directory, admin, body, who):
    created = create(directory, ENTRA_CREATE_USER)
    person, browser, api = signed_in_with_a_token(ENTRA_USER_NAME)

    response = call(directory, "patch", f"Users/{created['id']}", body)
    assert response.status_code == 200, (who, response.content)
    assert response.json()["active"] is False
    person.refresh_from_db()
    assert person.is_active is False
    assert not UserSession.objects.filter(user=person).exists()
    assert browser.get("/").status_code == 302  # sent to sign in
    refused = api.get("/api/v1/initiatives/")
    assert refused.status_code == 401 and "deactivated" in refused.json()["detail"]
    event = AuditEvent.objects.get(action="user.deactivated")
    assert event.actor == admin and event.reason == "SCIM provisioning (PATCH)"
    assert '"sessions_ended":1' in event.payload
    # The same request again changes nothing and writes nothing.
    assert call(directory, "patch", f"Users/{created['id']}", body).status_code == 200
    assert AuditEvent.objects.filter(action="user.deactivated").count() == 1


def test_reactivation_with_entra_true_string(directory):
    created = create(directory, ENTRA_CREATE_USER)
    call(directory, "patch", f"Users/{created['id']}", ENTRA_DISABLE_USER)
    again = ENTRA_DISABLE_USER.replace('"False"', '"True"')
    assert call(directory, "patch", f"Users/{created['id']}", again).json()["active"] is True
    assert get_user_model().objects.get(username=ENTRA_USER_NAME).is_active
    assert AuditEvent.objects.filter(action="user.reactivated").count() == 1


def test_delete_deactivates_keeps_the_account_and_ends_the_scim_id(directory, unit_a):
    GroupMapping.objects.create(group="Tour Guides", business_unit=unit_a, role=Role.BU_LEAD)
    create(directory, RFC_CREATE_USER)
    give_id("bjensen", BJENSEN_ID)
    body = json.loads(RFC_GROUP)
    body["members"] = body["members"][:1]
    call(directory, "post", "Groups", body)
    person, _browser, api = signed_in_with_a_token("bjensen")

    assert call(directory, "delete", f"Users/{BJENSEN_ID}").status_code == 204
    person.refresh_from_db()
    assert person.is_active is False and not UserSession.objects.filter(user=person).exists()
    assert api.get("/api/v1/initiatives/").status_code == 401
    assert not Membership.objects.filter(user=person).exists()
    scim_error(call(directory, "get", f"Users/{BJENSEN_ID}"), 404)
    assert AuditEvent.objects.filter(action="scim.user_deleted").count() == 1
    assert AuditEvent.objects.filter(action="user.deactivated").count() == 1


def test_entra_replace_of_several_attributes_with_and_without_the_flag(directory, admin):
    created = create(directory, ENTRA_CREATE_USER)
    response = call(directory, "patch", f"Users/{created['id']}", ENTRA_REPLACE_ATTRIBUTES)
    assert response.status_code == 200, response.content
    user = response.json()
    assert user["emails"][0]["value"] == "TestBcwqnm@test.microsoft.com"
    assert user["name"]["givenName"] == "Gtfd" and user["name"]["familyName"] == "Pkqf"
    assert user["externalId"] == "Eqpj"
    event = AuditEvent.objects.get(action="scim.user_updated")
    assert event.actor == admin and '"first_name":"Gtfd"' in event.payload

    response = call(directory, "patch", f"Users/{created['id']}", ENTRA_REPLACE_ATTRIBUTES_FLAG)
    assert response.status_code == 200, response.content
    person = get_user_model().objects.get(username=ENTRA_USER_NAME)
    assert (person.email, person.first_name, person.last_name) == (
        "TestMhvaes@test.microsoft.com",
        "Kkom",
        "Unua",
    )


def test_okta_put_replaces_the_profile(directory):
    created = create(directory, OKTA_CREATE_USER)
    give_id("test.user@okta.local", OKTA_USER_ID)
    response = call(directory, "put", f"Users/{OKTA_USER_ID}", OKTA_PUT_USER)
    assert response.status_code == 200, response.content
    person = get_user_model().objects.get(scim_identity__scim_id=OKTA_USER_ID)
    assert person.username == "another.user@okta.com" and person.email == "another.user@example.com"
    assert person.first_name == "Another" and person.is_active
    assert created["externalId"] and "externalId" not in response.json()  # PUT left it out


def test_refusals_say_why_in_scim_errors(directory, admin):
    created = create(directory, RFC_CREATE_USER)
    scim_error(call(directory, "get", f"Users/{uuid.uuid4()}"), 404)
    scim_error(call(directory, "get", "Users/not-a-uuid"), 404)
    scim_error(call(directory, "get", "Groups/not-a-uuid"), 404)
    scim_error(call(directory, "get", "Bulk"), 404)
    scim_error(call(directory, "get", 'Users?filter=userName zz "x"'), 400, "invalidFilter")
    # An attribute Keel cannot search must not widen the search to everyone.
    scim_error(call(directory, "get", 'Users?filter=nickName eq "x"'), 400, "invalidFilter")
    scim_error(
        call(directory, "get", 'Users?filter=userName eq "bjensen" and title eq "x"'),
        400,
        "invalidFilter",
    )
    scim_error(call(directory, "get", "Users?startIndex=first"), 400, "invalidValue")
    maybe = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": "active", "value": "maybe"}],
    }
    scim_error(call(directory, "patch", f"Users/{created['id']}", maybe), 400, "invalidValue")
    bad_op = {"schemas": [PATCH_OP], "Operations": [{"op": "move", "path": "active"}]}
    scim_error(call(directory, "patch", f"Users/{created['id']}", bad_op), 400, "invalidSyntax")
    unknown = {"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "colour", "value": 1}]}
    scim_error(call(directory, "patch", f"Users/{created['id']}", unknown), 400, "invalidPath")
    scim_error(call(directory, "post", "Users", "{not json"), 400, "invalidSyntax")
    scim_error(call(directory, "post", "Users", {"userName": "a b/c"}), 400, "invalidValue")
    stranger = [{"value": str(uuid.uuid4())}]
    nobody = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "add", "path": "members", "value": stranger}],
    }
    group = call(directory, "post", "Groups", OKTA_CREATE_GROUP).json()
    scim_error(call(directory, "patch", f"Groups/{group['id']}", nobody), 400, "invalidValue")
    scim_error(call(directory, "post", "Groups", OKTA_CREATE_GROUP), 409, "uniqueness")
    # The token's own account and a superuser are not the directory's to change.
    own = call(directory, "get", 'Users?filter=userName eq "idp-provisioning"').json()
    off = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]}
    scim_error(call(directory, "patch", f"Users/{own['Resources'][0]['id']}", off), 403)
    root = UserFactory(username="root", is_superuser=True)
    found = call(directory, "get", 'Users?filter=userName eq "root"').json()["Resources"][0]
    scim_error(call(directory, "delete", f"Users/{found['id']}"), 403)
    root.refresh_from_db()
    admin.refresh_from_db()
    assert root.is_active and admin.is_active


def test_who_may_provision(client, admin, coe_admin, unit_a):
    anonymous = scim_error(call(Client(), "get", "Users"), 401)
    assert "credentials" in anonymous["detail"].lower()
    assert call(Client(), "get", "Users")["WWW-Authenticate"] == 'Bearer realm="scim"'
    scim_error(call(Client(HTTP_AUTHORIZATION="Bearer keel_nope_nope"), "get", "Users"), 401)
    # A browser session of an administrator is not a way in.
    browser = Client()
    browser.force_login(admin)
    scim_error(call(browser, "get", "Users"), 401)

    _, read_only = tokens.token_create(actor=admin, name="reader", scope=TokenScope.READ)
    reader = Client(HTTP_AUTHORIZATION=f"Bearer {read_only}")
    scim_error(call(reader, "get", "Users"), 403)
    scim_error(call(reader, "post", "Users", RFC_CREATE_USER), 403)
    _, coe_key = tokens.token_create(actor=coe_admin, name="coe", scope=TokenScope.READ_WRITE)
    scim_error(
        call(Client(HTTP_AUTHORIZATION=f"Bearer {coe_key}"), "post", "Users", RFC_CREATE_USER), 403
    )
    assert not get_user_model().objects.filter(username="bjensen").exists()
    assert not AuditEvent.objects.filter(action__startswith="scim.").exists()

    root = UserFactory(username="root", is_superuser=True)
    _, root_key = tokens.token_create(actor=root, name="root", scope=TokenScope.READ_WRITE)
    # CSRF is not checked: the token is the only credential.
    csrf_checked = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {root_key}")
    assert call(csrf_checked, "post", "Users", RFC_CREATE_USER).status_code == 201


def test_discovery_documents(directory):
    config = call(directory, "get", "ServiceProviderConfig")
    assert config["Content-Type"] == SCIM
    body = config.json()
    assert body["patch"]["supported"] and body["filter"] == {"supported": True, "maxResults": 200}
    assert not body["bulk"]["supported"] and body["authenticationSchemes"][0]["type"] == (
        "oauthbearertoken"
    )
    types = call(directory, "get", "ResourceTypes").json()
    assert types["schemas"] == [LIST] and {t["id"] for t in types["Resources"]} == {"User", "Group"}
    assert call(directory, "get", "ResourceTypes/User").json()["endpoint"] == "/Users"
    schemas = call(directory, "get", "Schemas").json()
    ids = {s["id"] for s in schemas["Resources"]}
    assert ids == {
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:core:2.0:Group",
    }
    user = call(directory, "get", "Schemas/urn:ietf:params:scim:schemas:core:2.0:User").json()
    assert {a["name"] for a in user["attributes"]} >= {"userName", "name", "emails", "active"}


def test_pagination_start_index_and_count(directory, admin):
    for n in range(5):
        UserFactory(username=f"page-{n}")
    everyone = call(directory, "get", "Users").json()
    assert everyone["totalResults"] == 6 and everyone["itemsPerPage"] == 6  # and the admin
    names = [r["userName"] for r in everyone["Resources"]]

    page = call(directory, "get", "Users?startIndex=3&count=2").json()
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (6, 3, 2)
    assert [r["userName"] for r in page["Resources"]] == names[2:4]
    last = call(directory, "get", "Users?startIndex=6&count=2").json()
    assert [r["userName"] for r in last["Resources"]] == names[5:]
    beyond = call(directory, "get", "Users?startIndex=10&count=2").json()
    assert beyond["totalResults"] == 6 and beyond["Resources"] == []
    only_total = call(directory, "get", "Users?count=0").json()
    assert only_total["totalResults"] == 6 and only_total["itemsPerPage"] == 0
    # Below 1 is 1 (RFC 7644 §3.4.2.4); a count above maxResults is capped.
    assert (
        call(directory, "get", "Users?startIndex=0&count=1").json()["Resources"][0]["userName"]
        == names[0]
    )
    filtered = call(directory, "get", 'Users?filter=userName sw "page-"&startIndex=2&count=2')
    assert filtered.json()["totalResults"] == 5 and filtered.json()["itemsPerPage"] == 2


# The token, its user's roles, the count, the page and one prefetch (the people's groups, the
# groups' members): never more, however many rows.
LIST_QUERIES = 5


def _list_queries(directory, path: str) -> int:
    call(directory, "get", path)  # first sight gives everyone their SCIM id
    with CaptureQueriesContext(connection) as queries:
        assert call(directory, "get", path).status_code == 200
    return len(queries)


@pytest.mark.parametrize("path", ["Users?count=200", "Groups"])
def test_list_query_count_is_bounded_and_does_not_grow_with_rows(
    directory, path, django_assert_max_num_queries
):
    def people(n):
        made = [UserFactory() for _ in range(n)]
        for number in range(3):
            group = DirectoryGroup.objects.create(display_name=f"g{n}-{number}")
            group.members.add(*made)

    people(5)
    few = _list_queries(directory, path)
    people(25)
    assert _list_queries(directory, path) == few
    with django_assert_max_num_queries(LIST_QUERIES):
        response = call(directory, "get", path)
    total = response.json()["totalResults"]
    assert total == (31 if path.startswith("Users") else 6)
