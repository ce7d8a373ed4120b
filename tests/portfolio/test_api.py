import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.models import AuditEvent
from portfolio.models import Initiative
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/initiatives/"


@pytest.fixture
def api():
    return APIClient()


def test_anonymous_gets_401(api, unit_a):
    InitiativeFactory(business_unit=unit_a)
    response = api.get(URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


def test_token_authentication(api, member_a, unit_a):
    InitiativeFactory(business_unit=unit_a, title="Visible by token")
    token = Token.objects.create(user=member_a)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api.get(URL)
    assert response.status_code == 200
    assert [row["title"] for row in response.json()["results"]] == ["Visible by token"]


def test_member_scoping_list_and_detail(api, member_a, unit_a, unit_b):
    mine = InitiativeFactory(business_unit=unit_a)
    theirs = InitiativeFactory(business_unit=unit_b)
    api.force_authenticate(member_a)

    ids = [row["id"] for row in api.get(URL).json()["results"]]
    assert ids == [mine.pk]
    assert api.get(f"{URL}{mine.pk}/").status_code == 200
    assert api.get(f"{URL}{theirs.pk}/").status_code == 404
    assert api.patch(f"{URL}{theirs.pk}/", {"title": "x"}, format="json").status_code == 404
    theirs.refresh_from_db()
    assert theirs.title != "x"


def test_create_through_api_uses_service(api, member_a, unit_a):
    api.force_authenticate(member_a)
    response = api.post(
        URL,
        {
            "title": "Call summarisation",
            "business_unit": unit_a.pk,
            "accountable_owner": member_a.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reference"] == "AI-0001" and body["stage"] == "draft"
    assert AuditEvent.objects.filter(
        action="initiative.created", object_id=str(body["id"])
    ).exists()


def test_create_for_other_unit_is_forbidden_and_writes_nothing(api, member_a, unit_b):
    api.force_authenticate(member_a)
    response = api.post(
        URL,
        {"title": "Sneaky", "business_unit": unit_b.pk, "accountable_owner": member_a.pk},
        format="json",
    )
    assert response.status_code == 403
    assert not Initiative.objects.exists() and not AuditEvent.objects.exists()


def test_validation_errors_are_field_level(api, member_a, unit_a):
    api.force_authenticate(member_a)
    response = api.post(
        URL, {"title": "", "business_unit": unit_a.pk, "roadmap_phase": 8}, format="json"
    )
    assert response.status_code == 400
    assert {"title", "accountable_owner", "roadmap_phase"} <= set(response.json())


def test_reference_and_stage_are_read_only(api, member_a, unit_a):
    initiative = InitiativeFactory(business_unit=unit_a, accountable_owner=member_a)
    api.force_authenticate(member_a)
    response = api.patch(
        f"{URL}{initiative.pk}/",
        {"reference": "AI-9999", "stage": "production", "title": "New title"},
        format="json",
    )
    assert response.status_code == 200
    initiative.refresh_from_db()
    assert (initiative.title, initiative.stage) == ("New title", "draft")
    assert initiative.reference != "AI-9999"


def test_stage_action(api, member_a, unit_a):
    initiative = InitiativeFactory(business_unit=unit_a, accountable_owner=member_a)
    api.force_authenticate(member_a)
    ok = api.post(f"{URL}{initiative.pk}/stage/", {"to_stage": "proposed"}, format="json")
    assert ok.status_code == 200 and ok.json()["stage"] == "proposed"
    gated = api.post(f"{URL}{initiative.pk}/stage/", {"to_stage": "pilot"}, format="json")
    assert gated.status_code == 400 and "gate" in gated.json()["stage"][0]


def test_filtering_and_ordering(api, coe_reviewer, unit_a, unit_b):
    InitiativeFactory(business_unit=unit_a, title="Bravo", stage="pilot")
    InitiativeFactory(business_unit=unit_b, title="Alpha", stage="pilot")
    InitiativeFactory(business_unit=unit_b, title="Charlie", stage="draft")
    api.force_authenticate(coe_reviewer)
    rows = api.get(URL, {"stage": "pilot", "ordering": "title"}).json()["results"]
    assert [row["title"] for row in rows] == ["Alpha", "Bravo"]


def as_fresh_user(api, user):
    """Authenticate with a new user object, so no per-object cache hides a query."""
    api.force_authenticate(type(user).objects.get(pk=user.pk))


def test_list_query_count_is_constant(api, executive, unit_a, django_assert_num_queries):
    InitiativeFactory.create_batch(5, business_unit=unit_a)
    as_fresh_user(api, executive)
    with CaptureQueriesContext(connection) as five:
        assert len(api.get(URL).json()["results"]) == 5
    InitiativeFactory.create_batch(45, business_unit=unit_a)
    as_fresh_user(api, executive)
    with django_assert_num_queries(len(five.captured_queries)):
        assert api.get(URL).json()["count"] == 50


def test_business_units_api_scoping_and_admin_writes(api, member_a, coe_admin, unit_a, unit_b):
    api.force_authenticate(member_a)
    codes = [row["code"] for row in api.get("/api/v1/business-units/").json()["results"]]
    assert codes == ["RETAIL"]
    assert api.get(f"/api/v1/business-units/{unit_b.pk}/").status_code == 404
    denied = api.post("/api/v1/business-units/", {"name": "X", "code": "X"}, format="json")
    assert denied.status_code == 403

    api.force_authenticate(coe_admin)
    created = api.post(
        "/api/v1/business-units/", {"name": "Payments", "code": "PAY"}, format="json"
    )
    assert created.status_code == 201
    assert AuditEvent.objects.filter(action="business_unit.created").count() == 1


def test_business_unit_list_query_count_is_constant(api, coe_admin, django_assert_num_queries):
    from tests.factories import BusinessUnitFactory

    BusinessUnitFactory.create_batch(4)
    as_fresh_user(api, coe_admin)
    with CaptureQueriesContext(connection) as few:
        api.get("/api/v1/business-units/")
    BusinessUnitFactory.create_batch(45)
    as_fresh_user(api, coe_admin)
    with django_assert_num_queries(len(few.captured_queries)):
        api.get("/api/v1/business-units/")
