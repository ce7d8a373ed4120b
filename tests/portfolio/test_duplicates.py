"""Duplicate detection: finding similar initiatives across business units (the same pairs on
SQLite and PostgreSQL), and the CoE's decisions (link, dismiss, merge) through services, the
page and the API."""

import datetime

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.choices import Role
from core.models import AuditEvent
from portfolio import duplicate_services
from portfolio.choices import DuplicateStatus, Stage
from portfolio.duplicate_tasks import detect_all_duplicates_task, detect_duplicates_task
from portfolio.duplicates import (
    DEFAULT_THRESHOLD,
    duplicate_threshold,
    find_similar,
    postgresql_similar_queryset,
    set_similarity_threshold,
    similarity,
    trigram_match,
    trigrams,
)
from portfolio.models import Deployment, DuplicateCandidate, Initiative
from portfolio.services import initiative_create, initiative_update
from tests.factories import (
    AIModelFactory,
    BusinessUnitFactory,
    GPUAllocationFactory,
    InitiativeFactory,
    member,
)

pytestmark = pytest.mark.django_db

IS_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
postgres_only = pytest.mark.skipif(not IS_POSTGRES, reason="pg_trgm exists on PostgreSQL only")

LIST_URL = reverse("portfolio:duplicate_list")
API_URL = "/api/v1/duplicate-candidates/"

UNITS = {
    "RETAIL": "Retail Banking",
    "INSURE": "Insurance",
    "WEALTH": "Wealth Management",
    "CORP": "Corporate Banking",
    "OPS": "Group Operations",
    "PEOPLE": "People and HR",
}

