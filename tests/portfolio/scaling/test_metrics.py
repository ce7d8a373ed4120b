"""The scaling metrics against hand-built portfolios with known answers, an empty portfolio,
and the reader's scope; and the scaling page and its drill-downs."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.choices import Role
from portfolio.initiatives.choices import DeploymentStatus, Stage
from portfolio.initiatives.models import Deployment, Initiative, StageChange
from portfolio.initiatives.selectors import scope_initiatives
from portfolio.scaling import metrics
from portfolio.scaling.selectors import with_production_unit_count
from tests.factories import BusinessUnitFactory, InitiativeFactory, member

pytestmark = pytest.mark.django_db

D = datetime.date


def registered(initiative, day: datetime.date) -> None:
    """Backdate the initiative's registration to noon of ``day``."""
    moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
    Initiative.objects.filter(pk=initiative.pk).update(created_at=moment)


def history(initiative, *stages) -> None:
    """Stage changes through ``stages``, a day apart."""
    start = timezone.make_aware(datetime.datetime(2024, 1, 1, 9))
    previous = ""
    for offset, stage in enumerate(stages):
        StageChange.objects.create(
            initiative=initiative,
            from_stage=previous,
            to_stage=stage,
            changed_at=start + datetime.timedelta(days=offset),
        )
        previous = stage


def deploy(initiative, unit, status=DeploymentStatus.PRODUCTION) -> None:
    Deployment.objects.create(initiative=initiative, business_unit=unit, status=status)


@pytest.fixture
def units(db):
    return (
        BusinessUnitFactory(code="ALPHA", name="Alpha"),
        BusinessUnitFactory(code="BETA", name="Beta"),
        BusinessUnitFactory(code="GAMMA", name="Gamma"),
    )


@pytest.fixture
def portfolio(units):
    """Seven counted initiatives (and one merged one) whose every figure is known:

    ========  ========  ==========================================  =======  =====  ========
    name      stage     how                                         units    pilot  prod
    ========  ========  ==========================================  =======  =====  ========
    scaled    scaled    owner live + Beta, Gamma in production      3        yes    yes
    live      prod.     own production deployment, Beta in pilot    1        yes    yes
    piloting  pilot     pilot_started_on only                       0        yes    no
    stopped   retired   history draft → … → pilot → retired only    0        yes    no
    paused    paused    history … → production → paused; own and    2        yes    yes
                        Beta production deployments
    rejected  rejected  history … → pilot → rejected                0        yes    no
    draft     draft     nothing                                     0        no     no
    merged    retired   merged into "scaled" (not counted at all)   –        –      –
    ========  ========  ==========================================  =======  =====  ========
    """
    alpha, beta, gamma = units
    made = {}

    def make(name, stage, unit=alpha, **fields):
        made[name] = InitiativeFactory(title=name, business_unit=unit, stage=stage, **fields)
        return made[name]

    scaled = make("scaled", Stage.SCALED, production_on=D(2024, 3, 1))
    registered(scaled, D(2024, 1, 1))  # 60 days
    deploy(scaled, beta)
    deploy(scaled, gamma)

    live = make("live", Stage.PRODUCTION, production_on=D(2024, 1, 11))
    registered(live, D(2024, 1, 1))  # 10 days
    deploy(live, alpha)
    deploy(live, beta, DeploymentStatus.PILOT)

    make("piloting", Stage.PILOT, unit=beta, pilot_started_on=D(2024, 2, 1))

    stopped = make("stopped", Stage.RETIRED)
    history(stopped, Stage.DRAFT, Stage.PROPOSED, Stage.PILOT, Stage.RETIRED)

    paused = make("paused", Stage.PAUSED, production_on=D(2024, 6, 10))
    registered(paused, D(2024, 2, 1))  # 130 days
    history(paused, Stage.DRAFT, Stage.PROPOSED, Stage.PILOT, Stage.PRODUCTION, Stage.PAUSED)
    deploy(paused, alpha)
    deploy(paused, beta)

    rejected = make("rejected", Stage.REJECTED, unit=gamma)
    history(rejected, Stage.DRAFT, Stage.PROPOSED, Stage.PILOT, Stage.REJECTED)

    make("draft", Stage.DRAFT, unit=gamma)

    merged = make("merged", Stage.RETIRED, merged_into=scaled, production_on=D(2024, 1, 2))
    deploy(merged, beta)
    deploy(merged, gamma)
    return made


def everything():
    return Initiative.objects.all()


def titles(queryset) -> set[str]:
    return set(queryset.values_list("title", flat=True))


