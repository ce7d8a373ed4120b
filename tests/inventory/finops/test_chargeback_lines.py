"""The list of a month's chargeback lines (behind the dashboard's "Unused commitments" and
"Orphaned GPU cost"), the findings list's total, and their summary line ("N results · total
X"): scoped to the reader's units, filtered by kind and unit, a fixed number of queries."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.choices import Role
from inventory.finops.models import ChargebackLine, ChargebackMonth, Finding
from tests.factories import member

pytestmark = pytest.mark.django_db

MONTH = datetime.date(2025, 3, 1)


def lines_url(**params):
    url = reverse("inventory:chargeback_lines", args=["2025-03"])
    query = "&".join(f"{key}={value}" for key, values in params.items() for value in values)
    return f"{url}?{query}" if query else url


@pytest.fixture
def month(unit_a, unit_b):
    chargeback = ChargebackMonth.objects.create(
        month=MONTH, currency="EUR", computed_at=timezone.now()
    )

    def line(kind, unit, amount):
        return ChargebackLine.objects.create(
            chargeback=chargeback,
            kind=kind,
            source="focus",
            business_unit=unit,
            amount=Decimal(amount),
        )

    line("idle_share", unit_a, "100.25")
    line("idle_share", unit_b, "60.00")
    line("idle", None, "40.00")
    line("orphaned", unit_a, "105.00")
    line("direct", unit_a, "900.00")
    return chargeback, line


def summary(response) -> tuple[str, str]:
    body = response.content.decode()
    assert response.status_code == 200
    count = body.split('data-list-count="')[1].split('"')[0]
    total = body.split('data-list-total="')[1].split('"')[0]
    return count, total


def test_an_organisation_wide_reader_sees_every_line_of_the_kinds_asked(client, executive, month):
    client.force_login(executive)
    response = client.get(lines_url(kind=["idle", "idle_share"]))
    count, total = summary(response)
    assert (count, Decimal(total)) == ("3", Decimal("200.25"))
    assert "3 results · total 200.25 EUR" in response.content.decode()

    count, total = summary(client.get(lines_url(kind=["orphaned"])))
    assert (count, Decimal(total)) == ("1", Decimal("105"))


def test_a_business_unit_reader_sees_only_their_units_lines(client, unit_a, unit_b, month):
    lead_b = member(Role.BU_LEAD, unit_b, username="lead-b")
    client.force_login(lead_b)
    count, total = summary(client.get(lines_url(kind=["idle", "idle_share"])))
    assert (count, Decimal(total)) == ("1", Decimal("60"))
    # Asking for another unit's lines shows none of them.
    response = client.get(lines_url(kind=["idle_share"], business_unit=[unit_a.pk]))
    assert "No such lines this month." in response.content.decode()


def test_the_business_unit_filter_and_an_uncomputed_month(client, executive, unit_a, month):
    client.force_login(executive)
    count, total = summary(client.get(lines_url(kind=["idle_share"], business_unit=[unit_a.pk])))
    assert (count, Decimal(total)) == ("1", Decimal("100.25"))
    other = reverse("inventory:chargeback_lines", args=["2024-01"])
    assert client.get(other).status_code == 404


def test_the_query_count_does_not_grow_with_the_lines(
    client, executive, unit_a, month, django_assert_max_num_queries
):
    client.force_login(executive)
    client.get(lines_url())  # warm the session and the user's memberships
    with django_assert_max_num_queries(10) as few:
        client.get(lines_url(kind=["idle_share"]))
    _, line = month
    for _ in range(30):
        line("idle_share", unit_a, "1.00")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(lines_url(kind=["idle_share"]))
    assert summary(response)[0] == "32"


def test_the_findings_list_shows_its_count_and_total(client, executive, unit_a):
    now = timezone.now()
    for number, (status, waste) in enumerate(
        [("open", "1250.50"), ("acknowledged", "300.00"), ("resolved", "999.00")]
    ):
        Finding.objects.create(
            kind="idle",
            status=status,
            subject_key=f"allocation:{number}",
            business_unit=unit_a,
            summary=f"Idle {number}",
            monthly_waste=Decimal(waste),
            first_seen_at=now,
            last_seen_at=now,
        )
    client.force_login(executive)
    response = client.get(reverse("inventory:finding_list"), {"kind": "idle", "status": "active"})
    count, total = summary(response)
    assert (count, Decimal(total)) == ("2", Decimal("1550.50"))
    assert "2 results · total 1,550.50" in response.content.decode()
