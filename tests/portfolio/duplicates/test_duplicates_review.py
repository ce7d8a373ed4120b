"""Reviewing duplicate candidates: the CoE's decisions (link, dismiss, merge) through the
services, with who may take them, what a merge moves (GPU allocations, models, deployments)
and its audit trail, and what refused or stale decisions leave unchanged; then the same
decisions through the CoE page (HTMX and plain), the initiative page's possible duplicates,
and the API, with constant query counts and the OpenAPI schema. Detection itself is in
``test_duplicates.py``."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.choices import Role
from core.models import AuditEvent
from portfolio.duplicates import services as duplicate_services
from portfolio.duplicates.choices import DuplicateStatus
from portfolio.duplicates.models import DuplicateCandidate
from portfolio.duplicates.tasks import detect_duplicates_task
from portfolio.initiatives.choices import Stage
from portfolio.initiatives.models import Deployment, Initiative
from tests.factories import (
    AIModelFactory,
    BusinessUnitFactory,
    GPUAllocationFactory,
    InitiativeFactory,
    member,
)
from tests.portfolio.duplicates.helpers import LIST_URL, candidate_for, client_for, events

pytestmark = pytest.mark.django_db

API_URL = "/api/v1/duplicate-candidates/"


# --- Decisions -----------------------------------------------------------------------------


@pytest.fixture
def pair(unit_a, unit_b):
    """Two near-duplicate initiatives of different units and their open candidate."""
    survivor = InitiativeFactory(
        business_unit=unit_a,
        title="Customer complaint classification and routing",
        purpose="Classify customer complaints by topic and urgency and route them.",
        stage=Stage.PILOT,
    )
    merged = InitiativeFactory(
        business_unit=unit_b,
        title="Complaint classification and routing for customer service",
        purpose="Route customer complaints after classifying them by topic and urgency.",
        stage=Stage.PROPOSED,
    )
    duplicate_services.duplicates_refresh(survivor)
    return survivor, merged, candidate_for(survivor, merged)


@pytest.fixture
def inventory(pair, unit_b):
    """The merged initiative's GPU allocations, models and deployments."""
    survivor, merged, _ = pair
    allocations = [
        GPUAllocationFactory(business_unit=unit_b, initiative=merged),
        GPUAllocationFactory(business_unit=unit_b, initiative=merged),
    ]
    shared_model = AIModelFactory(business_unit=unit_b)
    shared_model.initiatives.add(merged, survivor)
    own_model = AIModelFactory(business_unit=unit_b)
    own_model.initiatives.add(merged)
    wealth = BusinessUnitFactory(code="WEALTH")
    corp = BusinessUnitFactory(code="CORP")
    moving = Deployment.objects.create(initiative=merged, business_unit=wealth, status="pilot")
    staying = Deployment.objects.create(initiative=merged, business_unit=corp, status="pilot")
    Deployment.objects.create(initiative=survivor, business_unit=corp, status="production")
    return {
        "allocations": allocations,
        "shared_model": shared_model,
        "own_model": own_model,
        "moving": moving,
        "staying": staying,
    }


def test_link_marks_the_pair_related_with_an_audit_event(pair, coe_reviewer):
    _, _, candidate = pair
    linked = duplicate_services.duplicate_link(actor=coe_reviewer, candidate=candidate)
    assert linked.status == DuplicateStatus.RELATED
    candidate.refresh_from_db()
    assert (candidate.status, candidate.decided_by) == (DuplicateStatus.RELATED, coe_reviewer)
    event = events("duplicate.linked", candidate).get()
    assert event.actor == coe_reviewer
    # Decided pairs stay decided: a second link is refused.
    with pytest.raises(duplicate_services.AlreadyDecided):
        duplicate_services.duplicate_link(actor=coe_reviewer, candidate=candidate)


