"""The executive dashboard's figures (``governance.reporting.dashboard``): every figure against the
hand-built dataset of ``tests/governance/dashboard_data.py`` (expectations computed there in
plain Python, plus a few literal values), the drill-down lists agreeing with the figures,
BU-lead scoping, a query count that does not grow with the rows, and the cache."""

import datetime
import pickle
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.choices import Role
from core.permissions import memberships_of
from governance.approvals.models import ApprovalRequest
from governance.reporting import dashboard as dashboard_module
from governance.reporting.dashboard import (
    dashboard,
    dashboard_compute,
    dashboard_filters,
    definitions,
)
from governance.reporting.panels import PANEL_KEYS, DashboardFilters
from governance.risk.models import ControlResult, Questionnaire, RiskAssessment
from portfolio.initiatives.models import Deployment, Initiative, StageChange
from portfolio.scaling.models import BarrierAssessment
from portfolio.scaling.services import barrier_assess
from tests.factories import UserFactory, member
from tests.governance.reporting.dashboard_data import STAGES, build_dataset

pytestmark = pytest.mark.django_db

# The most queries one uncached read may take (ten for organisation-wide readers: the idle
# findings' sum and the value panel add one each).
QUERY_BUDGET = 10


@pytest.fixture
def data():
    return build_dataset()


@pytest.fixture
def no_cache(settings):
    settings.KEEL_DASHBOARD_CACHE_SECONDS = 0


def board_for(user, unit=None, months=6):
    return dashboard_compute(user=user, filters=DashboardFilters(business_unit=unit, months=months))


def assert_figures(board, expected, *, organisation_wide=True):
    """Every figure of ``board`` equals the independently computed ``expected``."""
    funnel = board.funnel
    assert [stage.key for stage in funnel.stages] == STAGES
    assert {stage.key: stage.count for stage in funnel.stages} == expected.funnel
    assert funnel.total == expected.total == sum(expected.funnel.values())

    scaling = board.scaling
    assert scaling.scaling_gap.value == expected.scaling_gap
    assert scaling.conversion.value == expected.conversion
    assert [(p.month, p.scaling_gap, p.conversion) for p in scaling.trend] == expected.trend

    risk = board.risk_mix
    assert {int(tier.key): tier.count for tier in risk.tiers} == expected.tiers
    assert risk.unassessed == expected.unassessed

    top = board.top_risks
    assert [(row.reference, row.tier, row.failing) for row in top.rows] == expected.top_risks
    assert top.total == expected.top_total

    approvals = board.approvals
    assert approvals.in_flight == expected.in_flight
    assert approvals.overdue == expected.overdue
    assert [
        (row.tier, row.gate, row.decided, row.median_days) for row in approvals.cycle
    ] == expected.cycle

    spend = board.spend
    assert {row.business_unit.code: row.trend for row in spend.rows} == expected.spend
    assert [row.this_month for row in spend.rows] == [row.trend[-1] for row in spend.rows]
    assert spend.total_trend == expected.spend_total
    assert spend.total_this_month == expected.spend_total[-1]
    assert spend.unused_commitments == expected.idle
    assert spend.idle_allocations == expected.idle_allocations
    assert spend.orphaned == expected.orphaned

    utilisation = {
        row.business_unit.code: (row.activity_pct, row.status) for row in board.utilisation.rows
    }
    assert utilisation.keys() == expected.utilisation.keys()
    for code, (percent, status) in expected.utilisation.items():
        assert utilisation[code][0] == pytest.approx(percent)
        assert utilisation[code][1] == status

    roadmap = board.roadmap
    if organisation_wide:
        assert [(p.number, p.status, p.done, p.total) for p in roadmap.phases] == expected.phases
        assert [(i.key, i.status) for i in roadmap.indicators] == expected.indicators
    else:
        assert not roadmap.has_data and not roadmap.phases and not roadmap.indicators

    heatmap = board.barriers.heatmap
    cells = {}
    for row in [*heatmap.rows, heatmap.overall]:
        for (barrier, _), cell in zip(heatmap.barriers, row.cells, strict=True):
            if cell.average is not None:
                cells[row.code, barrier] = cell.average
    assert cells == expected.heatmap


