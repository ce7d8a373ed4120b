"""Saved filters per person on list pages (issue 19): save the current filters under a name,
list them beside the list's filter bar, apply one (it is only a link to the list with its
query, so the scoped selector still decides the rows), delete one — each person's own."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse

from core import saved_filters
from core.choices import Role
from core.models import AuditEvent, SavedFilter
from portfolio.initiatives.choices import Stage
from tests.factories import InitiativeFactory, member

pytestmark = pytest.mark.django_db

INITIATIVES = "/initiatives/"


def save(actor, name="Pilots", query="stage=pilot", path=INITIATIVES):
    return saved_filters.saved_filter_create(actor=actor, path=path, name=name, query=query)


# --- Services ---------------------------------------------------------------------------------


def test_saving_keeps_a_tidy_query_and_audits(member_a):
    saved = save(member_a, name="  Pilots  ", query="q=&stage=pilot&stage=production&page=3")
    assert (saved.user, saved.path, saved.name) == (member_a, INITIATIVES, "Pilots")
    assert saved.query == "stage=pilot&stage=production"
    assert saved.get_absolute_url() == "/initiatives/?stage=pilot&stage=production"
    event = AuditEvent.objects.get(action="saved_filter.created")
    assert event.actor == member_a and event.object_id == str(saved.pk)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"query": "page=2&q="}, "query"),  # nothing but the page and an empty search
        ({"query": "stage=" + "p" * 2000}, "query"),
        ({"path": "/initiatives/new/"}, "path"),  # a form, not a list
        ({"path": "https://elsewhere.example/initiatives/"}, "path"),
        ({"path": "//elsewhere.example/initiatives/"}, "path"),
        ({"path": "/no/such/page/"}, "path"),
    ],
)
def test_refusals_name_their_field_and_write_nothing(member_a, data, field):
    with pytest.raises(ValidationError) as refused:
        save(member_a, **data)
    assert field in refused.value.message_dict
    assert not SavedFilter.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="saved_filter").exists()


def test_a_name_is_unique_per_person_and_list_whatever_its_case(member_a, member_b):
    save(member_a, name="Pilots")
    with pytest.raises(ValidationError) as refused:
        save(member_a, name="PILOTS", query="stage=production")
    assert "already have a saved filter" in refused.value.message_dict["name"][0]
    save(member_a, name="Pilots", path="/inventory/models/", query="drifting=true")
    save(member_b, name="Pilots")  # another person's names are theirs
    assert SavedFilter.objects.count() == 3


def test_a_person_lists_gets_and_deletes_only_their_own(member_a, member_b):
    mine, theirs = save(member_a), save(member_b)
    assert list(saved_filters.saved_filter_list(user=member_a, path=INITIATIVES)) == [mine]
    with pytest.raises(Http404):
        saved_filters.saved_filter_get(user=member_a, pk=theirs.pk)
    with pytest.raises(PermissionDenied):
        saved_filters.saved_filter_delete(actor=member_a, saved_filter=theirs)
    assert SavedFilter.objects.filter(pk=theirs.pk).exists()
    saved_filters.saved_filter_delete(actor=member_a, saved_filter=mine)
    assert not SavedFilter.objects.filter(pk=mine.pk).exists()
    event = AuditEvent.objects.get(action="saved_filter.deleted")
    assert event.actor == member_a and event.object_id == str(mine.pk)


def test_a_list_holds_a_bounded_number_of_saved_filters(member_a):
    SavedFilter.objects.bulk_create(
        SavedFilter(user=member_a, path=INITIATIVES, name=f"F{n}", query=f"q={n}")
        for n in range(saved_filters.MAX_PER_LIST)
    )
    with pytest.raises(ValidationError) as refused:
        save(member_a, name="One more")
    assert "At most" in refused.value.message_dict["name"][0]


# --- Pages ------------------------------------------------------------------------------------


def test_the_list_page_offers_to_save_its_current_filters(client, member_a):
    client.force_login(member_a)
    page = client.get(INITIATIVES, {"stage": "pilot"}).content.decode()
    assert 'id="save-filter-form"' in page
    assert 'name="query" id="saved-filter-query" value="stage=pilot"' in page
    assert f'value="{INITIATIVES}"' in page


def test_an_htmx_refresh_of_the_results_sends_the_new_filters_to_the_save_form(client, member_a):
    client.force_login(member_a)
    response = client.get(INITIATIVES, {"stage": "production", "q": ""}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert 'id="saved-filter-query" value="stage=production" hx-swap-oob="true"' in body


def test_save_apply_and_delete_through_the_pages(client, unit_a, unit_b, member_a):
    InitiativeFactory(title="Ours in pilot", business_unit=unit_a, stage=Stage.PILOT)
    InitiativeFactory(title="Ours in draft", business_unit=unit_a, stage=Stage.DRAFT)
    InitiativeFactory(title="Theirs in pilot", business_unit=unit_b, stage=Stage.PILOT)
    client.force_login(member_a)
    response = client.post(
        reverse("core:saved_filter_create"),
        {"path": INITIATIVES, "query": "stage=pilot", "name": "Our pilots"},
    )
    assert response.status_code == 302 and response["Location"] == "/initiatives/?stage=pilot"
    saved = SavedFilter.objects.get(user=member_a)

    listed = client.get(reverse("core:saved_filters"), {"path": INITIATIVES}, HTTP_HX_REQUEST="1")
    assert saved.get_absolute_url() in listed.content.decode()
    # Loaded beside the list page: it must not replace the page's URL in the history.
    assert "HX-Push-Url" not in listed
    assert "Our pilots" in listed.content.decode()

    # Applying is the list itself with the saved query: still scoped to the person's units.
    applied = client.get(saved.get_absolute_url())
    titles = [row.title for row in applied.context["rows"]]
    assert titles == ["Ours in pilot"]

    gone = client.post(reverse("core:saved_filter_delete", args=[saved.pk]))
    assert gone.status_code == 302 and gone["Location"] == INITIATIVES
    assert not SavedFilter.objects.exists()


def test_htmx_save_answers_with_the_list_and_a_fresh_form_or_the_refusal(client, member_a):
    client.force_login(member_a)
    data = {"path": INITIATIVES, "query": "stage=pilot", "name": "Pilots"}
    created = client.post(reverse("core:saved_filter_create"), data, HTTP_HX_REQUEST="true")
    body = created.content.decode()
    assert created.status_code == 200 and "HX-Push-Url" not in created
    assert 'id="saved-filter-list"' in body and "Saved “Pilots”." in body
    assert 'id="save-filter-form"' in body and 'hx-swap-oob="true"' in body
    again = client.post(reverse("core:saved_filter_create"), data, HTTP_HX_REQUEST="true")
    assert "already have a saved filter" in again.content.decode()
    assert 'aria-invalid="true"' in again.content.decode()
    assert SavedFilter.objects.count() == 1


def test_another_persons_saved_filter_cannot_be_deleted(client, member_a, member_b):
    theirs = save(member_b)
    client.force_login(member_a)
    response = client.post(reverse("core:saved_filter_delete", args=[theirs.pk]))
    assert response.status_code == 404
    assert SavedFilter.objects.filter(pk=theirs.pk).exists()
    listed = client.get(reverse("core:saved_filters"), {"path": INITIATIVES}).content.decode()
    assert theirs.get_absolute_url() not in listed


def test_saving_needs_a_post_and_a_signed_in_person(client, member_a):
    assert client.post(reverse("core:saved_filter_create"), {}).status_code == 302  # sign in
    client.force_login(member_a)
    assert client.get(reverse("core:saved_filter_create")).status_code == 405
    assert not SavedFilter.objects.exists()


def test_the_saved_filter_list_costs_the_same_queries_however_many_there_are(
    client, member_a, django_assert_max_num_queries, django_assert_num_queries
):
    client.force_login(member_a)
    address = reverse("core:saved_filters")
    for n in range(3):
        save(member_a, name=f"Few {n}", query=f"q={n}")
    with django_assert_max_num_queries(6) as few:
        client.get(address, {"path": INITIATIVES}, HTTP_HX_REQUEST="true")
    for n in range(12):
        save(member_a, name=f"More {n}", query=f"q=m{n}")
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(address, {"path": INITIATIVES}, HTTP_HX_REQUEST="true")
    assert response.content.decode().count("<li>") == 15


def test_saved_filters_do_not_add_queries_to_the_list_page(
    client, unit_a, django_assert_max_num_queries, django_assert_num_queries
):
    """The saved filters load after the page, so a list costs what it cost before, however
    many saved filters (and rows) there are."""
    reader = member(Role.BU_MEMBER, unit_a, username="reader")
    client.force_login(reader)
    InitiativeFactory.create_batch(3, business_unit=unit_a)
    client.get(INITIATIVES)
    with django_assert_max_num_queries(12) as without:
        client.get(INITIATIVES)
    for n in range(10):
        save(reader, name=f"F{n}", query=f"q={n}")
    InitiativeFactory.create_batch(12, business_unit=unit_a)
    with django_assert_num_queries(len(without.captured_queries)):
        client.get(INITIATIVES)
