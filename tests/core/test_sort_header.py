"""Sortable column headers: ``aria-sort`` sits on the ``<th>`` (a column header may carry it,
a link may not) and only on the column the table is sorted by."""

from django.template import Context, Template
from django.test import RequestFactory

from core import svg

TEMPLATE = Template('{% load keel %}{% sort_header "title" "Title" %}')


def render(query: str) -> str:
    request = RequestFactory().get(f"/initiatives/{query}")
    return TEMPLATE.render(Context({"request": request}))


def test_unsorted_column_has_no_aria_sort_and_links_to_ascending():
    html = render("?stage=pilot&page=2")
    assert html.startswith('<th scope="col"><a href="?stage=pilot&amp;ordering=title"')
    assert "aria-sort" not in html and "page=2" not in html


def test_sorted_column_header_carries_aria_sort_and_toggles():
    ascending = render("?ordering=title")
    assert ascending.startswith('<th scope="col" aria-sort="ascending"><a href="?ordering=-title"')
    assert "Title ▲</a></th>" in ascending
    descending = render("?ordering=-title")
    assert 'aria-sort="descending"' in descending and "Title ▼" in descending
    assert '<a href="?ordering=title"' in descending


def test_class_and_abbreviation():
    template = Template('{% load keel %}{% sort_header "waste" "Waste" "num" "Per month" %}')
    html = template.render(Context({"request": RequestFactory().get("/")}))
    assert html.startswith('<th scope="col" class="num"><abbr title="Per month"><a ')


def test_a_chart_with_links_is_a_figure_so_its_links_stay_reachable():
    linked = str(svg._svg(10, 10, "Linked", '<text><a href="/x/">x</a></text>'))
    plain = str(svg._svg(10, 10, "Plain", "<text>x</text>"))
    assert 'role="figure"' in linked and 'role="img"' not in linked
    assert 'role="img"' in plain
