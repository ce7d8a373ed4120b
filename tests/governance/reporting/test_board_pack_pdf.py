"""The board-pack PDF for the demo organisation, read back with pypdf: more than one page,
the key figures of ``governance.reporting.dashboard.dashboard()`` for the same reader and filters in
its text, the charts drawn (their titles in the text, vector drawing on the pages, no
missing image), the page's numbers, a BU lead's pack confined to their unit, and
``manage.py board_pack``.

The demo data is built once for the module (``seed_demo`` takes a while) inside a
transaction rolled back at the end; each test runs in a savepoint within it.
"""

import html
import logging
import re
from io import BytesIO, StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from core.models import BusinessUnit
from governance.reporting import services as reports
from governance.reporting.charts import CHART_KEYS, dashboard_charts
from governance.reporting.dashboard import dashboard, dashboard_filters
from portfolio.initiatives.models import Initiative
from portfolio.initiatives.selectors import scope_initiatives
from tests.governance.helpers import overflowing_tables

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo organisation, for this module only."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=StringIO())
        yield
        transaction.set_rollback(True)
    cache.clear()


@pytest.fixture(autouse=True)
def fresh_cache(demo):
    cache.clear()
    yield
    cache.clear()


def user(username):
    return get_user_model().objects.get(username=username)


def normalised(text: str) -> str:
    return " ".join(text.split())


class Pack:
    """A rendered board pack: the bytes, the pages and their text (whitespace collapsed)."""

    def __init__(self, content: bytes):
        self.content = content
        self.pdf = PdfReader(BytesIO(content))
        self.pages = self.pdf.pages
        self.text = normalised(" ".join(page.extract_text() for page in self.pages))


def render(username, params=None, caplog=None) -> tuple[Pack, object]:
    reader = user(username)
    filters = dashboard_filters(user=reader, params=params or {})
    content = reports.render_board_pack(user=reader, filters=filters)
    return Pack(content), dashboard(user=reader, filters=filters)


COLOUR_OPERATOR = re.compile(rb"([\d.]+) ([\d.]+) ([\d.]+) (?:rg|RG)")
INVOKED = re.compile(rb"/([\w.]+) Do")
SHAPE_COLOUR = re.compile(
    r'<(?:rect|path|polyline|polygon|line|circle)\s[^>]*?\s(?:fill|stroke)="(#[0-9a-fA-F]{6})"'
)


def page_colours(page) -> set[str]:
    """The fill and stroke colours painted on a page: its content stream and the form XObjects it
    invokes (WeasyPrint draws an inline SVG's shapes there as vector paths)."""
    xobjects = (page.get("/Resources") or {}).get("/XObject") or {}
    streams, invoked = [page.get_contents().get_data()], set()
    for stream in streams:  # grows as invoked forms are found
        for name in INVOKED.findall(stream):
            key = "/" + name.decode()
            if key in xobjects and key not in invoked:
                invoked.add(key)
                xobject = xobjects[key].get_object()
                if xobject.get("/Subtype") == "/Form":
                    streams.append(xobject.get_data())
    return {
        "#{:02x}{:02x}{:02x}".format(*(round(float(part) * 255) for part in match))
        for stream in streams
        for match in COLOUR_OPERATOR.findall(stream)
    }


