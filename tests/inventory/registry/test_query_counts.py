"""Every inventory list, HTML and API, costs the same number of queries for 5 rows as for 50:
an N+1 (a query per row for a vendor, owner, pool, GPU type, initiative …) fails here."""

import pytest
from django.urls import reverse

from tests.inventory.helpers import make_allocations, make_models, make_pools

pytestmark = pytest.mark.django_db

FEW, MANY = 5, 50


def html_row_count(response) -> int:
    return response.context["page_obj"].paginator.count


def api_row_count(response) -> int:
    return response.json()["count"]


# (address, row builder, row counter, ceiling). The ceiling is the count measured for 5 rows
# as a BU member (so the scoping subqueries are exercised): session, user, memberships, then
# for HTML the notification badge, the filter bar's choices (for models: units and
# vendors) and the "New" button's unit check, and for both the page count and the rows
# (plus one prefetch of model initiatives in the API, and one of the initiatives the caller
# may see, to hide the others' links).
# Raise it deliberately, never to hide a count that grows with the rows.
LISTS = {
    "html-models": (reverse("inventory:model_list"), make_models, html_row_count, 9),
    "html-pools": (reverse("inventory:pool_list"), make_pools, html_row_count, 7),
    "html-allocations": (
        reverse("inventory:allocation_list"),
        make_allocations,
        html_row_count,
        9,
    ),
    "api-models": ("/api/v1/models/", make_models, api_row_count, 7),
    "api-pools": ("/api/v1/gpu-pools/", make_pools, api_row_count, 4),
    "api-allocations": ("/api/v1/gpu-allocations/", make_allocations, api_row_count, 5),
}


@pytest.mark.parametrize("list_name", list(LISTS))
def test_list_query_count_does_not_grow_with_rows(
    client,
    member_a,
    unit_a,
    django_assert_max_num_queries,
    django_assert_num_queries,
    list_name,
):
    address, make_rows, row_count, ceiling = LISTS[list_name]
    client.force_login(member_a)
    make_rows(FEW, business_unit=unit_a)
    client.get(address)  # warm per-process caches so both measurements start equal

    with django_assert_max_num_queries(ceiling) as few_rows:
        response = client.get(address)
    assert response.status_code == 200
    assert row_count(response) == FEW

    make_rows(MANY - FEW, business_unit=unit_a, start=FEW)

    with django_assert_num_queries(len(few_rows.captured_queries)):
        response = client.get(address)
    assert response.status_code == 200
    assert row_count(response) == MANY
