import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.choices import Role
from core.models import AuditEvent
from portfolio.initiatives import services
from portfolio.initiatives.models import Deployment, Initiative, StageChange
from tests.factories import BusinessUnitFactory, InitiativeFactory, UserFactory, member

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


# --- Read-only sub-resources: stage history and deployments -------------------------------


def history_and_deployments(unit, owner, changes=1, deployments=1):
    """An initiative of ``unit`` with ``changes`` stage-history rows (each by another person)
    and ``deployments`` deployments (each to a new unit), built directly as fixture rows."""
    initiative = InitiativeFactory(business_unit=unit, accountable_owner=owner)
    grow(initiative, changes, deployments)
    return initiative


def grow(initiative, changes, deployments):
    for _ in range(changes):
        StageChange.objects.create(
            initiative=initiative,
            from_stage="draft",
            to_stage="proposed",
            changed_at=timezone.now(),
            changed_by=UserFactory(),
            reason="Fixture row",
        )
    for _ in range(deployments):
        Deployment.objects.create(initiative=initiative, business_unit=BusinessUnitFactory())


def test_stage_history_api_lists_the_changes_oldest_first(api, member_a, member_b, unit_a):
    initiative = services.initiative_create(
        actor=member_a,
        data={"title": "Claims triage", "business_unit": unit_a, "accountable_owner": member_a},
    )
    services.initiative_change_stage(actor=member_a, initiative=initiative, to_stage="proposed")
    services.initiative_change_stage(
        actor=member_a, initiative=initiative, to_stage="paused", reason="Budget freeze"
    )
    url = f"{URL}{initiative.pk}/stage-history/"
    assert api.get(url).status_code == 401
    api.force_authenticate(member_a)
    response = api.get(url, {"stage": "pilot", "page": 7})  # list filters do not apply here
    assert response.status_code == 200
    rows = response.json()
    assert [(r["from_stage"], r["to_stage"], r["reason"]) for r in rows] == [
        ("", "draft", ""),
        ("draft", "proposed", ""),
        ("proposed", "paused", "Budget freeze"),
    ]
    assert {r["changed_by_username"] for r in rows} == {"alice"}
    assert all(r["changed_at"] for r in rows)
    assert [r["id"] for r in rows] == list(
        initiative.stage_changes.order_by("changed_at", "id").values_list("pk", flat=True)
    )
    api.force_authenticate(member_b)  # another unit: it does not exist for them
    assert api.get(url).status_code == 404
    assert api.post(url, {}, format="json").status_code in (403, 404, 405)
    assert initiative.stage_changes.count() == 3


def test_deployments_api_lists_the_units_and_is_scoped(api, member_a, member_b, unit_a, unit_b):
    initiative = InitiativeFactory(business_unit=unit_a, accountable_owner=member_a)
    outsider = member(Role.BU_MEMBER, BusinessUnitFactory(code="OTHER"), username="olga")
    url = f"{URL}{initiative.pk}/deployments/"
    api.force_authenticate(member_b)
    assert api.get(url).status_code == 404
    deployment = Deployment.objects.create(
        initiative=initiative, business_unit=unit_b, status="production"
    )
    response = api.get(url)  # deployed to their unit: now they see it
    assert response.status_code == 200
    assert response.json() == [
        {
            "id": deployment.pk,
            "initiative": initiative.pk,
            "business_unit": unit_b.pk,
            "business_unit_code": "INSURE",
            "status": "production",
            "started_on": None,
            "ended_on": None,
            "created_at": response.json()[0]["created_at"],
        }
    ]
    api.force_authenticate(member_a)
    assert [row["id"] for row in api.get(url).json()] == [deployment.pk]
    api.force_authenticate(outsider)
    assert api.get(url).status_code == 404
    assert api.get(f"{URL}999999/deployments/").status_code == 404


@pytest.mark.parametrize("endpoint", ["stage-history", "deployments"])
def test_sub_resource_query_count_is_constant(
    api, executive, member_a, unit_a, endpoint, django_assert_num_queries
):
    initiative = history_and_deployments(unit_a, member_a)
    url = f"{URL}{initiative.pk}/{endpoint}/"
    as_fresh_user(api, executive)
    with CaptureQueriesContext(connection) as one:
        assert len(api.get(url).json()) == 1
    grow(initiative, changes=9, deployments=9)
    as_fresh_user(api, executive)
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(api.get(url).json()) == 10


def test_openapi_lists_the_initiative_sub_resources(client, member_a):
    client.force_login(member_a)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    for endpoint, method in (
        ("/api/v1/initiatives/{id}/stage-history/", "get"),
        ("/api/v1/initiatives/{id}/deployments/", "get"),
        ("/api/v1/initiatives/{id}/adopt/", "post"),
    ):
        assert method in paths[endpoint], endpoint
    history = paths["/api/v1/initiatives/{id}/stage-history/"]["get"]
    body = history["responses"]["200"]["content"]["application/json"]["schema"]
    assert body == {"type": "array", "items": {"$ref": "#/components/schemas/StageHistoryEntry"}}
    assert "404" in history["responses"]
    deployments = paths["/api/v1/initiatives/{id}/deployments/"]["get"]
    body = deployments["responses"]["200"]["content"]["application/json"]["schema"]
    assert body == {"type": "array", "items": {"$ref": "#/components/schemas/Deployment"}}
    # Not paginated and not filtered like the initiative list.
    assert {p["name"] for p in history["parameters"]} == {"id"}
    assert {p["name"] for p in deployments["parameters"]} == {"id"}
