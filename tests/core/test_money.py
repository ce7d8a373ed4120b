"""Money on pages: two decimals with the locale's thousand separators (``USD 686,000.00``)."""

from decimal import Decimal

from django.template import Context, Template

from core.choices import Role
from tests.factories import InitiativeFactory, member


def _render(source: str, **context) -> str:
    return Template("{% load keel %}" + source).render(Context(context))


def test_money_groups_thousands_and_keeps_two_decimals():
    assert _render("{{ a|money:'USD' }}", a=Decimal("686000")) == "USD 686,000.00"
    assert _render("{{ a|money:'EUR' }}", a=Decimal("1234567.891")) == "EUR 1,234,567.89"
    assert _render("{{ a|money:'USD' }}", a=Decimal("12.5")) == "USD 12.50"
    assert _render("{{ a|money }}", a=Decimal("-4500")) == "-4,500.00"


def test_unknown_money_is_a_dash():
    assert _render("{{ a|money:'USD' }}", a=None) == "—"


def test_initiative_page_shows_expected_value_with_separators(client, unit_a):
    user = member(Role.BU_MEMBER, unit_a)
    initiative = InitiativeFactory(
        business_unit=unit_a,
        currency="USD",
        expected_annual_value=Decimal("686000"),
        expected_annual_cost=Decimal("1250000.5"),
    )
    client.force_login(user)
    page = client.get(initiative.get_absolute_url()).content.decode()
    assert "USD 686,000.00" in page
    assert "USD 1,250,000.50" in page
    assert "686000.00" not in page