def test_production_in_two_units_counts_deployments_and_the_owner_once(portfolio):
    result = metrics.production_in_two_units(everything())

    assert result == metrics.MetricResult(Decimal(2), 2, 7)
    members = metrics.metric_members(
        everything(), key=metrics.PRODUCTION_TWO_UNITS, part="numerator"
    )
    assert titles(members) == {"scaled", "paused"}
    units = dict(metrics.with_scaling_facts(everything()).values_list("title", "production_units"))
    assert units == {
        "scaled": 3,
        "live": 1,
        "piloting": 0,
        "stopped": 0,
        "paused": 2,
        "rejected": 0,
        "draft": 0,
    }


def test_cross_bu_adoption_counts_units_by_the_metrics_definition(portfolio):
    """The adoption selector and the scaling metric share one definition of production units
    (they once disagreed on "paused", whose own unit runs it through a deployment)."""
    adopted = with_production_unit_count(Initiative.objects.filter(merged_into__isnull=True))
    counted = dict(
        metrics.with_scaling_facts(everything()).values_list("title", "production_units")
    )
    assert dict(adopted.values_list("title", "production_units")) == counted
    assert counted["paused"] == 2


def test_scaling_gap_is_the_share_of_piloted_initiatives_not_scaled(portfolio):
    result = metrics.scaling_gap(everything())

    # Reached pilot: scaled, live, piloting, stopped, paused, rejected (6); of them not in
    # production in two units: live, piloting, stopped, rejected (4).
    assert result == metrics.MetricResult(Decimal("66.67"), 4, 6)
    assert titles(
        metrics.metric_members(everything(), key=metrics.SCALING_GAP, part="denominator")
    ) == {"scaled", "live", "piloting", "stopped", "paused", "rejected"}
    assert titles(
        metrics.metric_members(everything(), key=metrics.SCALING_GAP, part="numerator")
    ) == {"live", "piloting", "stopped", "rejected"}


def test_conversion_counts_production_ever_reached_including_paused(portfolio):
    result = metrics.pilot_to_production_conversion(everything())

    # Of the 6 that reached pilot, scaled, live and paused reached production.
    assert result == metrics.MetricResult(Decimal("50.00"), 3, 6)
    assert titles(
        metrics.metric_members(everything(), key=metrics.CONVERSION, part="numerator")
    ) == {"scaled", "live", "paused"}


def test_median_days_from_registration_to_production_odd_count(portfolio):
    result = metrics.median_days_to_production(everything())

    # 10, 60 and 130 days: the merged initiative (1 day) is not counted.
    assert result == metrics.MetricResult(Decimal("60.0"), None, 3)


def test_median_of_an_even_count_is_the_mean_of_the_middle_two(portfolio, units):
    extra = InitiativeFactory(
        title="quick", business_unit=units[1], stage=Stage.PRODUCTION, production_on=D(2024, 1, 6)
    )
    registered(extra, D(2024, 1, 1))  # 5 days: sample 5, 10, 60, 130

    assert metrics.median_days_to_production(everything()) == metrics.MetricResult(
        Decimal("35.0"), None, 4
    )


def test_median_leaves_out_initiatives_registered_after_going_live(units):
    imported = InitiativeFactory(
        business_unit=units[0], stage=Stage.PRODUCTION, production_on=D(2023, 5, 1)
    )
    registered(imported, D(2024, 1, 1))
    counted = InitiativeFactory(
        business_unit=units[0], stage=Stage.PRODUCTION, production_on=D(2024, 1, 8)
    )
    registered(counted, D(2024, 1, 1))

    assert metrics.median_days_to_production(everything()) == metrics.MetricResult(
        Decimal("7.0"), None, 1
    )
    # The imported one still counts as having reached production.
    assert metrics.pilot_to_production_conversion(everything()).numerator == 2


def test_empty_portfolio_has_no_data_and_no_division_by_zero(db):
    results = metrics.scaling_metrics(everything())

    assert all(result.value is None for result in results.values())
    assert all(not result.has_data for result in results.values())
    assert results[metrics.SCALING_GAP] == metrics.MetricResult(None, 0, 0)
    assert results[metrics.MEDIAN_DAYS] == metrics.MetricResult(None, None, 0)


def test_a_portfolio_of_drafts_has_no_share_data(units):
    InitiativeFactory(business_unit=units[0])

    results = metrics.scaling_metrics(everything())

    assert results[metrics.PRODUCTION_TWO_UNITS] == metrics.MetricResult(Decimal(0), 0, 1)
    assert results[metrics.SCALING_GAP].value is None
    assert results[metrics.CONVERSION].value is None


def test_scaling_metrics_matches_the_single_metrics(portfolio):
    results = metrics.scaling_metrics(everything())

    assert results[metrics.PRODUCTION_TWO_UNITS] == metrics.production_in_two_units(everything())
    assert results[metrics.SCALING_GAP] == metrics.scaling_gap(everything())
    assert results[metrics.CONVERSION] == metrics.pilot_to_production_conversion(everything())
    assert results[metrics.MEDIAN_DAYS] == metrics.median_days_to_production(everything())