# (unit, title, purpose[, stage]): a realistic portfolio with three planted near-duplicates
# across units, a similar pair inside one unit, a retired near-duplicate, and initiatives on
# neighbouring subjects (routing, summarising, extracting, triage) that are not duplicates.
SEED = [
    (
        "OPS",
        "Invoice data extraction with OCR for accounts payable",
        "Extract supplier names, amounts and due dates from scanned invoices so accounts "
        "payable clerks no longer key them by hand.",
    ),
    (
        "CORP",
        "OCR invoice extraction for accounts payable team",
        "Use OCR to extract amounts, due dates and supplier names from scanned invoices for "
        "the accounts payable team, removing manual keying.",
    ),
    (
        "RETAIL",
        "Customer complaint classification and routing",
        "Classify incoming customer complaints by topic and urgency and route them to the "
        "right resolution team.",
    ),
    (
        "INSURE",
        "Complaint classification and routing for customer service",
        "Route incoming customer complaints to the right team after classifying them by topic "
        "and urgency.",
    ),
    (
        "WEALTH",
        "Call centre transcript summarisation",
        "Summarise recorded client calls into short notes for advisers, with follow-up actions.",
    ),
    (
        "RETAIL",
        "Summarisation of call centre transcripts",
        "Summarise call centre transcripts into short notes with follow-up actions for agents.",
    ),
    (
        "INSURE",
        "Claims triage assistant",
        "Triage incoming motor and home claims by complexity so simple claims are settled faster.",
    ),
    (
        "INSURE",
        "Claims triage assistant for commercial claims",
        "Triage incoming commercial property claims by complexity so simple claims are "
        "settled faster.",
    ),
    (
        "PEOPLE",
        "Invoice OCR extraction for accounts payable",
        "Extract amounts and due dates from scanned supplier invoices for accounts payable.",
        Stage.RETIRED,
    ),
    (
        "RETAIL",
        "Card fraud pattern detection",
        "Detect unusual card transaction patterns in real time and hold suspicious payments "
        "for review.",
    ),
    (
        "CORP",
        "Trade finance document checking",
        "Check letters of credit and bills of lading against trade rules to cut manual review "
        "time.",
    ),
    (
        "INSURE",
        "Fraud scoring for insurance claims",
        "Score new claims for fraud indicators so investigators focus on the riskiest cases.",
    ),
    (
        "WEALTH",
        "Portfolio rebalancing recommendations",
        "Suggest rebalancing trades for discretionary portfolios that drifted from their model "
        "allocation.",
    ),
    (
        "WEALTH",
        "Client risk profile questionnaire assistant",
        "Help advisers complete suitability questionnaires and flag inconsistent client answers.",
    ),
    (
        "RETAIL",
        "Mortgage application document classification",
        "Classify payslips, bank statements and ID documents uploaded with mortgage applications.",
    ),
    (
        "CORP",
        "Credit memo drafting assistant",
        "Draft first versions of credit memos for relationship managers from financial "
        "statements and account history.",
    ),
    (
        "CORP",
        "Cash flow forecasting for corporate clients",
        "Forecast corporate clients' cash positions thirteen weeks ahead from transaction history.",
    ),
    (
        "OPS",
        "Expense receipt matching",
        "Match employee expense claims to card transactions and receipts, flagging missing "
        "receipts.",
    ),
    (
        "OPS",
        "IT service desk ticket routing",
        "Route IT service desk tickets to the right resolver group from the ticket text.",
    ),
    (
        "OPS",
        "Contract clause extraction",
        "Extract renewal dates, notice periods and liability caps from supplier contracts for "
        "procurement.",
    ),
    (
        "PEOPLE",
        "CV screening assistant",
        "Rank applications against role requirements and explain each ranking to recruiters.",
    ),
    (
        "PEOPLE",
        "Employee attrition prediction",
        "Predict which teams are at risk of losing staff in the next six months so HR can act "
        "early.",
    ),
    (
        "PEOPLE",
        "HR policy question answering chatbot",
        "Answer employee questions about leave, benefits and policies from the HR handbook.",
    ),
    (
        "RETAIL",
        "Next best offer for mobile banking",
        "Recommend the next product to offer each customer in the mobile app based on their "
        "transactions.",
    ),
    (
        "RETAIL",
        "Branch staffing demand forecast",
        "Forecast branch footfall by hour to plan staff rosters.",
    ),
    (
        "INSURE",
        "Motor damage assessment from photos",
        "Estimate repair costs from photos of damaged vehicles submitted with motor claims.",
    ),
    (
        "INSURE",
        "Underwriting submission intake",
        "Extract risk details from broker submission emails and attachments into the "
        "underwriting workbench.",
    ),
    (
        "WEALTH",
        "Market news summarisation for advisers",
        "Summarise overnight market news into a morning briefing tailored to each adviser's "
        "clients.",
    ),
    (
        "WEALTH",
        "KYC document verification",
        "Verify identity and address documents during client onboarding and flag expired or "
        "mismatched documents.",
    ),
    (
        "CORP",
        "Anti-money laundering alert triage",
        "Prioritise transaction monitoring alerts so analysts review the likeliest money "
        "laundering cases first.",
    ),
    (
        "OPS",
        "Customer email intent classification",
        "Detect the intent of customer emails to the operations mailbox and draft a reply for "
        "agents to approve.",
    ),
    (
        "PEOPLE",
        "Learning content recommendations",
        "Recommend training courses to employees based on their role and skills gaps.",
    ),
]

PLANTED = {
    frozenset(
        {
            "Invoice data extraction with OCR for accounts payable",
            "OCR invoice extraction for accounts payable team",
        }
    ),
    frozenset(
        {
            "Customer complaint classification and routing",
            "Complaint classification and routing for customer service",
        }
    ),
    frozenset({"Call centre transcript summarisation", "Summarisation of call centre transcripts"}),
}
SAME_UNIT_PAIR = frozenset(
    {"Claims triage assistant", "Claims triage assistant for commercial claims"}
)
# Required distance of every score from the threshold, both ways.
MARGIN = 0.1


def seed_portfolio() -> dict[str, Initiative]:
    units = {code: BusinessUnitFactory(code=code, name=name) for code, name in UNITS.items()}
    initiatives = {}
    for row in SEED:
        code, title, purpose = row[:3]
        stage = row[3] if len(row) > 3 else Stage.PROPOSED
        initiatives[title] = InitiativeFactory(
            business_unit=units[code], title=title, purpose=purpose, stage=stage
        )
    return initiatives