# --------------------------------------------------------------------------------------------
# Reconciliation
# --------------------------------------------------------------------------------------------


def test_every_figure_reconciles_for_the_whole_organisation(data, no_cache):
    board = board_for(data.executive)
    expected = data.expected()
    assert_figures(board, expected)
    # A few figures by hand as well, so the plain-Python oracle cannot drift unnoticed.
    assert board.funnel.total == 10  # eleven initiatives, one merged
    assert [(row.tier, row.gate, row.median_days) for row in board.approvals.cycle] == [
        (1, "intake", Decimal("0.3")),  # 6 hours = 0.25 days, half up
        (2, "pilot", Decimal("4.5")),  # 2, 4, 5, 9 days: mean of 4 and 5
        (3, "production", Decimal("3.0")),  # 1.5, 3, 10 days
    ]
    assert [row.decided for row in board.approvals.cycle] == [1, 4, 3]
    assert (board.approvals.in_flight, board.approvals.overdue) == (4, 2)
    assert [row.reference for row in board.top_risks.rows] == [
        "AI-0002",  # Tier 4 by override, one failing
        "AI-0010",  # Tier 3, four failing (a fifth, not required, is not counted)
        "AI-0001",  # Tier 3, two failing; before AI-0011 by reference
        "AI-0011",  # Tier 3 by override: one failing and one expired waiver
    ]
    alpha = next(row for row in board.spend.rows if row.business_unit.code == "ALPHA")
    assert alpha.this_month == Decimal("1130.75")  # 1000.50 + 100.25 + 50 − 20
    assert alpha.trend[-2] == Decimal("900") and alpha.trend[-3] is None  # never computed
    assert board.spend.total_this_month == Decimal("2190.75")
    assert board.spend.unused_commitments == Decimal(
        "200.25"
    )  # shared out 160.25 + kept separate 40
    assert board.spend.orphaned == Decimal("105")
    assert board.spend.currency == "EUR"
    assert [
        (row.business_unit.code, round(row.activity_pct, 2)) for row in board.utilisation.rows
    ] == [
        ("ALPHA", 75.0),
        ("BETA", 20.0),
        ("GAMMA", 95.0),
    ]
    assert board.utilisation.band == (70.0, 85.0)
    assert board.risk_mix.unassessed == 1  # proposed-gamma; rejected-beta is not active
    # Six months ago two initiatives had reached pilot (paused-beta, retired-gamma), neither
    # in production yet.
    first = board.scaling.trend[0]
    assert (first.scaling_gap, first.conversion) == (Decimal("100.00"), Decimal("0.00"))


@pytest.mark.parametrize("code", ["ALPHA", "BETA", "GAMMA"])
def test_a_business_unit_filter_narrows_every_figure(data, no_cache, code):
    board = board_for(data.executive, data.units[code])
    assert_figures(board, data.expected(code))
    assert board.filters.label() == f"{data.units[code].name} ({code}) · last 6 months"


def test_the_period_changes_the_trend_and_the_cycle_times(data, no_cache):
    board = board_for(data.executive, months=3)
    assert len(board.scaling.trend) == 3 and len(board.spend.months) == 3
    # The decisions two months ago are in the period; so is nothing older.
    assert [row.decided for row in board.approvals.cycle] == [1, 4, 3]
    twelve = board_for(data.executive, months=12)
    assert len(twelve.scaling.trend) == 12
    # The request decided seven months ago joins the Tier 2 pilot group: 1, 2, 4, 5, 9 days.
    assert [(row.tier, row.gate, row.decided, row.median_days) for row in twelve.approvals.cycle][
        1
    ] == (2, "pilot", 5, Decimal("4.0"))


