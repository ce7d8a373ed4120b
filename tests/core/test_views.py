"""Query counts of the home page and the notifications list stay flat as rows grow."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import Notification
from tests.factories import GPUAllocationFactory, InitiativeFactory, UserFactory

pytestmark = pytest.mark.django_db


def add_rows(user, unit, count):
    InitiativeFactory.create_batch(count, business_unit=unit, accountable_owner=user)
    GPUAllocationFactory.create_batch(count, business_unit=unit)
    Notification.objects.bulk_create(
        Notification(recipient=user, subject=f"Note {n}") for n in range(count)
    )


@pytest.mark.parametrize("url", ["/", "/notifications/"])
def test_page_query_count_does_not_grow(client, member_a, unit_a, url, django_assert_num_queries):
    client.force_login(member_a)
    add_rows(member_a, unit_a, 5)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    add_rows(member_a, unit_a, 45)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert "Note 44" in response.content.decode()  # newest first


def test_home_counts_are_scoped_to_the_user(client, member_a, unit_a, unit_b):
    InitiativeFactory.create_batch(3, business_unit=unit_a)
    InitiativeFactory.create_batch(4, business_unit=unit_b)
    client.force_login(member_a)
    assert client.get("/").context["initiative_total"] == 3


def test_the_dashboard_is_offered_to_those_who_may_open_it(client, member_a, executive):
    client.force_login(executive)
    page = client.get("/").content.decode()
    assert 'href="/dashboard/"' in page
    assert "Open the executive dashboard" in page
    # A BU member opens their units' dashboard (issue 19): offered in the menu and on home.
    client.force_login(member_a)
    page = client.get("/").content.decode()
    assert 'href="/dashboard/"' in page
    assert "Open your business units' dashboard" in page
    assert client.get("/dashboard/").status_code == 200
    # Someone without a role may not open it, and is not offered it.
    client.force_login(UserFactory(username="no-role"))
    page = client.get("/").content.decode()
    assert 'href="/dashboard/"' not in page  # neither in the nav nor on the home page
    assert client.get("/dashboard/").status_code == 403
