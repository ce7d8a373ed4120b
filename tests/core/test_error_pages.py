"""403, 404 and 500 in Keel's layout, with the reason and a way back (DEBUG off)."""

import pytest
from django.test import RequestFactory
from django.views.defaults import server_error

from core.choices import Role
from tests.factories import member


@pytest.fixture(autouse=True)
def debug_off(settings):
    settings.DEBUG = False


def test_403_shows_the_reason_the_menu_and_a_way_home(client, unit_a):
    client.force_login(member(Role.BU_MEMBER, unit_a))
    response = client.get("/inventory/ingest/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "The import history is the platform team&#x27;s." in page
    assert '<nav class="main-nav" aria-label="Main">' in page
    assert 'href="/">Back to your home page</a>' in page
    assert "<title>Not allowed · Keel</title>" in page


def test_404_in_the_layout_names_the_path(client, unit_a):
    client.force_login(member(Role.BU_MEMBER, unit_a))
    response = client.get("/initiatives/987654/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "<code>/initiatives/987654/</code>" in page
    assert '<nav class="main-nav" aria-label="Main">' in page
    assert 'href="/">Back to your home page</a>' in page


def test_404_for_a_visitor_who_is_not_signed_in(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Not found" in response.content.decode()


def test_500_renders_without_database_or_request_context():
    """No ``db`` fixture: any database access here fails the test."""
    request = RequestFactory().get("/anything/")
    response = server_error(request)
    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in page
    assert 'href="/">Back to your home page</a>' in page
    assert "keel.css" in page  # Keel's layout, not Django's bare page


@pytest.mark.urls("tests.core.failing_urls")
def test_500_from_a_failing_view_uses_the_page(client, db):
    client.raise_request_exception = False
    response = client.get("/broken/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
