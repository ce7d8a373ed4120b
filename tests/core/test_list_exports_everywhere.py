"""Every list page has CSV and XLSX export (issue 19): walk the URL conf, find every list
page, export it as a user with access, and check the file.

A list page is a named URL whose view is marked ``core.exports.list_page`` (the mark names
its export URLs), or whose name ends in ``_list``, or which — requested without parameters —
renders a paginated ``page_obj``. An unmarked page caught by the other two rules fails: a new
list cannot be added without its export (or a written reason in ``NOT_EXPORTED``).
"""

import csv
import io
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Value
from django.db.models.functions import Concat
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from openpyxl import load_workbook

from core.audit import record_event
from core.exports import CSV_CONTENT_TYPE, FORMULA_PREFIXES, XLSX_CONTENT_TYPE
from core.models import BusinessUnit, CustomFieldDefinition
from governance.approvals.models import ApprovalStep
from governance.imports.models import ImportJob
from governance.incidents.models import Incident
from governance.risk.models import Control, Questionnaire
from inventory.gpu.models import GPUPool, GPUType
from inventory.registry.models import AIModel, Vendor
from inventory.usage.models import ExternalKey, IngestBatch
from portfolio.initiatives.models import Initiative

pytestmark = pytest.mark.django_db

# Pages named like lists that are not registers, and why they have no export.
NOT_EXPORTED = {
    "core:notification_list": "a person's own inbox, not a register",
    "dashboard:report_list": "a person's own generated PDFs, each downloaded from the list",
}

# Query strings for list pages that redirect or default to a narrower tab without one.
PAGE_QUERY = {"inventory:finding_list": "?status=active", "governance:queue": "?scope=all"}

# URL arguments for list pages that take some.
URL_KWARGS = {"portfolio:scaling_members": {"key": "production-two-units", "part": "denominator"}}

INJECTED = "=HYPERLINK(1)"


def named_patterns(resolver=None, namespace="", prefix=""):
    """(full name, full route, pattern) of every named URL pattern."""
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from named_patterns(pattern, inner, route)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", route, pattern


def html_pages():
    """Named pages of the web UI (not the API, SCIM, admin, sign-in or single sign-on)."""
    skipped = ("api/", "scim/", "admin/", "accounts/", "sso/")
    for name, route, pattern in named_patterns():
        if not any(route.startswith(prefix) for prefix in skipped):
            yield name, route, pattern


def inject_formulas():
    """Text that starts with '=' in the columns most lists show."""
    for model, field in (
        (BusinessUnit, "name"),
        (Initiative, "title"),
        (AIModel, "name"),
        (Vendor, "name"),
        (GPUType, "vendor"),
        (GPUPool, "name"),
        (IngestBatch, "filename"),
        (ExternalKey, "value"),
        (ImportJob, "filename"),
        (ApprovalStep, "name"),
        (Control, "title"),
        (Questionnaire, "title"),
        (Incident, "title"),
        (get_user_model(), "first_name"),
        (CustomFieldDefinition, "label"),
    ):
        model.objects.update(**{field: Concat(Value(INJECTED), field)})
    record_event(actor=None, action=INJECTED, object_type="core.x", object_id="1")


@pytest.fixture
def organisation():
    call_command("seed_demo", stdout=StringIO())
    inject_formulas()
    admin = get_user_model().objects.create_superuser("walker", "walker@example.com", "x")
    return admin


def csv_rows(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def xlsx_rows(response):
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def test_every_list_page_exports_csv_and_xlsx(client, organisation, settings):
    settings.KEEL_REQUIRE_MFA_FOR_ADMINS = False
    client.force_login(organisation)
    problems, checked = [], []
    for name, route, pattern in html_pages():
        view = pattern.callback
        export = getattr(view, "list_export", None)
        kwargs = URL_KWARGS.get(name)
        is_list = export is not None or name.endswith("_list")
        takes_arguments = "<" in route or "(?P" in route
        if not is_list and not takes_arguments and not route.endswith((".csv", ".xlsx")):
            response = client.get(reverse(name))
            is_list = response.status_code == 200 and bool(
                response.context and response.context.get("page_obj")
            )
        if not is_list or name in NOT_EXPORTED:
            continue
        if export is None:
            problems.append(f"{name}: a list page without @list_page and an export")
            continue
        query = PAGE_QUERY.get(name, "")
        page = client.get(reverse(name, kwargs=kwargs) + query)
        if page.status_code != 200:
            problems.append(f"{name}: the page answers {page.status_code}")
            continue
        csv_url = reverse(f"{export}_csv", kwargs=kwargs)
        if csv_url.encode() not in page.content:
            problems.append(f"{name}: no export link on the page")
        csv_response = client.get(csv_url + query)
        xlsx_response = client.get(reverse(f"{export}_xlsx", kwargs=kwargs) + query)
        if csv_response["Content-Type"] != CSV_CONTENT_TYPE:
            problems.append(f"{name}: CSV content type {csv_response['Content-Type']}")
            continue
        if xlsx_response["Content-Type"] != XLSX_CONTENT_TYPE:
            problems.append(f"{name}: XLSX content type {xlsx_response['Content-Type']}")
            continue
        rows, sheet = csv_rows(csv_response), xlsx_rows(xlsx_response)
        header = rows[0] if rows else []
        if not header or not all(isinstance(cell, str) and cell for cell in header):
            problems.append(f"{name}: no header row")
        if [str(cell) for cell in sheet[0]] != header:
            problems.append(f"{name}: the XLSX header differs from the CSV's")
        cells = [cell for row in rows[1:] for cell in row]
        texts = [cell for row in sheet[1:] for cell in row if isinstance(cell, str)]
        # A list the demo leaves empty is checked for its header only.
        if len(rows) > 1 and not any(cell.startswith("'" + INJECTED) for cell in cells):
            problems.append(f"{name}: no row shows the injected formula text")
        bare = [c for c in cells + texts if c.startswith(FORMULA_PREFIXES) and not _number(c)]
        if bare:
            problems.append(f"{name}: formula cells not neutralised: {bare[:3]}")
        checked.append(name)
    assert not problems, "\n".join(problems)
    assert len(checked) >= 18, checked
    assert "governance:incident_list" in checked, checked


def _number(text) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