def test_metrics_cost_a_fixed_number_of_queries(portfolio, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        metrics.scaling_metrics(everything())


def test_a_bu_member_measures_their_units_initiatives_only(portfolio, units):
    gamma_member = member(Role.BU_MEMBER, units[2], username="gina")
    visible = scope_initiatives(Initiative.objects.all(), gamma_member)

    # Gamma owns "rejected" and "draft"; "scaled" and "merged" are deployed to Gamma.
    assert titles(visible) == {"rejected", "draft", "scaled", "merged"}
    results = metrics.scaling_metrics(visible)
    assert results[metrics.PRODUCTION_TWO_UNITS] == metrics.MetricResult(Decimal(1), 1, 3)
    assert results[metrics.SCALING_GAP] == metrics.MetricResult(Decimal("50.00"), 1, 2)
    assert results[metrics.MEDIAN_DAYS] == metrics.MetricResult(Decimal("60.0"), None, 1)


# --- the scaling page -------------------------------------------------------------------------


def test_scaling_page_shows_values_definitions_and_drill_downs(client, portfolio, units):
    client.force_login(member(Role.EXECUTIVE, units[0], username="eve"))

    response = client.get(reverse("portfolio:scaling"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "66.7 %" in html and "50 %" in html and "60 days" in html
    assert "A business unit counts when the initiative has a deployment" in html
    assert "the mean of the two middle values" in html
    drill = reverse("portfolio:scaling_members", args=[metrics.SCALING_GAP, "numerator"])
    assert f'href="{drill}"' in html
    assert "<svg" in html and "style=" not in html


def test_scaling_page_query_count_does_not_grow(
    client, portfolio, units, django_assert_max_num_queries, django_assert_num_queries
):
    client.force_login(member(Role.BU_MEMBER, units[0], username="ali"))
    address = reverse("portfolio:scaling")
    client.get(address)

    # Session, user, memberships, notification badge, the counts, the median (one query on
    # PostgreSQL, two elsewhere), the indicators and their history.
    with django_assert_max_num_queries(9) as few:
        client.get(address)
    for number in range(20):
        scaled = InitiativeFactory(
            business_unit=units[0], stage=Stage.SCALED, production_on=D(2024, 5, 1)
        )
        deploy(scaled, units[1 + number % 2])

    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(address)
    assert response.context["cards"][0]["result"].numerator == 22


def test_scaling_page_on_an_empty_portfolio_says_no_data(client, member_a):
    client.force_login(member_a)

    response = client.get(reverse("portfolio:scaling"))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("No data") >= 4
    assert "no data" in html  # the empty trend sparklines


def test_drill_down_lists_the_counted_initiatives_within_scope(client, portfolio, units):
    client.force_login(member(Role.BU_MEMBER, units[2], username="gina"))
    address = reverse("portfolio:scaling_members", args=[metrics.SCALING_GAP, "denominator"])

    response = client.get(address)

    assert response.status_code == 200
    assert {row.title for row in response.context["rows"]} == {"rejected", "scaled"}
    filtered = client.get(address, {"q": "reject"}, HTTP_HX_REQUEST="true")
    assert [row.title for row in filtered.context["rows"]] == ["rejected"]


@pytest.mark.parametrize(
    "key, part",
    [
        ("nonsense", "numerator"),
        (metrics.SCALING_GAP, "middle"),
        (metrics.MEDIAN_DAYS, "numerator"),
    ],
)
def test_unknown_drill_downs_are_404(client, member_a, key, part):
    client.force_login(member_a)
    assert client.get(reverse("portfolio:scaling_members", args=[key, part])).status_code == 404


def test_metrics_api(client, portfolio, units):
    client.force_login(member(Role.COE_REVIEWER, units[0], username="cory"))

    response = client.get("/api/v1/metrics/scaling/")

    assert response.status_code == 200
    rows = {row["key"]: row for row in response.json()}
    assert rows[metrics.SCALING_GAP]["value"] == "66.67"
    assert rows[metrics.SCALING_GAP]["numerator"] == 4
    assert rows[metrics.SCALING_GAP]["denominator"] == 6
    assert rows[metrics.MEDIAN_DAYS]["numerator"] is None
    assert rows[metrics.CONVERSION]["definition"] == metrics.CONVERSION_DEFINITION


def test_metrics_api_on_an_empty_portfolio(client, member_a):
    client.force_login(member_a)

    rows = client.get("/api/v1/metrics/scaling/").json()

    assert [row["value"] for row in rows] == [None, None, None, None]