def test_the_executive_board_pack_has_the_dashboards_figures_and_charts(caplog):
    caplog.set_level(logging.WARNING, logger="weasyprint")

    pack, board = render("exec")

    assert len(pack.pages) > 1
    # No missing image, stylesheet or SVG the renderer had to skip.
    assert not [record for record in caplog.records if record.name.startswith("weasyprint")]
    text = pack.text
    assert "Board pack" in text and board.filters.label() in text
    # pdf_base.html's own comment must not leak into the document.
    assert "{#" not in text and "Rendered by WeasyPrint" not in text
    # Every page but the cover carries "Page n of N" and the generation time.
    count = len(pack.pages)
    numbered = [
        number
        for number, page in enumerate(pack.pages, start=1)
        if f"Page {number} of {count}" in normalised(page.extract_text())
    ]
    assert numbered == list(range(2, count + 1))
    assert f"generated {board.generated_at:%-d %b %Y}" in text

    funnel, approvals, spend = board.funnel, board.approvals, board.spend
    assert funnel.has_data and approvals.has_data and spend.has_data
    assert f"{reports.cell_text(funnel.total)} initiatives in the portfolio" in text
    assert (
        f"{reports.cell_text(approvals.in_flight)} approval requests in flight, "
        f"{reports.cell_text(approvals.overdue)} overdue" in text
    )
    assert f"In flight {reports.cell_text(approvals.in_flight)}" in text
    assert f"Overdue {reports.cell_text(approvals.overdue)}" in text
    assert f"{reports.cell_text(board.risk_mix.unassessed)} not yet assessed" in text
    assert spend.total_this_month is not None
    assert f"Total this month {reports.cell_text(spend.total_this_month)} {spend.currency}" in text
    # Every stage's count of the funnel table, and the top risks' references.
    for stage in funnel.stages:
        assert f"{stage.label} {reports.cell_text(stage.count)}" in text
    for row in board.top_risks.rows:
        assert row.reference in text
    for phase in board.roadmap.phases:
        assert phase.name in text

    for panel in board.panels:
        assert panel.title in text


def test_every_chart_is_drawn_on_the_page_that_titles_it(caplog):
    """The SVG of the chart module (the page's charts) is drawn into the PDF as vector
    shapes: each chart's accessible title is its caption, and the page carrying it paints
    the colours of the chart's bars, lines and cells. Nothing is left out as a missing image."""
    caplog.set_level(logging.WARNING, logger="weasyprint")
    reader = user("exec")
    filters = dashboard_filters(user=reader, params={})
    charts = dashboard_charts(dashboard(user=reader, filters=filters))
    pack = Pack(reports.render_board_pack(user=reader, filters=filters))

    assert not [record for record in caplog.records if record.name.startswith("weasyprint")]
    page_texts = [normalised(page.extract_text()) for page in pack.pages]
    assert set(charts) == set(CHART_KEYS)
    for key, svg in charts.items():
        title = reports.chart_figure(svg)["title"]
        assert title, key
        pages = [page for page, text in zip(pack.pages, page_texts, strict=True) if title in text]
        assert len(pages) == 1, f"{key}: caption on {len(pages)} pages"
        colours = {colour.lower() for colour in SHAPE_COLOUR.findall(str(svg))} - {"#ffffff"}
        assert colours, key
        assert colours <= page_colours(pages[0]), key


FIGURE = re.compile(r'id="figure-([\w-]+)"[^>]*>\s*<span class="figure-value">([^<]*)</span>')


def page_figures(response) -> dict[str, str]:
    """The dashboard page's headline figures as it writes them, by id."""
    return {key: html.unescape(value).strip() for key, value in FIGURE.findall(response.text)}


@pytest.mark.parametrize("username", ["exec", "lead"])
def test_the_pdf_shows_the_same_numbers_as_the_page(username):
    reader = user(username)
    client = Client()
    client.force_login(reader)
    response = client.get(reverse("dashboard:index"), {"months": "6"})
    assert response.status_code == 200
    figures = page_figures(response)
    page_board = response.context["board"]

    pack, board = render(username, {"months": "6"})

    assert board.filters == page_board.filters
    assert {"initiatives", "scaling-gap", "conversion", "in-flight", "overdue"} <= set(figures)
    assert "no data" not in (figures["initiatives"], figures["in-flight"])
    text = pack.text
    assert f"{figures['initiatives']} initiatives in the portfolio" in text
    assert f"Scaling gap {figures['scaling-gap']}" in text
    assert f"pilot→production conversion {figures['conversion']}" in text
    assert (
        f"{figures['in-flight']} approval requests in flight, {figures['overdue']} overdue" in text
    )
    assert "no data" not in figures["gpu-spend"]
    assert (
        f": {figures['gpu-spend']}; unused commitments {figures['unused-commitments']}; orphaned"
        in text
    )
    assert (
        f"orphaned {figures['orphaned']}; idle allocations {figures['idle-allocations']} a month."
        in text
    )
    assert f"Tier 3–4 initiatives with failing controls {page_board.top_risks.total}" in text