def test_merge_moves_allocations_models_deployments_and_leaves_an_audit_trail(
    pair, inventory, coe_admin
):
    survivor, merged, candidate = pair

    duplicate_services.duplicate_merge(actor=coe_admin, candidate=candidate, survivor=survivor)

    merged.refresh_from_db()
    assert merged.stage == Stage.RETIRED
    assert merged.merged_into == survivor
    assert merged.stage_changes.last().reason == f"Merged into {survivor.reference}"
    candidate.refresh_from_db()
    assert (candidate.status, candidate.decided_by) == (DuplicateStatus.MERGED, coe_admin)
    for allocation in inventory["allocations"]:
        allocation.refresh_from_db()
        assert allocation.initiative == survivor
        assert events("gpu_allocation.moved", allocation).count() == 1
    assert set(survivor.ai_models.all()) == {inventory["shared_model"], inventory["own_model"]}
    assert not merged.ai_models.exists()
    for model in (inventory["shared_model"], inventory["own_model"]):
        assert events("ai_model.initiative_moved", model).count() == 1
    inventory["moving"].refresh_from_db()
    inventory["staying"].refresh_from_db()
    assert inventory["moving"].initiative == survivor
    assert inventory["staying"].initiative == merged
    assert events("deployment.moved", inventory["moving"]).count() == 1
    assert not events("deployment.moved", inventory["staying"]).exists()
    assert events("initiative.merged", merged).get().actor == coe_admin
    assert events("initiative.stage_changed", merged).get().reason.startswith("Merged into")
    assert events("duplicate.merged", candidate).count() == 1


@pytest.mark.parametrize(
    "role", [Role.BU_MEMBER, Role.BU_LEAD, Role.EXECUTIVE, Role.PLATFORM_ENGINEER]
)
def test_decisions_refuse_people_outside_the_coe_and_change_nothing(pair, inventory, role, unit_b):
    _, merged, candidate = pair
    outsider = member(role, unit_b)
    before = AuditEvent.objects.count()
    for decide, arguments in (
        (duplicate_services.duplicate_link, {}),
        (duplicate_services.duplicate_dismiss, {"reason": "no"}),
        (duplicate_services.duplicate_merge, {"survivor": merged}),
    ):
        with pytest.raises(PermissionDenied):
            decide(actor=outsider, candidate=candidate, **arguments)
    _assert_unchanged(merged, candidate, inventory, before)


@pytest.mark.parametrize("role", [Role.COE_REVIEWER, Role.RISK_OFFICER])
def test_merge_needs_a_coe_admin_and_changes_nothing_otherwise(pair, inventory, role, unit_a):
    survivor, merged, candidate = pair
    reviewer = member(role, unit_a)
    before = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        duplicate_services.duplicate_merge(actor=reviewer, candidate=candidate, survivor=survivor)
    _assert_unchanged(merged, candidate, inventory, before)


def _assert_unchanged(merged, candidate, inventory, audit_count):
    merged.refresh_from_db()
    candidate.refresh_from_db()
    assert merged.stage == Stage.PROPOSED and merged.merged_into is None
    assert candidate.status == DuplicateStatus.OPEN and candidate.decided_by is None
    for allocation in inventory["allocations"]:
        allocation.refresh_from_db()
        assert allocation.initiative == merged
    assert set(merged.ai_models.all()) == {inventory["shared_model"], inventory["own_model"]}
    assert AuditEvent.objects.count() == audit_count


def test_merge_refuses_a_rejected_initiative_with_a_clear_error(pair, inventory, coe_admin):
    survivor, merged, candidate = pair
    Initiative.objects.filter(pk=merged.pk).update(stage=Stage.REJECTED)
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError, match="was rejected"):
        duplicate_services.duplicate_merge(actor=coe_admin, candidate=candidate, survivor=survivor)
    for allocation in inventory["allocations"]:
        allocation.refresh_from_db()
        assert allocation.initiative == merged
    candidate.refresh_from_db()
    assert candidate.status == DuplicateStatus.OPEN
    assert AuditEvent.objects.count() == before


def test_merge_survivor_must_belong_to_the_pair(pair, coe_admin, unit_a):
    _, _, candidate = pair
    stranger = InitiativeFactory(business_unit=unit_a)
    with pytest.raises(ValidationError, match="one of the two"):
        duplicate_services.duplicate_merge(actor=coe_admin, candidate=candidate, survivor=stranger)


def test_deciding_a_pair_that_a_refresh_removed_is_refused(pair, coe_reviewer):
    survivor, _, candidate = pair
    Initiative.objects.filter(pk=survivor.pk).update(title="Branch footfall", purpose="Rosters.")
    detect_duplicates_task.delay(survivor.pk).get()
    with pytest.raises(duplicate_services.AlreadyDecided, match="no longer"):
        duplicate_services.duplicate_link(actor=coe_reviewer, candidate=candidate)


