"""Barrier assessments: the service's permissions and audit, the per-initiative form, the
BU × barrier heatmap (values, scope, constant queries) and the API."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core.choices import Role
from core.models import AuditEvent
from portfolio.initiatives.choices import Stage
from portfolio.initiatives.models import Initiative
from portfolio.scaling import services as barriers
from portfolio.scaling.choices import Barrier
from portfolio.scaling.models import BarrierAssessment
from portfolio.scaling.selectors import barrier_assessment_coverage, barrier_heatmap
from tests.factories import BusinessUnitFactory, InitiativeFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def initiative(unit_a, member_a):
    return InitiativeFactory(
        business_unit=unit_a, accountable_owner=member_a, stage=Stage.PILOT, title="Claims triage"
    )


def assess(actor, initiative, barrier=Barrier.DATA, score=4, note="Silos"):
    return barriers.barrier_assess(
        actor=actor, initiative=initiative, barrier=barrier, score=score, note=note
    )


def events():
    return AuditEvent.objects.filter(action="barrier.assessed")


# --- the service --------------------------------------------------------------------------


def test_assessing_creates_the_score_and_audits_it(initiative, member_a):
    assessment = assess(member_a, initiative, note="  Silos  ")

    assert (assessment.score, assessment.note, assessment.assessed_by) == (4, "Silos", member_a)
    event = events().get()
    assert event.actor_id == member_a.pk
    assert event.object_type == "portfolio.barrierassessment"
    assert event.object_id == str(assessment.pk)
    assert '"before":{}' in event.payload
    assert '"barrier":"data"' in event.payload and '"score":4' in event.payload


def test_reassessing_changes_the_row_and_records_before_and_after(initiative, member_a):
    assess(member_a, initiative)

    changed = assess(member_a, initiative, score=2, note="Shared lake now")

    assert BarrierAssessment.objects.get() == changed
    assert changed.score == 2
    event = events().order_by("-sequence").first()
    assert '"before":{"note":"Silos","score":4}' in event.payload
    assert '"score":2' in event.payload


def test_an_unchanged_score_writes_no_event(initiative, member_a):
    assess(member_a, initiative)
    assess(member_a, initiative)

    assert events().count() == 1


@pytest.mark.parametrize("role", [Role.COE_REVIEWER, Role.COE_ADMIN, Role.ADMIN])
def test_coe_staff_may_assess_any_units_initiative(initiative, unit_b, role):
    assess(member(role, unit_b, username=f"coe-{role}"), initiative)

    assert BarrierAssessment.objects.count() == 1


def test_the_owner_from_another_unit_may_assess(initiative, unit_b):
    owner = member(Role.BU_MEMBER, unit_b, username="owen")
    Initiative.objects.filter(pk=initiative.pk).update(accountable_owner=owner)
    initiative.refresh_from_db()

    assess(owner, initiative)

    assert BarrierAssessment.objects.count() == 1


@pytest.mark.parametrize(
    "persona",
    ["other_unit_member", "executive", "risk_officer", "platform_engineer", "anonymous"],
)
def test_denied_personas_change_nothing(initiative, member_a, unit_a, unit_b, persona):
    assess(member_a, initiative)
    actor = {
        "other_unit_member": lambda: member(Role.BU_MEMBER, unit_b, username="bob"),
        "executive": lambda: member(Role.EXECUTIVE, unit_a, username="erin"),
        "risk_officer": lambda: member(Role.RISK_OFFICER, unit_a, username="rita"),
        "platform_engineer": lambda: member(Role.PLATFORM_ENGINEER, unit_a, username="pete"),
        "anonymous": AnonymousUser,
    }[persona]()

    with pytest.raises(PermissionDenied):
        assess(actor, initiative, score=1, note="changed")

    stored = BarrierAssessment.objects.get()
    assert (stored.score, stored.note) == (4, "Silos")
    assert events().count() == 1


@pytest.mark.parametrize(
    "barrier, score, field",
    [("data", 0, "score"), ("data", 6, "score"), ("data", "3", "score"), ("data", True, "score"),
     ("weather", 3, "barrier")],
)  # fmt: skip
def test_invalid_input_is_a_field_error(initiative, member_a, barrier, score, field):
    with pytest.raises(ValidationError) as error:
        assess(member_a, initiative, barrier=barrier, score=score)

    assert field in error.value.error_dict
    assert not BarrierAssessment.objects.exists()
    assert not events().exists()


def test_assessing_several_rows_is_all_or_nothing(initiative, member_a):
    with pytest.raises(ValidationError):
        barriers.barriers_assess(
            actor=member_a,
            initiative=initiative,
            scores={Barrier.DATA: (3, ""), Barrier.CHANGE: (9, "")},
        )

    assert not BarrierAssessment.objects.exists()
    assert not events().exists()


# --- the form page ---------------------------------------------------------------------------


def test_form_shows_six_rows_and_saves_the_scored_ones(client, initiative, member_a):
    client.force_login(member_a)
    address = reverse("roadmap:initiative_barriers", args=[initiative.pk])

    page = client.get(address)
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('<fieldset class="question') == 6
    for _, label in Barrier.choices:
        assert label.replace("&", "&amp;") in html

    response = client.post(
        address,
        {
            "score_data": "5",
            "note_data": "Three warehouses",
            "score_change": "2",
            "note_change": "",
        },
    )

    assert response.status_code == 302
    assert dict(BarrierAssessment.objects.values_list("barrier", "score")) == {
        "data": 5,
        "change": 2,
    }
    assert events().count() == 2


def test_a_note_without_a_score_is_refused(client, initiative, member_a):
    client.force_login(member_a)

    response = client.post(
        reverse("roadmap:initiative_barriers", args=[initiative.pk]), {"note_data": "Silos"}
    )

    assert response.status_code == 200
    assert "Give a score with the note." in response.content.decode()
    assert not BarrierAssessment.objects.exists()


def test_readers_see_the_assessment_without_the_form(client, initiative, member_a, executive):
    assess(member_a, initiative)
    client.force_login(executive)
    address = reverse("roadmap:initiative_barriers", args=[initiative.pk])

    page = client.get(address)

    assert page.status_code == 200
    assert '<form method="post" class="stacked card"' not in page.content.decode()
    assert "4 of 5" in page.content.decode()
    assert client.post(address, {"score_data": "1"}).status_code == 403
    assert BarrierAssessment.objects.get().score == 4


def test_an_initiative_outside_the_scope_is_404(client, initiative, member_b):
    client.force_login(member_b)
    address = reverse("roadmap:initiative_barriers", args=[initiative.pk])

    assert client.get(address).status_code == 404
    assert client.post(address, {"score_data": "1"}).status_code == 404
    assert not BarrierAssessment.objects.exists()


def test_initiative_page_links_to_the_barrier_assessment(client, initiative, member_a):
    client.force_login(member_a)

    html = client.get(initiative.get_absolute_url()).content.decode()

    assert reverse("roadmap:initiative_barriers", args=[initiative.pk]) in html


# --- the heatmap -------------------------------------------------------------------------------


def scored(unit, owner, scores: dict, **fields):
    """An initiative of ``unit`` with ``scores`` ({barrier: score}) stored directly."""
    initiative = InitiativeFactory(
        business_unit=unit,
        accountable_owner=owner,
        stage=fields.pop("stage", Stage.PILOT),
        **fields,
    )
    BarrierAssessment.objects.bulk_create(
        BarrierAssessment(initiative=initiative, barrier=barrier, score=score)
        for barrier, score in scores.items()
    )
    return initiative


def test_heatmap_averages_per_unit_and_barrier(unit_a, unit_b, member_a, member_b):
    scored(unit_a, member_a, {Barrier.DATA: 4, Barrier.CHANGE: 1})
    scored(unit_a, member_a, {Barrier.DATA: 5})
    scored(unit_b, member_b, {Barrier.DATA: 2, Barrier.GOVERNANCE: 3})
    scored(unit_b, member_b, {Barrier.DATA: 1}, stage=Stage.RETIRED)  # left out

    heatmap = barrier_heatmap(user=member(Role.EXECUTIVE, unit_a, username="erin"))

    order = [value for value, _ in heatmap.barriers]
    by_unit = {
        row.code: {order[i]: cell.average for i, cell in enumerate(row.cells)}
        for row in heatmap.rows
    }
    assert by_unit["RETAIL"][Barrier.DATA] == Decimal("4.50")
    assert by_unit["RETAIL"][Barrier.CHANGE] == Decimal("1.00")
    assert by_unit["RETAIL"][Barrier.GOVERNANCE] is None
    assert by_unit["INSURE"][Barrier.DATA] == Decimal("2.00")
    assert by_unit["INSURE"][Barrier.GOVERNANCE] == Decimal("3.00")
    overall = dict(zip(order, heatmap.overall.cells, strict=True))
    assert overall[Barrier.DATA].average == Decimal("3.67")
    assert overall[Barrier.DATA].assessments == 3
    assert overall[Barrier.INFRASTRUCTURE].average is None


def test_heatmap_is_scoped_to_the_readers_initiatives(unit_a, unit_b, member_a, member_b):
    scored(unit_a, member_a, {Barrier.DATA: 4})
    scored(unit_b, member_b, {Barrier.DATA: 2})

    heatmap = barrier_heatmap(user=member_b)

    assert [row.code for row in heatmap.rows] == ["INSURE"]
    assert heatmap.overall.cells[list(Barrier.values).index(Barrier.DATA)].average == 2


def test_heatmap_page_draws_the_svg_with_a_data_table(client, unit_a, member_a):
    scored(unit_a, member_a, {Barrier.DATA: 4, Barrier.CHANGE: 2})
    client.force_login(member_a)

    response = client.get(reverse("roadmap:barrier_heatmap"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html and 'role="img"' in html
    assert "<details>" in html and "Show the data as a table" in html
    assert ">4.0</text>" in html  # the number in the cell, not only its colour
    assert "style=" not in html


def test_heatmap_page_without_assessments_says_no_data(client, member_a):
    client.force_login(member_a)

    html = client.get(reverse("roadmap:barrier_heatmap")).content.decode()

    assert "No data" in html and "<svg" not in html.split("<main")[1].split("</main>")[0]


def add_units_with_scores(count: int, start: int, owner) -> None:
    for number in range(start, start + count):
        unit = BusinessUnitFactory(code=f"HEAT{number}", name=f"Unit {number:03d}")
        scored(
            unit,
            owner,
            {barrier: 1 + (number + index) % 5 for index, barrier in enumerate(Barrier.values)},
        )


def test_heatmap_page_query_count_does_not_grow(
    client, coe_reviewer, django_assert_max_num_queries, django_assert_num_queries
):
    address = reverse("roadmap:barrier_heatmap")
    add_units_with_scores(2, 0, coe_reviewer)
    client.force_login(coe_reviewer)
    client.get(address)  # warm per-process caches so both measurements start equal

    # Session, user, memberships, the notification badge, and the one aggregate query.
    with django_assert_max_num_queries(5) as few:
        response = client.get(address)
    assert len(response.context["rows"]) == 3  # two units and the all-units row

    add_units_with_scores(25, 2, coe_reviewer)

    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(address)
    assert len(response.context["rows"]) == 28


# --- the API -----------------------------------------------------------------------------------


def test_api_creates_then_updates_by_initiative_and_barrier(client, initiative, member_a):
    client.force_login(member_a)
    payload = {"initiative": initiative.pk, "barrier": "data", "score": 3, "note": "Two lakes"}

    created = client.post("/api/v1/barrier-assessments/", payload, content_type="application/json")
    again = client.post(
        "/api/v1/barrier-assessments/", {**payload, "score": 4}, content_type="application/json"
    )

    assert created.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == created.json()["id"]
    assert again.json()["score"] == 4
    patched = client.patch(
        f"/api/v1/barrier-assessments/{created.json()['id']}/",
        {"note": "One lake"},
        content_type="application/json",
    )
    assert patched.status_code == 200
    assert (patched.json()["score"], patched.json()["note"]) == (4, "One lake")
    assert events().count() == 3


def test_api_refuses_invisible_initiatives_and_readers(client, initiative, member_b, executive):
    client.force_login(member_b)
    payload = {"initiative": initiative.pk, "barrier": "data", "score": 3}

    hidden = client.post("/api/v1/barrier-assessments/", payload, content_type="application/json")
    assert hidden.status_code == 400  # "does not exist": no hint that it does

    client.force_login(executive)
    refused = client.post("/api/v1/barrier-assessments/", payload, content_type="application/json")
    assert refused.status_code == 403
    assert not BarrierAssessment.objects.exists()
    assert not events().exists()


def test_api_lists_only_visible_assessments(client, unit_a, unit_b, member_a, member_b):
    mine = scored(unit_b, member_b, {Barrier.DATA: 2})
    scored(unit_a, member_a, {Barrier.DATA: 4})
    client.force_login(member_b)

    rows = client.get("/api/v1/barrier-assessments/").json()["results"]

    assert [row["initiative"] for row in rows] == [mine.pk]
    filtered = client.get("/api/v1/barrier-assessments/", {"barrier": "change"}).json()
    assert filtered["count"] == 0


def test_api_list_query_count_does_not_grow(
    client, coe_reviewer, django_assert_max_num_queries, django_assert_num_queries
):
    add_units_with_scores(2, 0, coe_reviewer)
    client.force_login(coe_reviewer)
    client.get("/api/v1/barrier-assessments/")

    # Session, user, memberships, count and the rows (with initiative, unit and assessor).
    with django_assert_max_num_queries(5) as few:
        assert client.get("/api/v1/barrier-assessments/").json()["count"] == 12

    add_units_with_scores(3, 2, coe_reviewer)

    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get("/api/v1/barrier-assessments/").json()["count"] == 30


def test_coverage_indicator(unit_a, member_a):
    scored(unit_a, member_a, dict.fromkeys(Barrier.values, 3))
    scored(unit_a, member_a, {Barrier.DATA: 3})
    scored(unit_a, member_a, dict.fromkeys(Barrier.values, 3), stage=Stage.DRAFT)  # not counted

    result = barrier_assessment_coverage(Initiative.objects.all())

    assert (result.value, result.numerator, result.denominator) == (Decimal("50.00"), 1, 2)
    assert barrier_assessment_coverage(Initiative.objects.none()).value is None
