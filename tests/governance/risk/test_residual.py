"""Inherent and residual risk (issue 19, item 4): the rule, the register (columns, sorting,
query count), the APIs and the dossier; the tier is still the questionnaire's."""

import datetime

import pytest
from django.urls import reverse

from core.choices import Role
from governance.reporting.dossier import dossier_data
from governance.risk.choices import ResultStatus
from governance.risk.models import Control, ControlResult, RiskAssessment
from governance.risk.residual import RESIDUAL_DEFINITION, residual_score
from governance.risk.selectors import risk_register
from tests.factories import member
from tests.governance.helpers import CREDIT_SCORING, LOW_RISK, TIER_3, assess, assessed

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("inherent", "mitigation", "residual"),
    [
        (10, 0, 10),
        (10, 3, 7),
        (10, 5, 5),
        (10, 8, 5),  # floor: half of 10
        (7, 6, 4),  # floor: half of 7 rounded up
        (1, 4, 1),
        (0, 2, 0),
        (None, 3, None),
    ],
)
def test_the_residual_rule(inherent, mitigation, residual):
    assert residual_score(inherent, mitigation) == residual


def test_every_control_got_weight_one_from_the_migration():
    assert Control.objects.count() > 0
    assert set(Control.objects.values_list("mitigation_weight", flat=True)) == {1}


def set_results(initiative, statuses: dict[str, tuple[str, bool, int]]):
    """Control code → (status, required now, mitigation weight), written as test data."""
    for code, (status, required, weight) in statuses.items():
        control = Control.objects.get(code=code)
        Control.objects.filter(pk=control.pk).update(mitigation_weight=weight)
        ControlResult.objects.update_or_create(
            initiative=initiative,
            control=control,
            defaults={
                "status": status,
                "is_required": required,
                "waiver_expires_on": datetime.date(2099, 1, 1)
                if status == ResultStatus.WAIVED
                else None,
            },
        )


@pytest.fixture
def owner(unit_a):
    return member(Role.BU_MEMBER, unit_a, username="owner")


@pytest.fixture
def high(unit_a, owner):
    """A credit-scoring initiative: a high inherent score."""
    initiative = assessed(unit_a, owner, CREDIT_SCORING)
    ControlResult.objects.filter(initiative=initiative).update(is_required=False)
    return initiative


def codes(count):
    return list(Control.objects.order_by("code").values_list("code", flat=True)[:count])


def test_the_register_shows_inherent_and_residual_and_keeps_the_tier(high, owner):
    first, second, third, fourth, fifth = codes(5)
    assessment = RiskAssessment.objects.get(initiative=high, is_current=True)
    inherent, tier = assessment.score, assessment.computed_tier
    assert inherent >= 10
    set_results(
        high,
        {
            first: (ResultStatus.PASSING, True, 2),
            second: (ResultStatus.PASSING, True, 1),
            third: (ResultStatus.FAILING, True, 5),  # failing: removes nothing
            fourth: (ResultStatus.PASSING, False, 4),  # not required now: nothing
            fifth: (ResultStatus.WAIVED, True, 3),  # waived: nothing
        },
    )
    row = risk_register(user=owner).get(pk=high.pk)
    assert row.inherent_score == inherent
    assert row.residual_score == max(inherent - 3, (inherent + 1) // 2) == inherent - 3
    assert row.effective_tier == tier  # the tier is not driven by the residual score
    set_results(high, {third: (ResultStatus.PASSING, True, 50)})
    row = risk_register(user=owner).get(pk=high.pk)
    assert row.residual_score == (inherent + 1) // 2  # the floor
    assert RiskAssessment.objects.get(pk=assessment.pk).computed_tier == tier


def test_the_register_page_sorts_by_residual(client, unit_a, owner, high):
    low = assessed(unit_a, owner, LOW_RISK)
    middle = assessed(unit_a, owner, TIER_3)
    unassessed = assessed(unit_a, owner, LOW_RISK)
    RiskAssessment.objects.filter(initiative=unassessed).delete()
    # High inherent, cut to its floor; the middle one keeps its score.
    ControlResult.objects.filter(initiative__in=[low, middle]).update(is_required=False)
    set_results(high, {code: (ResultStatus.PASSING, True, 20) for code in codes(1)})
    scores = {
        row.pk: row.residual_score
        for row in risk_register(user=owner).filter(pk__in=[low.pk, middle.pk, high.pk])
    }
    expected = [pk for pk, _ in sorted(scores.items(), key=lambda item: (item[1], item[0]))]
    client.force_login(owner)
    url = reverse("governance:risk_register")
    page = client.get(url, {"ordering": "residual"}).content.decode()
    assert "Residual" in page and "Inherent" in page
    references = {initiative.pk: initiative.reference for initiative in (low, middle, high)}
    positions = [page.index(references[pk]) for pk in expected]
    assert positions == sorted(positions)
    assert page.index(references[expected[-1]]) < page.index(unassessed.reference)  # nulls last
    descending = client.get(url, {"ordering": "-residual"}).content.decode()
    assert descending.index(references[expected[-1]]) < descending.index(references[expected[0]])


def test_the_register_query_count_does_not_grow_with_residual_scores(
    client, unit_a, owner, django_assert_max_num_queries
):
    for _ in range(2):
        assessed(unit_a, owner, LOW_RISK)
    client.force_login(owner)
    url = reverse("governance:risk_register") + "?ordering=-residual"
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(6):
        assessed(unit_a, owner, TIER_3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_the_apis_give_both_scores(client, high, owner):
    first = codes(1)
    set_results(high, {first[0]: (ResultStatus.PASSING, True, 2)})
    client.force_login(owner)
    rows = client.get("/api/v1/risk-register/").json()["results"]
    (row,) = [row for row in rows if row["id"] == high.pk]
    current = RiskAssessment.objects.get(initiative=high, is_current=True)
    assert row["inherent_score"] == current.score
    assert row["residual_score"] == current.score - 2
    # A reassessment supersedes the old one: only the current has a residual score.
    assess(high, owner, CREDIT_SCORING)
    assessments = client.get("/api/v1/risk-assessments/", {"initiative": high.pk}).json()
    by_current = {item["is_current"]: item for item in assessments["results"]}
    assert by_current[True]["inherent_score"] == by_current[True]["score"]
    assert by_current[True]["residual_score"] is not None
    assert by_current[False]["residual_score"] is None


def test_the_dossier_shows_both_scores(high, owner):
    set_results(high, {codes(1)[0]: (ResultStatus.PASSING, True, 3)})
    data = dossier_data(user=owner, initiative=high)
    scores = data["risk_scores"]
    assert scores.inherent == data["assessment"].score
    assert (scores.mitigation, scores.residual) == (3, scores.inherent - 3)
    from django.template.loader import render_to_string

    html = render_to_string("governance/reporting/dossier_pdf.html", data)
    assert "Residual risk score" in html and "Inherent risk score" in html


def test_the_rule_is_on_the_definitions_page(client, executive):
    client.force_login(executive)
    page = client.get(reverse("dashboard:definitions")).content.decode()
    assert 'id="risk-scores"' in page
    assert "half the inherent score rounded up" in RESIDUAL_DEFINITION


def test_the_assessment_page_shows_the_residual_score(client, high, owner):
    set_results(high, {codes(1)[0]: (ResultStatus.PASSING, True, 2)})
    inherent = RiskAssessment.objects.get(initiative=high, is_current=True).score
    client.force_login(owner)
    page = client.get(reverse("governance:assessment", args=[high.pk])).content.decode()
    assert f"<dt>Residual risk score</dt><dd>{inherent - 2} " in page