def test_a_dismissed_pair_cannot_be_merged_or_linked(pair, coe_admin):
    survivor, _, candidate = pair
    duplicate_services.duplicate_dismiss(actor=coe_admin, candidate=candidate)
    with pytest.raises(duplicate_services.AlreadyDecided):
        duplicate_services.duplicate_merge(actor=coe_admin, candidate=candidate, survivor=survivor)
    with pytest.raises(duplicate_services.AlreadyDecided):
        duplicate_services.duplicate_link(actor=coe_admin, candidate=candidate)


# --- The CoE page --------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.BU_MEMBER, Role.EXECUTIVE, Role.PLATFORM_ENGINEER])
def test_page_and_actions_are_forbidden_outside_the_coe(pair, role, unit_a):
    _, merged, candidate = pair
    client = client_for(member(role, unit_a))
    assert client.get(LIST_URL).status_code == 403
    for name in ("duplicate_link", "duplicate_dismiss", "duplicate_merge"):
        url = reverse(f"portfolio:{name}", args=[candidate.pk])
        assert client.post(url, {"survivor": merged.pk}).status_code == 403
    candidate.refresh_from_db()
    assert candidate.status == DuplicateStatus.OPEN


def test_anonymous_is_sent_to_login(client):
    response = client.get(LIST_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", [Role.COE_REVIEWER, Role.COE_ADMIN, Role.RISK_OFFICER, Role.ADMIN])
def test_page_shows_open_pairs_side_by_side_with_their_score(pair, role, unit_a):
    survivor, merged, candidate = pair
    page = client_for(member(role, unit_a)).get(LIST_URL).content.decode()
    for initiative in (survivor, merged):
        assert initiative.reference in page and initiative.title in page
        assert initiative.business_unit.name in page
    assert f"{round(candidate.score * 100)} % alike" in page
    assert reverse("portfolio:duplicate_link", args=[candidate.pk]) in page
    merge_url = reverse("portfolio:duplicate_merge", args=[candidate.pk])
    assert (merge_url in page) == (role in (Role.COE_ADMIN, Role.ADMIN))


def test_link_through_htmx_swaps_the_card(pair, coe_reviewer):
    _, _, candidate = pair
    response = client_for(coe_reviewer).post(
        reverse("portfolio:duplicate_link", args=[candidate.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="duplicate-{candidate.pk}"' in html and "Linked as related" in html
    assert "<html" not in html
    candidate.refresh_from_db()
    assert candidate.status == DuplicateStatus.RELATED


def test_dismiss_without_htmx_redirects_with_a_message(pair, coe_reviewer):
    _, _, candidate = pair
    client = client_for(coe_reviewer)
    response = client.post(
        reverse("portfolio:duplicate_dismiss", args=[candidate.pk]), {"reason": "Not alike"}
    )
    assert response.status_code == 302 and response["Location"] == LIST_URL
    candidate.refresh_from_db()
    assert candidate.status == DuplicateStatus.DISMISSED
    page = client.get(LIST_URL, {"status": "dismissed"}).content.decode()
    assert f'id="duplicate-{candidate.pk}"' in page


def test_merge_through_the_page(pair, inventory, coe_admin):
    survivor, merged, candidate = pair
    response = client_for(coe_admin).post(
        reverse("portfolio:duplicate_merge", args=[candidate.pk]),
        {"survivor": survivor.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "Merged" in response.content.decode()
    merged.refresh_from_db()
    assert merged.merged_into == survivor and merged.stage == Stage.RETIRED


def test_refused_merge_through_the_page_shows_the_reason(pair, coe_admin):
    survivor, merged, candidate = pair
    Initiative.objects.filter(pk=merged.pk).update(stage=Stage.REJECTED)
    response = client_for(coe_admin).post(
        reverse("portfolio:duplicate_merge", args=[candidate.pk]),
        {"survivor": survivor.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "was rejected" in response.content.decode()


def _pairs(count: int):
    first_unit, second_unit = BusinessUnitFactory(), BusinessUnitFactory()
    now = timezone.now()
    for number in range(count):
        first = InitiativeFactory(business_unit=first_unit, title=f"Left {number}")
        second = InitiativeFactory(business_unit=second_unit, title=f"Right {number}")
        DuplicateCandidate.objects.create(
            first=first, second=second, score=0.5 + number / 100, detected_at=now
        )


def test_page_query_count_is_constant(coe_admin, settings, django_assert_num_queries):
    settings.KEEL_PAGE_SIZE = 50
    client = client_for(coe_admin)
    _pairs(5)
    client.get(LIST_URL)  # warm up caches (content types, session)
    with CaptureQueriesContext(connection) as five:
        response = client.get(LIST_URL)
    assert response.content.decode().count('class="card duplicate"') == 5
    _pairs(25)
    with django_assert_num_queries(len(five.captured_queries)):
        response = client.get(LIST_URL)
    assert response.content.decode().count('class="card duplicate"') == 30


# --- The initiative page -------------------------------------------------------------------


def test_initiative_page_shows_possible_duplicates_to_the_coe(pair, coe_reviewer, member_a):
    survivor, merged, _ = pair
    url = reverse("portfolio:duplicates_for_initiative", args=[survivor.pk])
    detail = client_for(coe_reviewer).get(survivor.get_absolute_url()).content.decode()
    assert url in detail
    line = client_for(coe_reviewer).get(url).content.decode()
    assert "Possible duplicates" in line and merged.reference in line
    # A BU member's page does not load it, and asking directly gives nothing.
    assert url not in client_for(member_a).get(survivor.get_absolute_url()).content.decode()
    assert client_for(member_a).get(url).content == b""


# --- API -----------------------------------------------------------------------------------


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_lists_candidates_for_the_coe_only(pair, coe_reviewer, member_a):
    survivor, merged, candidate = pair
    assert _api(member_a).get(API_URL).status_code == 403
    body = _api(coe_reviewer).get(API_URL).json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["id"] == candidate.pk and row["status"] == "open"
    assert {row["first"]["reference"], row["second"]["reference"]} == {
        survivor.reference,
        merged.reference,
    }
    assert _api(coe_reviewer).get(API_URL, {"status": "nonsense"}).status_code == 400


def test_api_actions(pair, inventory, coe_reviewer, coe_admin):
    survivor, merged, candidate = pair
    url = f"{API_URL}{candidate.pk}/"
    refused = _api(coe_reviewer).post(f"{url}merge/", {"survivor": survivor.pk}, format="json")
    assert refused.status_code == 403
    linked = _api(coe_reviewer).post(f"{url}link/")
    assert linked.status_code == 200 and linked.json()["status"] == "related"
    assert _api(coe_reviewer).post(f"{url}link/").status_code == 409
    merged_response = _api(coe_admin).post(f"{url}merge/", {"survivor": survivor.pk}, format="json")
    assert merged_response.status_code == 200
    assert merged_response.json()["status"] == "merged"
    merged.refresh_from_db()
    assert merged.merged_into == survivor
    assert _api(coe_admin).post(f"{url}dismiss/", {"reason": "x"}, format="json").status_code == 409


def test_api_dismiss_and_rejected_merge(pair, coe_admin):
    survivor, merged, candidate = pair
    url = f"{API_URL}{candidate.pk}/"
    Initiative.objects.filter(pk=merged.pk).update(stage=Stage.REJECTED)
    refused = _api(coe_admin).post(f"{url}merge/", {"survivor": survivor.pk}, format="json")
    assert refused.status_code == 400
    dismissed = _api(coe_admin).post(f"{url}dismiss/", {"reason": "Different"}, format="json")
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"


def test_api_list_query_count_is_constant(coe_admin, django_assert_num_queries):
    client = _api(coe_admin)
    _pairs(5)
    client.get(API_URL)  # warm up (the user's memberships are cached on it)
    with CaptureQueriesContext(connection) as five:
        assert client.get(API_URL).json()["count"] == 5
    _pairs(15)
    with django_assert_num_queries(len(five.captured_queries)):
        assert client.get(API_URL).json()["count"] == 20


def test_openapi_describes_the_duplicate_endpoints(client, coe_reviewer):
    client.force_login(coe_reviewer)
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    for action in ("link", "dismiss", "merge"):
        assert f"/api/v1/duplicate-candidates/{{id}}/{action}/" in paths
    assert "/api/v1/duplicate-candidates/" in paths


def test_allocation_dates_are_untouched_by_a_merge(pair, coe_admin, unit_b):
    survivor, merged, candidate = pair
    allocation = GPUAllocationFactory(
        business_unit=unit_b, initiative=merged, starts_on=datetime.date(2024, 1, 1)
    )
    duplicate_services.duplicate_merge(actor=coe_admin, candidate=candidate, survivor=survivor)
    allocation.refresh_from_db()
    assert allocation.starts_on == datetime.date(2024, 1, 1)
    assert allocation.business_unit == unit_b
