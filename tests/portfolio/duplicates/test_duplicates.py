"""Duplicate detection: the trigram similarity measure (equal to PostgreSQL's pg_trgm) and
its threshold, the acceptance test on a realistic seeded portfolio (exactly the planted
cross-unit pairs are flagged, with a margin, the same on SQLite and PostgreSQL), what is never
flagged (same unit, ended or merged initiatives), the trigram index, and refreshing the
candidates when an initiative is saved, nightly, and never re-opening a dismissed pair. The
CoE's decisions on the candidates are in ``test_duplicates_review.py``."""

import pytest
from django.conf import settings
from django.db import connection, transaction

from portfolio.duplicates import services as duplicate_services
from portfolio.duplicates.choices import DuplicateStatus
from portfolio.duplicates.matching import (
    DEFAULT_THRESHOLD,
    duplicate_threshold,
    find_similar,
    postgresql_similar_queryset,
    set_similarity_threshold,
    similarity,
    trigram_match,
    trigrams,
)
from portfolio.duplicates.models import DuplicateCandidate
from portfolio.duplicates.tasks import detect_all_duplicates_task, detect_duplicates_task
from portfolio.initiatives.choices import Stage
from portfolio.initiatives.models import Initiative
from portfolio.initiatives.services import initiative_create, initiative_update
from tests.factories import BusinessUnitFactory, InitiativeFactory
from tests.portfolio.duplicates.helpers import LIST_URL, candidate_for, client_for, events

pytestmark = pytest.mark.django_db

IS_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
postgres_only = pytest.mark.skipif(not IS_POSTGRES, reason="pg_trgm exists on PostgreSQL only")

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
    response = client_for(coe_reviewer).get(LIST_URL)
    assert invoice.title not in response.content.decode()
    event = events("duplicate.dismissed", candidate).get()
    assert event.reason == "Different suppliers and systems."


def test_nightly_task_is_scheduled():
    entries = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert "portfolio.duplicate_tasks.detect_all_duplicates_task" in entries