def test_a_bu_leads_board_pack_shows_their_unit_only():
    lead = user("lead")
    retail = BusinessUnit.objects.get(code="RETAIL")

    pack, board = render("lead")

    assert board.filters.business_unit == retail
    assert retail.name in pack.text
    others = BusinessUnit.objects.exclude(pk=retail.pk)
    for unit in others:
        assert unit.name not in pack.text, unit.name
    hidden = scope_initiatives(Initiative.objects.all(), user("exec")).exclude(
        pk__in=scope_initiatives(Initiative.objects.all(), lead).values("pk")
    )
    assert hidden.exists()
    for reference in hidden.values_list("reference", flat=True):
        assert re.search(rf"\b{reference}\b", pack.text) is None, reference
    # Its figures are the unit's, not the organisation's.
    whole = dashboard(user=user("exec"), filters=dashboard_filters(user=user("exec"), params={}))
    assert board.funnel.total < whole.funnel.total
    assert f"{reports.cell_text(board.funnel.total)} initiatives in the portfolio" in pack.text
    # The roadmap section is empty on purpose and says why.
    assert re.search(r"organisation-wide\s+figures,\s+shown\s+to\s+executives", pack.text)


def test_a_bu_lead_cannot_widen_their_board_pack(tmp_path):
    insure = BusinessUnit.objects.get(code="INSURE")
    with pytest.raises(PermissionDenied):
        dashboard_filters(user=user("lead"), params={"business_unit": str(insure.pk)})
    with pytest.raises(CommandError, match="cannot see"):
        call_command(
            "board_pack", "--output", str(tmp_path / "x.pdf"), "--bu", "INSURE", "--as", "lead"
        )
    assert not (tmp_path / "x.pdf").exists()


# --- manage.py board_pack -------------------------------------------------------------------


def test_command_writes_the_board_pack_and_says_where(tmp_path):
    output = tmp_path / "board-pack.pdf"
    out = StringIO()

    call_command("board_pack", "--output", str(output), stdout=out)

    pack = Pack(output.read_bytes())
    assert len(pack.pages) > 1
    message = out.getvalue()
    assert str(output) in message
    assert f"{len(pack.pages)} pages" in message
    assert f"({len(pack.content)} bytes)" in message
    assert "as exec" in message  # the default, organisation-wide reader
    whole = dashboard(user=user("exec"), filters=dashboard_filters(user=user("exec"), params={}))
    assert f"{reports.cell_text(whole.funnel.total)} initiatives in the portfolio" in pack.text


def test_command_narrows_to_a_unit_by_code(tmp_path):
    output = tmp_path / "retail.pdf"
    call_command(
        "board_pack", "--output", str(output), "--bu", "retail", "--months", "3", stdout=StringIO()
    )
    retail = BusinessUnit.objects.get(code="RETAIL")
    reader = user("exec")
    filters = dashboard_filters(
        user=reader, params={"business_unit": str(retail.pk), "months": "3"}
    )
    pack = Pack(output.read_bytes())
    assert filters.label() in pack.text
    board = dashboard(user=reader, filters=filters)
    assert f"{reports.cell_text(board.funnel.total)} initiatives in the portfolio" in pack.text


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--bu", "NOPE"], "No business unit with code 'NOPE'"),
        (["--as", "nobody"], "No user 'nobody'"),
        (["--as", "member", "--bu", "INSURE"], "cannot see that business unit"),
        (["--months", "5"], "Choose a period of 3, 6, 12 months"),
    ],
)
def test_command_fails_clearly(tmp_path, arguments, message):
    output = tmp_path / "board-pack.pdf"
    with pytest.raises(CommandError, match=message):
        call_command("board_pack", "--output", str(output), *arguments, stdout=StringIO())
    assert not output.exists()


@pytest.mark.parametrize("username", ["exec", "lead"])
def test_every_table_of_the_board_pack_fits_the_page_width(username):
    reader = user(username)
    board = dashboard(user=reader, filters=dashboard_filters(user=reader, params={}))
    html_text = reports.board_pack_html(board=board, charts=dashboard_charts(board))
    document = reports.pdf_layout(html_text)
    assert document.pages and "<table" in html_text
    assert overflowing_tables(document) == []
