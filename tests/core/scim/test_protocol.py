"""SCIM protocol behaviour: refusals as SCIM errors, who may provision, discovery documents,
paging, and a bounded query count for the lists."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core import tokens
from core.choices import TokenScope
from core.models import (
    AuditEvent,
    DirectoryGroup,
)
from tests.core.scim.helpers import (
    call,
    create,
    scim_error,
)
from tests.core.scim.payloads import (
    LIST,
    OKTA_CREATE_GROUP,
    PATCH_OP,
    RFC_CREATE_USER,
    SCIM,
)
from tests.factories import UserFactory


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