def test_tables_carry_the_same_numbers(data, no_cache):
    board = board_for(data.executive)
    assert [panel.key for panel in board.panels] == list(PANEL_KEYS)
    for panel in board.panels:
        table = panel.table()
        assert table.key == panel.key and table.columns
        assert all(len(row) == len(table.columns) for row in table.rows), panel.key
    assert board.funnel.table().rows[-1] == ("Total", board.funnel.total)
    assert dict(board.risk_mix.table().rows)["Unassessed"] == board.risk_mix.unassessed
    spend = {row[0]: row[1:] for row in board.spend.table().rows}
    assert spend["Alpha Bank"] == tuple(data.expected().spend["ALPHA"])
    assert spend["Total of the units shown"][-1] == Decimal("2190.75")
    top = board.top_risks.table().rows
    assert [row[0] for row in top] == [row.reference for row in board.top_risks.rows]
    cycle = [row for row in board.approvals.table().rows if row[0] == "Decided in the period"]
    assert [row[4] for row in cycle] == [row.median_days for row in board.approvals.cycle]


def test_the_dashboard_pickles_and_has_definitions(data, no_cache):
    board = board_for(data.executive)
    copy = pickle.loads(pickle.dumps(board))  # noqa: S301 - our own object
    assert [panel.table() for panel in copy.panels] == [panel.table() for panel in board.panels]
    keys = [key for key, _, _ in definitions()]
    assert keys == list(PANEL_KEYS)
    assert all(text and title for _, title, text in definitions())
    assert {panel.key: panel.definition for panel in board.panels} == {
        key: text for key, _, text in definitions()
    }


def test_an_empty_organisation_says_no_data(executive, no_cache):
    board = board_for(executive)
    assert not any(panel.has_data for panel in board.panels)
    assert board.scaling.scaling_gap.value is None
    assert board.spend.total_this_month is None and board.spend.unused_commitments is None
    assert all(point.scaling_gap is None for point in board.scaling.trend)


# --------------------------------------------------------------------------------------------
# Drill-downs: the list behind a figure shows exactly its rows
# --------------------------------------------------------------------------------------------


def listed(client, url) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["page_obj"].paginator.count


def test_drilldown_lists_agree_with_the_figures(data, no_cache, client):
    client.force_login(data.executive)
    board = board_for(data.executive)
    assert listed(client, board.approvals.overdue_url) == board.approvals.overdue == 2
    assert listed(client, board.approvals.in_flight_url) == board.approvals.in_flight
    for row in board.approvals.cycle:
        # The queue narrowed to the requests of the tier and gate decided in the period.
        assert listed(client, row.url) == row.decided, row.url
    for stage in board.funnel.stages:
        if stage.key != "retired":  # the list still shows the merged initiative, as retired
            assert listed(client, stage.url) == stage.count, stage.key
    for tier in board.risk_mix.tiers:
        assert listed(client, tier.url) == tier.count, tier.key
    assert listed(client, board.risk_mix.unassessed_url) == board.risk_mix.unassessed
    assert listed(client, board.scaling.gap_url) == board.scaling.scaling_gap.numerator
    assert listed(client, board.scaling.conversion_url) == board.scaling.conversion.numerator
    for url in (
        board.spend.drilldown_url,
        board.spend.rows[0].url,
        board.spend.unused_commitments_url,
        board.spend.idle_allocations_url,
        board.utilisation.drilldown_url,
        board.utilisation.rows[0].url,
        board.roadmap.drilldown_url,
        board.barriers.drilldown_url,
        board.top_risks.drilldown_url,
        board.top_risks.rows[0].url,
    ):
        assert client.get(url).status_code == 200, url


def test_drilldowns_carry_the_business_unit(data, no_cache, client):
    client.force_login(data.executive)
    alpha = data.units["ALPHA"]
    board = board_for(data.executive, alpha)
    assert f"business_unit={alpha.pk}" in board.approvals.overdue_url
    assert listed(client, board.approvals.overdue_url) == board.approvals.overdue == 1
    proposed = next(stage for stage in board.funnel.stages if stage.key == "proposed")
    assert listed(client, proposed.url) == proposed.count == 1
    three = next(tier for tier in board.risk_mix.tiers if tier.key == "3")
    assert listed(client, three.url) == three.count
    assert f"bu={alpha.pk}" in board.utilisation.rows[0].url


