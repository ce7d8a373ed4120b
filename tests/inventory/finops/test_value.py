"""Value against cost (issue 19, item 3): ROI per initiative from realised or expected value,
run cost and the initiative's GPU chargeback; the portfolio by unit and phase on the
dashboard and in the board pack; the list of initiatives with cost but no value evidence."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.choices import Role
from core.permissions import memberships_of
from governance.reporting.dashboard import DashboardFilters, dashboard_compute, definitions
from governance.reporting.services import board_pack_context
from inventory.finops import value as value_module
from inventory.finops.models import ChargebackLine, ChargebackMonth
from portfolio.initiatives.services import initiative_update
from tests.factories import InitiativeFactory, member

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 6, 15)
Kind = ChargebackLine.Kind


def chargeback(month: datetime.date, *lines, currency="USD"):
    """A computed month with ``lines`` of (initiative or None, unit, kind, amount)."""
    row = ChargebackMonth.objects.create(month=month, currency=currency)
    for initiative, unit, kind, amount in lines:
        ChargebackLine.objects.create(
            chargeback=row,
            kind=kind,
            source=ChargebackLine.Source.RATE,
            business_unit=unit,
            initiative=initiative,
            amount=Decimal(amount),
        )
    return row


def make(unit, owner, **fields):
    fields.setdefault("stage", "production")
    return InitiativeFactory(business_unit=unit, accountable_owner=owner, **fields)


@pytest.fixture
def owner(unit_a):
    return member(Role.BU_MEMBER, unit_a, username="owner")


def test_roi_uses_realised_value_and_adds_the_gpu_chargeback_of_the_last_twelve_months(
    unit_a, owner, executive
):
    initiative = make(
        unit_a,
        owner,
        expected_annual_value=Decimal("500000"),
        realised_value=Decimal("300000"),
        realised_value_as_of=datetime.date(2026, 5, 31),
        value_evidence_url="https://wiki.example.com/roi",
        expected_annual_cost=Decimal("80000"),
    )
    other = make(unit_a, owner)
    chargeback(
        datetime.date(2026, 6, 1),
        (initiative, unit_a, Kind.DIRECT, "12000.40"),
        (initiative, unit_a, Kind.ADJUSTMENT, "-400.40"),
        (other, unit_a, Kind.DIRECT, "999"),
        (None, unit_a, Kind.IDLE_SHARE, "5000"),  # a unit's share: not the initiative's
    )
    chargeback(datetime.date(2025, 7, 1), (initiative, unit_a, Kind.DIRECT, "8000"))
    chargeback(datetime.date(2025, 6, 1), (initiative, unit_a, Kind.DIRECT, "7777"))  # 13th
    result = value_module.initiative_value(initiative, user=executive, today=TODAY)
    gpu = Decimal("12000.40") - Decimal("400.40") + Decimal("8000")
    cost = Decimal("80000") + gpu
    assert result.gpu_cost == gpu == Decimal("19600.00")
    assert result.cost == cost
    assert result.basis == "realised" and result.value == Decimal("300000")
    expected = ((Decimal("300000") - cost) / cost * 100).quantize(Decimal("0.1"))
    assert result.roi == expected == Decimal("201.2")  # 200400 / 99600
    assert result.has_evidence
    assert result.window_start == datetime.date(2025, 7, 1)


def test_roi_falls_back_to_expected_value_and_is_empty_without_value_or_cost(
    unit_a, owner, executive
):
    expected_only = make(
        unit_a, owner, expected_annual_value=Decimal("100"), expected_annual_cost=Decimal("40")
    )
    result = value_module.initiative_value(expected_only, user=executive, today=TODAY)
    assert result.basis == "expected" and result.roi == Decimal("150.0")  # (100-40)/40
    no_value = make(unit_a, owner, expected_annual_cost=Decimal("40"))
    assert value_module.initiative_value(no_value, user=executive, today=TODAY).roi is None
    no_cost = make(unit_a, owner, expected_annual_value=Decimal("40"))
    assert value_module.initiative_value(no_cost, user=executive, today=TODAY).roi is None


def test_gpu_cost_in_another_currency_is_not_added(unit_a, owner, executive):
    initiative = make(
        unit_a,
        owner,
        currency="EUR",
        expected_annual_value=Decimal("1000"),
        expected_annual_cost=Decimal("500"),
    )
    chargeback(datetime.date(2026, 6, 1), (initiative, unit_a, Kind.DIRECT, "300"))
    result = value_module.initiative_value(initiative, user=executive, today=TODAY)
    assert result.gpu_cost == 0 and result.roi == Decimal("100.0")


def test_a_bu_reader_counts_only_their_units_chargeback(unit_a, unit_b, owner, member_b):
    initiative = make(
        unit_a, owner, expected_annual_value=Decimal("1000"), expected_annual_cost=Decimal("0")
    )
    chargeback(
        datetime.date(2026, 6, 1),
        (initiative, unit_a, Kind.DIRECT, "100"),
        (initiative, unit_b, Kind.DIRECT, "400"),
    )
    assert value_module.initiative_value(initiative, user=owner, today=TODAY).gpu_cost == 100
    assert value_module.initiative_value(initiative, user=member_b, today=TODAY).gpu_cost == 400


def test_the_dashboard_panel_sums_value_and_cost_by_unit_and_phase(
    unit_a, unit_b, owner, executive, django_assert_max_num_queries
):
    owner_b = member(Role.BU_MEMBER, unit_b, username="owner-b")
    a1 = make(
        unit_a,
        owner,
        roadmap_phase=1,
        expected_annual_value=Decimal("1000"),
        expected_annual_cost=Decimal("200"),
    )
    make(
        unit_a,
        owner,
        roadmap_phase=2,
        realised_value=Decimal("600"),
        value_evidence_url="https://example.com/e",
        expected_annual_cost=Decimal("100"),
    )
    make(unit_b, owner_b, roadmap_phase=1, expected_annual_cost=Decimal("300"))
    make(unit_b, owner_b, stage="retired", expected_annual_cost=Decimal("9999"))  # not active
    make(unit_b, owner_b, stage="draft", expected_annual_value=Decimal("9999"))  # not active
    chargeback(datetime.date(2026, 6, 1), (a1, unit_a, Kind.DIRECT, "300"))
    memberships_of(executive)  # loaded once per request by the page, not by the read
    with django_assert_max_num_queries(10):
        board = dashboard_compute(user=executive, filters=DashboardFilters(today=TODAY))
    panel = board.value
    units = {row.label: row for row in panel.by_unit}
    # RETAIL: value 1000 + 600; cost 200 + 300 (GPU) + 100
    assert (units["Retail Banking"].value, units["Retail Banking"].cost) == (1600, 600)
    assert units["Retail Banking"].roi == Decimal("166.7")  # (1600 - 600) / 600
    assert (units["Insurance"].value, units["Insurance"].cost) == (0, 300)
    assert units["Insurance"].roi == Decimal("-100.0")
    phases = {row.label: row for row in panel.by_phase}
    assert (phases["Phase 1"].value, phases["Phase 1"].cost) == (1000, 800)
    assert (phases["Phase 2"].value, phases["Phase 2"].cost) == (600, 100)
    (total,) = panel.totals
    assert (total.value, total.cost, total.gpu_cost) == (1600, 900, 300)
    assert total.roi == Decimal("77.8")  # (1600 - 900) / 900
    # a1 (no realised value) and the Insurance one (no value at all) lack evidence
    assert panel.without_evidence == 2 and units["Insurance"].without_evidence == 1
    assert panel.drilldown_url == reverse("inventory:value_evidence_missing")
    assert "value" in [key for key, _, _ in definitions()]
    assert "ROI per initiative = (value − cost) ÷ cost" in panel.definition
    # the board pack has the section with the totals
    context = board_pack_context(board=board, charts={key: "" for key in _chart_keys()})
    section = next(section for section in context["sections"] if section.panel.key == "value")
    assert dict(section.facts)["Initiatives with cost but no value evidence"] == "2"
    assert section.table["rows"]


def _chart_keys():
    from governance.reporting.charts import PANEL_CHARTS

    return {key for keys in PANEL_CHARTS.values() for key in keys}


def test_the_panel_query_count_does_not_grow_with_initiatives(unit_a, owner, executive):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from governance.reporting.value_panel import value_panel

    def count():
        with CaptureQueriesContext(connection) as captured:
            value_panel(user=executive, filters=DashboardFilters(), today=TODAY)
        return len(captured.captured_queries)

    months = [chargeback(datetime.date(2026, month, 1)) for month in (4, 5, 6)]
    make(unit_a, owner, expected_annual_cost=Decimal("1"))
    memberships_of(executive)
    few = count()
    for number in range(30):
        initiative = make(unit_a, owner, roadmap_phase=number % 4 + 1)
        ChargebackLine.objects.create(
            chargeback=months[number % 3],
            kind=Kind.DIRECT,
            source=ChargebackLine.Source.RATE,
            business_unit=unit_a,
            initiative=initiative,
            amount=Decimal("5"),
        )
    assert count() == few == 1


def test_the_list_of_initiatives_with_cost_but_no_evidence(
    client, unit_a, unit_b, owner, member_b, django_assert_max_num_queries
):
    costly = make(unit_a, owner, expected_annual_cost=Decimal("500"), title="Costly")
    gpu_only = make(unit_a, owner, title="GPU only")
    evidenced = make(
        unit_a,
        owner,
        expected_annual_cost=Decimal("900"),
        realised_value=Decimal("1000"),
        value_evidence_url="https://example.com/e",
        title="Evidenced",
    )
    make(unit_a, owner, title="Free")  # no cost at all
    hidden = make(unit_b, member_b, expected_annual_cost=Decimal("1"), title="Other unit")
    chargeback(datetime.date.today().replace(day=1), (gpu_only, unit_a, Kind.DIRECT, "50"))
    client.force_login(owner)
    url = reverse("inventory:value_evidence_missing")
    client.get(url)
    with django_assert_max_num_queries(6):
        page = client.get(url)
    text = page.content.decode()
    assert page.status_code == 200
    assert costly.reference in text and gpu_only.reference in text
    assert evidenced.reference not in text and "Free" not in text
    assert hidden.reference not in text  # out of scope
    assert text.index(costly.reference) < text.index(gpu_only.reference)  # costliest first
    for number in range(20):
        make(unit_a, owner, expected_annual_cost=Decimal(number + 1))
    with django_assert_max_num_queries(6):
        assert client.get(url).status_code == 200
    phase_one = client.get(url, {"roadmap_phase": "1"}).content.decode()
    assert costly.reference not in phase_one


def test_the_initiative_page_shows_value_evidence_and_its_roi_panel(client, unit_a, owner):
    initiative = make(
        unit_a,
        owner,
        expected_annual_value=Decimal("200"),
        realised_value=Decimal("150"),
        realised_value_as_of=datetime.date(2026, 3, 31),
        value_evidence_url="https://example.com/evidence",
        expected_annual_cost=Decimal("100"),
    )
    client.force_login(owner)
    detail = client.get(initiative.get_absolute_url()).content.decode()
    assert "https://example.com/evidence" in detail and "Realised value / yr" in detail
    panel_url = reverse("inventory:initiative_value_panel", args=[initiative.pk])
    assert panel_url in detail
    panel = client.get(panel_url).content.decode()
    assert "50.0 %" in panel  # (150 - 100) / 100
    assert "as of 31 Mar 2026" in panel


def test_the_value_panel_of_an_unseen_initiative_is_404(client, unit_b, member_b, owner):
    hidden = make(unit_b, member_b)
    client.force_login(owner)
    url = reverse("inventory:initiative_value_panel", args=[hidden.pk])
    assert client.get(url).status_code == 404


def test_realised_value_fields_are_validated_and_audited(unit_a, owner):
    initiative = make(unit_a, owner, stage="draft")
    with pytest.raises(ValidationError) as error:
        initiative_update(
            actor=owner,
            initiative=initiative,
            data={"value_evidence_url": "javascript:alert(1)", "realised_value": Decimal("-1")},
        )
    assert set(error.value.message_dict) >= {"value_evidence_url", "realised_value"}
    updated = initiative_update(
        actor=owner,
        initiative=initiative,
        data={
            "realised_value": Decimal("10"),
            "realised_value_as_of": datetime.date(2026, 1, 31),
            "value_evidence_url": "https://example.com/x",
        },
    )
    updated.refresh_from_db()
    assert updated.realised_value_as_of == datetime.date(2026, 1, 31)
    from core.models import AuditEvent

    event = AuditEvent.objects.filter(action="initiative.updated").latest("sequence")
    assert '"value_evidence_url":"https://example.com/x"' in event.payload


def test_the_api_reads_and_writes_the_value_fields(client, unit_a, owner):
    initiative = make(unit_a, owner, stage="draft")
    client.force_login(owner)
    url = f"/api/v1/initiatives/{initiative.pk}/"
    response = client.patch(
        url,
        {"realised_value": "12.50", "realised_value_as_of": "2026-02-28"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = client.get(url).json()
    assert body["realised_value"] == "12.50" and body["realised_value_as_of"] == "2026-02-28"
    assert body["value_evidence_url"] == ""


def test_the_dossier_shows_realised_value_and_roi(unit_a, owner, executive):
    from django.template.loader import render_to_string

    from governance.reporting.dossier import dossier_data

    initiative = make(
        unit_a,
        owner,
        realised_value=Decimal("900"),
        realised_value_as_of=datetime.date(2026, 4, 30),
        value_evidence_url="https://example.com/benefits",
        expected_annual_cost=Decimal("600"),
    )
    data = dossier_data(user=executive, initiative=initiative)
    assert data["value"].roi == Decimal("50.0")  # (900 - 600) / 600
    html = render_to_string("governance/reporting/dossier_pdf.html", data)
    assert "as of 30 Apr 2026" in html and "https://example.com/benefits" in html
    assert "<tr><td>ROI</td><td>50.0 % (realised value)</td></tr>" in html
