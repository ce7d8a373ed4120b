"""SCIM Users: the RFC's, Entra's and Okta's create, filter, PUT, PATCH, deactivate and delete
requests, verbatim (see ``tests/core/scim/__init__.py``)."""

import json
import uuid

import pytest
from django.contrib.auth import get_user_model

from core.choices import Role
from core.models import (
    AuditEvent,
    GroupMapping,
    Membership,
    ScimIdentity,
    UserSession,
)
from tests.core.scim.helpers import (
    call,
    create,
    give_id,
    scim_error,
    signed_in_with_a_token,
)
from tests.core.scim.payloads import (
    BJENSEN_ID,
    ENTRA_CREATE_USER,
    ENTRA_DISABLE_USER,
    ENTRA_REPLACE_ATTRIBUTES,
    ENTRA_REPLACE_ATTRIBUTES_FLAG,
    ENTRA_USER_NAME,
    LIST,
    OKTA_CREATE_USER,
    OKTA_DEACTIVATE_USER,
    OKTA_PUT_USER,
    OKTA_USER_ID,
    RFC_CREATE_USER,
    RFC_GROUP,
    SCIM,
)


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