# --------------------------------------------------------------------------------------------
# Scope: BU leads and BU members see their own unit's figures only
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reader", ["lead", "member"])
def test_a_unit_reader_defaults_to_their_unit_and_sees_only_its_figures(data, no_cache, reader):
    lead = data.leads["ALPHA"] if reader == "lead" else data.member_alpha
    assert dashboard_module.can_view_dashboard(lead)
    filters = dashboard_filters(user=lead, params={})
    assert filters.business_unit == data.units["ALPHA"] and filters.months == 6
    board = dashboard_compute(user=lead, filters=filters)
    expected = data.expected("ALPHA")
    assert_figures(board, expected, organisation_wide=False)
    # The dataset makes Alpha's figures differ from everyone's, panel by panel.
    everyone = data.expected()
    assert expected.funnel != everyone.funnel and expected.tiers != everyone.tiers
    assert expected.cycle != everyone.cycle and expected.spend != everyone.spend
    assert [row.business_unit.code for row in board.spend.rows] == ["ALPHA"]
    assert board.spend.unused_commitments == Decimal("100.25")  # not the idle cost kept separate
    assert board.spend.orphaned == Decimal("80")
    assert [row.business_unit.code for row in board.utilisation.rows] == ["ALPHA"]
    assert {row.code for row in board.barriers.heatmap.rows} == {"ALPHA"}
    assert all(row.business_unit == "Alpha Bank" for row in board.top_risks.rows)


@pytest.mark.parametrize("reader", ["lead", "member"])
@pytest.mark.parametrize("value", ["other", "unknown", "abc", " -1"])
def test_a_unit_reader_cannot_ask_for_other_units(data, value, reader):
    lead = data.leads["ALPHA"] if reader == "lead" else data.member_alpha
    unit_id = {
        "other": data.units["BETA"].pk,
        "unknown": max(unit.pk for unit in data.units.values()) + 100,
    }.get(value, value)
    with pytest.raises(PermissionDenied, match="cannot see that business unit"):
        dashboard_filters(user=lead, params={"business_unit": str(unit_id)})


def test_an_executive_asking_for_an_unknown_unit_is_refused_alike(data):
    with pytest.raises(PermissionDenied, match="cannot see that business unit"):
        dashboard_filters(user=data.executive, params={"business_unit": "999999"})
    filters = dashboard_filters(
        user=data.executive, params={"business_unit": str(data.units["BETA"].pk), "months": "3"}
    )
    assert filters.business_unit == data.units["BETA"] and filters.months == 3
    assert filters.query() == {"business_unit": str(data.units["BETA"].pk), "months": "3"}
    everything = dashboard_filters(user=data.executive, params={})
    assert everything.business_unit is None
    assert everything.label() == "All business units you can see · last 6 months"
    assert everything.query() == {"months": "6"}


@pytest.mark.parametrize("months", ["5", "0", "twelve", "-3"])
def test_a_bad_period_is_a_validation_error(data, months):
    with pytest.raises(ValidationError) as raised:
        dashboard_filters(user=data.executive, params={"months": months})
    assert "months" in raised.value.error_dict


def test_the_service_refuses_what_the_filters_would_refuse(data, no_cache):
    # A hand-made filter cannot get round dashboard_filters: the read checks again.
    with pytest.raises(PermissionDenied):
        board_for(data.leads["ALPHA"], data.units["BETA"])
    with pytest.raises(PermissionDenied):
        dashboard(user=data.leads["ALPHA"], filters=DashboardFilters(data.units["BETA"]))
    # A BU member reads their own unit's board, never another's.
    with pytest.raises(PermissionDenied):
        board_for(data.member_alpha, data.units["BETA"])
    # Someone without a role in any unit has no dashboard.
    nobody = UserFactory(username="dash-nobody")
    assert not dashboard_module.can_view_dashboard(nobody)
    with pytest.raises(PermissionDenied):
        dashboard_filters(user=nobody, params={})
    with pytest.raises(PermissionDenied):
        board_for(nobody)


