"""Global search (/search/?q=): grouped by register, scoped like each list, exact references
jump to the initiative; full-text on PostgreSQL, substring match on SQLite."""

import pytest
from django.db import connection
from django.utils import timezone

from core.choices import Role
from governance.reporting.search import REGISTERS
from inventory.finops.models import Finding
from tests.factories import AIModelFactory, InitiativeFactory, VendorFactory, member


def _results(response) -> dict[str, list[str]]:
    return {r.key: [hit.label for hit in r.hits] for r in response.context["results"]}


@pytest.fixture
def registers(unit_a, unit_b):
    vendor = VendorFactory(name="Lighthouse Analytics", description="Fraud scoring models")
    ours = InitiativeFactory(
        business_unit=unit_a, reference="AI-0094", title="Lighthouse claims triage"
    )
    theirs = InitiativeFactory(
        business_unit=unit_b, reference="AI-0095", title="Lighthouse pricing engine"
    )
    AIModelFactory(business_unit=unit_a, name="lighthouse-triage", vendor=vendor)
    AIModelFactory(business_unit=unit_b, name="lighthouse-pricing")
    Finding.objects.create(
        kind="idle",
        subject_key="allocation:1",
        business_unit=unit_a,
        initiative=ours,
        summary="Lighthouse triage GPUs idle for 7 days",
        first_seen_at=timezone.now(),
        last_seen_at=timezone.now(),
    )
    return ours, theirs


def test_results_are_grouped_by_register_and_scoped(client, unit_a, registers):
    client.force_login(member(Role.BU_MEMBER, unit_a))
    response = client.get("/search/", {"q": "lighthouse"})
    assert response.status_code == 200
    found = _results(response)
    assert list(found) == [register.key for register in REGISTERS]
    assert found["initiatives"] == ["AI-0094 · Lighthouse claims triage"]
    assert found["models"] == ["lighthouse-triage"]
    assert found["vendors"] == ["Lighthouse Analytics"]
    assert found["findings"] == ["Idle: Lighthouse triage GPUs idle for 7 days"]
    page = response.content.decode()
    assert "AI-0095" not in page and "lighthouse-pricing" not in page


def test_an_organisation_wide_reader_finds_every_unit(client, unit_a, registers):
    client.force_login(member(Role.EXECUTIVE, unit_a))
    found = _results(client.get("/search/", {"q": "Lighthouse"}))
    assert len(found["initiatives"]) == 2 and len(found["models"]) == 2


def test_words_in_the_description_are_found(client, unit_a, registers):
    client.force_login(member(Role.BU_MEMBER, unit_a))
    assert _results(client.get("/search/", {"q": "fraud"}))["vendors"] == ["Lighthouse Analytics"]


def test_exact_reference_jumps_to_the_initiative(client, unit_a, registers):
    ours, theirs = registers
    client.force_login(member(Role.BU_MEMBER, unit_a))
    response = client.get("/search/", {"q": " ai-0094 "})
    assert response.status_code == 302 and response["Location"] == f"/initiatives/{ours.pk}/"
    # another unit's reference is not revealed: searched as text, nothing found
    response = client.get("/search/", {"q": theirs.reference})
    assert response.status_code == 200 and response.context["found"] == 0


def test_empty_query_runs_no_search(client, unit_a, django_assert_max_num_queries):
    client.force_login(member(Role.BU_MEMBER, unit_a))
    client.get("/")
    with django_assert_max_num_queries(3):
        response = client.get("/search/")
    assert response.context["results"] == []


def test_search_queries_do_not_grow_with_rows(client, unit_a, django_assert_max_num_queries):
    client.force_login(member(Role.EXECUTIVE, unit_a))
    InitiativeFactory.create_batch(2, business_unit=unit_a, title="Harbour pilot")
    with django_assert_max_num_queries(12) as few:
        client.get("/search/", {"q": "harbour"})
    InitiativeFactory.create_batch(25, business_unit=unit_a, title="Harbour pilot")
    for n in range(12):
        AIModelFactory(business_unit=unit_a, name=f"harbour-model-{n}")
    with django_assert_max_num_queries(12) as many:
        response = client.get("/search/", {"q": "harbour"})
    totals = {r.key: r.total for r in response.context["results"]}
    assert totals["initiatives"] == 27 and totals["models"] == 12
    assert len(response.context["results"][0].hits) == 10
    assert len(many.captured_queries) <= len(few.captured_queries) + 2  # the two counts


def test_full_text_on_postgresql_substring_on_sqlite(client, unit_a, registers):
    client.force_login(member(Role.BU_MEMBER, unit_a))
    response = client.get("/search/", {"q": "claims triage"})
    assert response.context["full_text"] is (connection.vendor == "postgresql")
    assert response.context["results"][0].hits[0].label == "AI-0094 · Lighthouse claims triage"
    if connection.vendor == "postgresql":
        # websearch syntax: both words anywhere, in any order
        found = _results(client.get("/search/", {"q": "triage lighthouse"}))
        assert found["initiatives"] == ["AI-0094 · Lighthouse claims triage"]


def test_the_header_has_the_search_box_and_its_script(client, unit_a):
    client.force_login(member(Role.BU_MEMBER, unit_a))
    page = client.get("/").content.decode()
    assert 'id="global-search" name="q"' in page and 'aria-keyshortcuts="/"' in page
    assert 'src="/static/js/search.js"' in page


def test_approval_requests_are_found_by_their_initiative(client, unit_a, unit_b, registers):
    from governance.approvals.models import ApprovalPolicy, ApprovalRequest
    from tests.factories import UserFactory

    ours, theirs = registers
    policy = ApprovalPolicy.objects.get(tier=2, gate="pilot", is_active=True)
    for initiative in (ours, theirs):
        ApprovalRequest.objects.create(
            initiative=initiative,
            gate="pilot",
            tier=2,
            policy=policy,
            policy_snapshot=policy.snapshot(),
            submitted_by=UserFactory(),
            submitted_at=timezone.now(),
        )
    client.force_login(member(Role.BU_MEMBER, unit_a))
    found = _results(client.get("/search/", {"q": "lighthouse"}))
    assert found["requests"] == ["AI-0094 · Pilot gate · Pending"]