def pair_titles(candidate: DuplicateCandidate) -> frozenset[str]:
    return frozenset({candidate.first.title, candidate.second.title})


def open_pairs() -> set[frozenset[str]]:
    return {
        pair_titles(candidate)
        for candidate in DuplicateCandidate.objects.filter(
            status=DuplicateStatus.OPEN
        ).select_related("first", "second")
    }


def candidate_for(first: Initiative, second: Initiative) -> DuplicateCandidate:
    low, high = sorted([first.pk, second.pk])
    return DuplicateCandidate.objects.get(first_id=low, second_id=high)


def events(action: str, target=None):
    found = AuditEvent.objects.filter(action=action)
    if target is not None:
        found = found.filter(object_id=str(target.pk))
    return found


# --- The measure ---------------------------------------------------------------------------


def test_similarity_is_pg_trgm_similarity():
    assert trigrams("Cat") == {"  c", " ca", "cat", "at "}
    # Words are runs of letters and digits; case and punctuation do not matter.
    assert similarity("Follow-up e-mail", "follow up E MAIL") == 1.0
    # "word" has 5 trigrams, "two words" 4 + 6 of which 4 shared: 4 / (5 + 10 - 4).
    assert similarity("word", "two words") == pytest.approx(4 / 11)
    assert similarity("", "") == 0.0
    assert similarity("abc", "xyz") == 0.0


@postgres_only
@pytest.mark.postgres
def test_python_scores_equal_postgresql_scores():
    texts = [f"{row[1]} {row[2]}" for row in SEED[:12]] + ["Café résumé", "GPT-4o Übersetzung"]
    with connection.cursor() as cursor:
        for first in texts:
            for second in texts:
                cursor.execute("SELECT similarity(lower(%s), lower(%s))", [first, second])
                assert cursor.fetchone()[0] == pytest.approx(similarity(first, second), abs=1e-6)


def test_threshold_defaults_in_code_and_follows_settings(settings):
    assert duplicate_threshold() == DEFAULT_THRESHOLD
    settings.KEEL_DUPLICATE_THRESHOLD = 0.6
    assert duplicate_threshold() == 0.6


# --- Acceptance: the seeded portfolio --------------------------------------------------------


def test_seeded_portfolio_flags_exactly_the_planted_pairs_with_margin():
    initiatives = seed_portfolio()
    threshold = duplicate_threshold()

    assert detect_all_duplicates_task.delay().get() == len(PLANTED)

    assert open_pairs() == PLANTED
    # The scores the database itself computes, for every pair of units with any overlap.
    scores = {}
    for initiative in initiatives.values():
        if initiative.stage == Stage.RETIRED:
            continue
        for other, score in find_similar(initiative, limit=None, threshold=0.01):
            scores[frozenset({initiative.title, other.title})] = score
    planted_scores = [scores[pair] for pair in PLANTED]
    false_scores = [score for pair, score in scores.items() if pair not in PLANTED]
    assert min(planted_scores) >= threshold + MARGIN
    assert max(false_scores) <= threshold - MARGIN
    # And by brute force over every pair of different units (live or not).
    for first in SEED:
        for second in SEED:
            if first[0] != second[0] and frozenset({first[1], second[1]}) not in PLANTED:
                score = similarity(f"{first[1]} {first[2]}", f"{second[1]} {second[2]}")
                if {first[1], second[1]} & {row[1] for row in SEED if len(row) > 3}:
                    continue  # the retired near-duplicate is excluded, not dissimilar
                assert score <= threshold - MARGIN, (first[1], second[1], score)


def test_each_planted_duplicate_is_the_best_match_of_its_partner():
    initiatives = seed_portfolio()
    for pair in PLANTED:
        first, second = sorted(pair)
        found = find_similar(initiatives[first])
        assert found, first
        assert found[0][0].title == second