def test_a_lead_of_two_units_sees_both_and_nothing_else(data, no_cache):
    from core.models import Membership

    lead = data.leads["ALPHA"]
    Membership.objects.create(user=lead, business_unit=data.units["BETA"], role=Role.BU_LEAD)
    lead = type(lead).objects.get(pk=lead.pk)  # forget the cached memberships
    filters = dashboard_filters(user=lead, params={})
    assert filters.business_unit is None
    board = dashboard_compute(user=lead, filters=filters)
    assert {row.business_unit.code for row in board.spend.rows} == {"ALPHA", "BETA"}
    assert board.spend.orphaned == Decimal("105")  # 80 + 25: both units' orphaned cost
    assert board.spend.unused_commitments == Decimal("160.25")  # their shares, not the separate 40
    assert {row.business_unit.code for row in board.utilisation.rows} == {"ALPHA", "BETA"}
    with pytest.raises(PermissionDenied):
        dashboard_filters(user=lead, params={"business_unit": str(data.units["GAMMA"].pk)})


# --------------------------------------------------------------------------------------------
# Queries: a fixed number, whatever the number of rows
# --------------------------------------------------------------------------------------------


def add_initiatives(count: int, *, units, owner, start: int) -> None:
    """``count`` initiatives with history, deployments, assessments, control results,
    approval requests and barrier scores, all with bulk_create."""
    from governance.approvals.models import ApprovalPolicy
    from governance.risk.models import Control

    questionnaire = Questionnaire.objects.filter(is_active=True).first()
    control = Control.objects.order_by("pk").first()
    policy = ApprovalPolicy.objects.filter(is_active=True).first()
    stages = ["proposed", "pilot", "production", "scaled", "paused"]
    initiatives = Initiative.objects.bulk_create(
        Initiative(
            reference=f"AI-{start + n:06d}",
            title=f"Bulk initiative {start + n}",
            business_unit=units[n % len(units)],
            accountable_owner=owner,
            stage=stages[n % len(stages)],
        )
        for n in range(count)
    )
    now = datetime.datetime.now(datetime.UTC)
    StageChange.objects.bulk_create(
        StageChange(initiative=initiative, to_stage="pilot", changed_at=now)
        for initiative in initiatives
    )
    Deployment.objects.bulk_create(
        Deployment(
            initiative=initiative,
            business_unit=units[(n + 1) % len(units)],
            status="production",
            started_on=now.date(),
        )
        for n, initiative in enumerate(initiatives)
    )
    RiskAssessment.objects.bulk_create(
        RiskAssessment(
            initiative=initiative,
            questionnaire=questionnaire,
            status="completed",
            is_current=True,
            computed_tier=1 + n % 4,
        )
        for n, initiative in enumerate(initiatives)
    )
    ControlResult.objects.bulk_create(
        ControlResult(initiative=initiative, control=control, status="failing", is_required=True)
        for initiative in initiatives
    )
    ApprovalRequest.objects.bulk_create(
        ApprovalRequest(
            initiative=initiative,
            gate="pilot",
            tier=1 + n % 4,
            policy=policy,
            policy_snapshot={},
            status="approved",
            submitted_by=owner,
            submitted_at=now - datetime.timedelta(days=2 + n % 5),
            decided_at=now - datetime.timedelta(days=1),
        )
        for n, initiative in enumerate(initiatives)
    )
    BarrierAssessment.objects.bulk_create(
        BarrierAssessment(initiative=initiative, barrier="data", score=1 + n % 5)
        for n, initiative in enumerate(initiatives)
    )


def counted_read(user, filters) -> int:
    with CaptureQueriesContext(connection) as captured:
        dashboard_compute(user=user, filters=filters)
    return len(captured.captured_queries)


