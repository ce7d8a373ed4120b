"""Every list page's filter bar (issue 19): walk the URL conf's list pages (views marked
``core.exports.list_page``, as the export walk does) and check, on each page that has a
filter form, that

- the person can save its current filters (the save-filters form, posting this list's path), and
- no multi-valued filter is a bare ``<select multiple>`` list box: each is a fieldset of
  checkboxes with a legend (``core.filtersets.checkbox_groups``).
"""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from core.models import BusinessUnit
from tests.core.test_list_exports_everywhere import PAGE_QUERY, URL_KWARGS, html_pages
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# List pages without a filter form, and why.
WITHOUT_FILTERS = {
    "governance:policy_list": "every tier × gate on one page, grouped by gate",
    "governance:import_list": "the import history, newest first",
    "inventory:ingest_list": "the usage-import history, newest first",
    "portfolio:duplicate_list": "tabs by review status",
    "inventory:value_evidence_missing": "the dashboard's drill-down (unit and phase come from it)",
    "roadmap:barrier_heatmap": "one figure per unit × barrier, no rows to filter",
    "governance:questionnaire_list": "the questionnaire's version history, newest first",
    "core:custom_field_list": "the schema: a few definitions per register, in register order",
}


class FilterForms(HTMLParser):
    """What the page's ``<form class="filters">`` hold: multiple selects, checkbox
    fieldsets (with whether they have a legend); and the save-filters form's path."""

    def __init__(self):
        super().__init__()
        self.filter_forms = 0
        self.in_filters = False
        self.multiple_selects: list[str] = []
        self.fieldsets: list[dict] = []
        self.in_fieldset = None
        self.in_save_form = False
        self.save_path = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "form" and "filters" in classes:
            self.filter_forms += 1
            self.in_filters = True
        elif tag == "form" and attributes.get("id") == "save-filter-form":
            self.in_save_form = True
        elif self.in_filters and tag == "select" and "multiple" in attributes:
            self.multiple_selects.append(attributes.get("name", "?"))
        elif self.in_filters and tag == "fieldset":
            self.in_fieldset = {"legend": False, "checkboxes": 0}
            self.fieldsets.append(self.in_fieldset)
        elif self.in_fieldset is not None and tag == "legend":
            self.in_fieldset["legend"] = True
        elif self.in_fieldset is not None and tag == "input":
            if attributes.get("type") == "checkbox":
                self.in_fieldset["checkboxes"] += 1
        elif self.in_save_form and tag == "input" and attributes.get("name") == "path":
            self.save_path = attributes.get("value")

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_filters = self.in_save_form = False
        elif tag == "fieldset":
            self.in_fieldset = None


def list_pages():
    for name, _route, pattern in html_pages():
        if getattr(pattern.callback, "list_export", None) is not None:
            yield name


def test_every_filter_bar_saves_its_filters_and_has_no_bare_list_box(client, settings):
    settings.KEEL_REQUIRE_MFA_FOR_ADMINS = False
    BusinessUnit.objects.create(name="Retail Banking", code="RETAIL")
    client.force_login(UserFactory(is_superuser=True, is_staff=True, username="root"))
    problems, filtered, fieldsets = [], [], 0
    for name in list_pages():
        address = reverse(name, kwargs=URL_KWARGS.get(name))
        response = client.get(address + PAGE_QUERY.get(name, ""))
        if response.status_code != 200:
            problems.append(f"{name}: the page answers {response.status_code}")
            continue
        page = FilterForms()
        page.feed(response.content.decode())
        if not page.filter_forms:
            if name not in WITHOUT_FILTERS:
                problems.append(f"{name}: a list without a filter form (or say why)")
            continue
        filtered.append(name)
        if page.save_path != address:
            problems.append(f"{name}: no save-filters form for {address} ({page.save_path})")
        if page.multiple_selects:
            problems.append(f"{name}: <select multiple> in its filters: {page.multiple_selects}")
        for group in page.fieldsets:
            if not group["legend"] or not group["checkboxes"]:
                problems.append(f"{name}: a filter fieldset without legend or checkboxes")
        fieldsets += len(page.fieldsets)
    assert not problems, "\n".join(problems)
    assert len(filtered) >= 15, filtered
    # The stage filters of the initiatives and the risk register, at least.
    assert fieldsets >= 2


def test_a_multi_valued_filter_is_a_checkbox_group_that_keeps_its_choices(client, coe_admin):
    client.force_login(coe_admin)
    page = client.get(reverse("portfolio:initiative_list"), {"stage": ["pilot", "production"]})
    html = page.content.decode()
    assert '<fieldset class="field check-group">' in html
    assert "<legend>Stage</legend>" in html
    assert 'type="checkbox" name="stage" value="pilot"' in html
    checked = [
        line for line in html.split("<input") if 'name="stage"' in line and "checked" in line
    ]
    assert len(checked) == 2
    # The API filters with the same parameters as before.
    assert page.context["filter"].form.cleaned_data["stage"] == ["pilot", "production"]