def test_same_unit_ended_and_merged_initiatives_are_not_flagged():
    initiatives = seed_portfolio()
    claims = initiatives["Claims triage assistant"]
    # Clearly alike (about 0.7), but inside one unit.
    assert (
        similarity(
            f"{claims.title} {claims.purpose}",
            "Claims triage assistant for commercial claims Triage incoming commercial property "
            "claims by complexity so simple claims are settled faster.",
        )
        > 0.6
    )
    assert find_similar(claims) == []
    # The retired invoice initiative is no candidate of the live ones, nor they of it.
    retired = initiatives["Invoice OCR extraction for accounts payable"]
    invoice = initiatives["Invoice data extraction with OCR for accounts payable"]
    assert retired not in [other for other, _ in find_similar(invoice)]
    assert duplicate_services.duplicates_refresh(retired) == 0
    # A merged initiative is no candidate either.
    complaint = initiatives["Customer complaint classification and routing"]
    Initiative.objects.filter(
        title="Complaint classification and routing for customer service"
    ).update(merged_into=complaint)
    assert find_similar(complaint) == []

    duplicate_services.duplicates_refresh_all()
    assert SAME_UNIT_PAIR not in open_pairs()
    assert all(retired.title not in pair for pair in open_pairs())
    assert open_pairs() == PLANTED - {
        frozenset(
            {
                "Customer complaint classification and routing",
                "Complaint classification and routing for customer service",
            }
        )
    }


def test_similar_needs_a_word_in_common_and_honours_the_limit(unit_a, unit_b):
    subject = InitiativeFactory(
        business_unit=unit_a, title="Invoice OCR extraction", purpose="Accounts payable."
    )
    for number in range(4):
        InitiativeFactory(
            business_unit=unit_b,
            title=f"Invoice OCR extraction {number}",
            purpose="Accounts payable.",
        )
    InitiativeFactory(business_unit=unit_b, title="Unrelated", purpose="Nothing alike.")
    assert len(find_similar(subject, limit=2)) == 2
    assert len(find_similar(subject, limit=None)) == 4


@postgres_only
@pytest.mark.postgres
def test_postgresql_search_can_use_the_trigram_index(unit_a, unit_b):
    subject = InitiativeFactory(business_unit=unit_a, title="Invoice OCR extraction", purpose="")
    twin = InitiativeFactory(business_unit=unit_b, title="OCR invoice extraction", purpose="")
    with transaction.atomic(), connection.cursor() as cursor:
        set_similarity_threshold(cursor, 0.45)
        # Leave the planner only bitmap scans, which need an index matching the condition:
        # the match expression is the GIN index's.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        matching = Initiative.objects.filter(trigram_match("invoice ocr extraction")).order_by()
        plan = matching.explain()
        assert "initiative_title_purpose_trgm" in plan
        found = list(postgresql_similar_queryset(subject, "invoice ocr extraction"))
    assert found == [twin]


# --- Refreshing ----------------------------------------------------------------------------


def test_saving_an_initiative_schedules_detection_after_commit(
    unit_a, unit_b, member_a, django_capture_on_commit_callbacks
):
    other = InitiativeFactory(
        business_unit=unit_b,
        title="Invoice data extraction with OCR for accounts payable",
        purpose="Extract amounts and due dates from scanned supplier invoices.",
    )
    with django_capture_on_commit_callbacks(execute=True):
        created = initiative_create(
            actor=member_a,
            data={
                "title": "OCR invoice extraction for accounts payable",
                "purpose": "Extract due dates and amounts from scanned supplier invoices.",
                "business_unit": unit_a,
                "accountable_owner": member_a,
            },
        )
    candidate = candidate_for(created, other)
    assert candidate.status == DuplicateStatus.OPEN
    assert 0.45 < candidate.score <= 1

    # Editing it into something else removes the undecided pair.
    with django_capture_on_commit_callbacks(execute=True):
        initiative_update(
            actor=member_a,
            initiative=created,
            data={"title": "Branch footfall forecast", "purpose": "Plan staff rosters."},
        )
    assert not DuplicateCandidate.objects.exists()