def test_the_query_count_does_not_grow_with_the_portfolio(
    data, no_cache, django_assert_max_num_queries
):
    units = list(data.units.values())
    owner = data.executive
    lead = data.leads["BETA"]
    scopes = [
        (data.executive, DashboardFilters()),
        (data.executive, DashboardFilters(business_unit=data.units["GAMMA"])),
        (lead, dashboard_filters(user=lead, params={})),
        # A BU member's dashboard: the same budget as a lead's (no roadmap).
        (data.member_alpha, dashboard_filters(user=data.member_alpha, params={})),
    ]
    for user, _ in scopes:
        memberships_of(user)  # loaded once per request by the page, not by the read
    add_initiatives(20 - 11, units=units, owner=owner, start=100_000)
    assert Initiative.objects.count() == 20
    small = [counted_read(user, filters) for user, filters in scopes]
    add_initiatives(1_980, units=units, owner=owner, start=200_000)
    assert Initiative.objects.count() == 2_000
    large = [counted_read(user, filters) for user, filters in scopes]
    # no roadmap for the lead and the member
    assert small == large == [QUERY_BUDGET, QUERY_BUDGET, QUERY_BUDGET - 2, QUERY_BUDGET - 2]
    for user, filters in scopes:
        with django_assert_max_num_queries(QUERY_BUDGET):
            board = dashboard_compute(user=user, filters=filters)
    assert board.funnel.total > 600  # the member's unit owns a third of the bulk rows


# --------------------------------------------------------------------------------------------
# The cache
# --------------------------------------------------------------------------------------------


def test_the_cache_serves_repeat_reads_until_an_audited_write(data, settings):
    settings.KEEL_DASHBOARD_CACHE_SECONDS = 300
    cache.clear()
    reviewer = member(Role.COE_ADMIN, data.units["ALPHA"], username="dash-coe")
    user, filters = data.executive, DashboardFilters()
    first = dashboard(user=user, filters=filters)
    with CaptureQueriesContext(connection) as captured:
        second = dashboard(user=user, filters=filters)
    assert len(captured.captured_queries) <= 2
    assert second.generated_at == first.generated_at

    def beta_infrastructure(board):
        row = next(row for row in board.barriers.heatmap.rows if row.code == "BETA")
        return row.cells[0].average

    assert beta_infrastructure(second) == Decimal("5.00")
    # A write that is not audited is not seen until the cache time runs out (documented).
    BarrierAssessment.objects.filter(
        initiative=data.initiatives["pilot-beta"], barrier="infrastructure"
    ).update(score=4)
    assert beta_infrastructure(dashboard(user=user, filters=filters)) == Decimal("5.00")
    # An audited write advances the audit chain: the next read recomputes.
    barrier_assess(
        actor=reviewer,
        initiative=data.initiatives["pilot-beta"],
        barrier="infrastructure",
        score=1,
    )
    third = dashboard(user=user, filters=filters)
    assert third.generated_at > first.generated_at
    assert beta_infrastructure(third) == Decimal("1.00")


def test_cache_entries_are_per_scope_and_filters(data, settings):
    settings.KEEL_DASHBOARD_CACHE_SECONDS = 300
    cache.clear()
    everyone = dashboard(user=data.executive, filters=DashboardFilters())
    alpha_lead = dashboard(
        user=data.leads["ALPHA"], filters=DashboardFilters(business_unit=data.units["ALPHA"])
    )
    assert alpha_lead.funnel.total == data.expected("ALPHA").total != everyone.funnel.total
    assert (
        dashboard(user=data.executive, filters=DashboardFilters(months=3)).spend.months
        == (everyone.spend.months[-3:])
    )


def test_a_zero_cache_time_always_recomputes(data, settings):
    settings.KEEL_DASHBOARD_CACHE_SECONDS = 0
    cache.clear()
    first = dashboard(user=data.executive, filters=DashboardFilters())
    second = dashboard(user=data.executive, filters=DashboardFilters())
    assert second.generated_at > first.generated_at