def test_refresh_is_idempotent_and_updates_open_scores(unit_a, unit_b):
    first = InitiativeFactory(business_unit=unit_a, title="Claims triage", purpose="Motor claims.")
    second = InitiativeFactory(business_unit=unit_b, title="Claims triage", purpose="Home claims.")
    assert duplicate_services.duplicates_refresh(first) == 1
    assert duplicate_services.duplicates_refresh(second) == 1
    assert DuplicateCandidate.objects.count() == 1
    candidate = candidate_for(first, second)
    assert candidate.first_id < candidate.second_id
    Initiative.objects.filter(pk=second.pk).update(purpose="Motor claims.")
    detect_duplicates_task.delay(first.pk).get()
    candidate.refresh_from_db()
    assert candidate.score == pytest.approx(1.0)
    assert detect_duplicates_task.delay(10**9).get() is None


def test_a_dismissed_pair_never_reappears(unit_a, unit_b, coe_reviewer):
    initiatives = seed_portfolio()
    duplicate_services.duplicates_refresh_all()
    invoice = initiatives["Invoice data extraction with OCR for accounts payable"]
    twin = initiatives["OCR invoice extraction for accounts payable team"]
    candidate = candidate_for(invoice, twin)
    duplicate_services.duplicate_dismiss(
        actor=coe_reviewer, candidate=candidate, reason="Different suppliers and systems."
    )

    # Even identical text does not re-open it, from either side or nightly.
    Initiative.objects.filter(pk=twin.pk).update(title=invoice.title, purpose=invoice.purpose)
    duplicate_services.duplicates_refresh(invoice)
    duplicate_services.duplicates_refresh(twin)
    detect_all_duplicates_task.delay().get()

    candidate.refresh_from_db()
    assert candidate.status == DuplicateStatus.DISMISSED
    assert (
        DuplicateCandidate.objects.filter(first=candidate.first, second=candidate.second).count()
        == 1
    )
    assert pair_titles(candidate) not in open_pairs()
    response = _client(coe_reviewer).get(LIST_URL)
    assert invoice.title not in response.content.decode()
    event = events("duplicate.dismissed", candidate).get()
    assert event.reason == "Different suppliers and systems."


def test_nightly_task_is_scheduled():
    entries = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert "portfolio.duplicate_tasks.detect_all_duplicates_task" in entries


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


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", [Role.BU_MEMBER, Role.EXECUTIVE, Role.PLATFORM_ENGINEER])
def test_page_and_actions_are_forbidden_outside_the_coe(pair, role, unit_a):
    _, merged, candidate = pair
    client = _client(member(role, unit_a))
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
    page = _client(member(role, unit_a)).get(LIST_URL).content.decode()
    for initiative in (survivor, merged):
        assert initiative.reference in page and initiative.title in page
        assert initiative.business_unit.name in page
    assert f"{round(candidate.score * 100)} % alike" in page
    assert reverse("portfolio:duplicate_link", args=[candidate.pk]) in page
    merge_url = reverse("portfolio:duplicate_merge", args=[candidate.pk])
    assert (merge_url in page) == (role in (Role.COE_ADMIN, Role.ADMIN))


def test_link_through_htmx_swaps_the_card(pair, coe_reviewer):
    _, _, candidate = pair
    response = _client(coe_reviewer).post(
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
    client = _client(coe_reviewer)
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
    response = _client(coe_admin).post(
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
    response = _client(coe_admin).post(
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
    client = _client(coe_admin)
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
    detail = _client(coe_reviewer).get(survivor.get_absolute_url()).content.decode()
    assert url in detail
    line = _client(coe_reviewer).get(url).content.decode()
    assert "Possible duplicates" in line and merged.reference in line
    # A BU member's page does not load it, and asking directly gives nothing.
    assert url not in _client(member_a).get(survivor.get_absolute_url()).content.decode()
    assert _client(member_a).get(url).content == b""


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
