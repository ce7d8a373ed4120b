"""The dashboard's chart primitives and ``governance.reporting.charts``: each chart is a
well-formed, accessible SVG that writes the panel's exact figures as text, links its labels
to the rows behind them, says "no data" when the panel has none, and renders in WeasyPrint
(the board pack draws the very same SVG)."""

import datetime
import io
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from pypdf import PdfReader

from core import charts
from core.models import BusinessUnit
from governance.reporting.charts import CHART_KEYS, dashboard_charts, money
from governance.reporting.panels import (
    ApprovalsPanel,
    BarrierPanel,
    Count,
    CycleRow,
    Dashboard,
    DashboardFilters,
    FunnelPanel,
    IndicatorRow,
    PhaseRow,
    RiskMixPanel,
    RiskRow,
    RoadmapPanel,
    ScalingPanel,
    SpendPanel,
    SpendRow,
    TopRisksPanel,
    TrendPoint,
    UtilisationPanel,
    UtilisationRowBU,
)
from portfolio.scaling.choices import Barrier
from portfolio.scaling.metrics import MetricResult
from portfolio.scaling.selectors import Heatmap, HeatmapCell, HeatmapRow
from tests.core.test_charts import HOSTILE, NS, parse, texts, titles

MARCH, APRIL, MAY = datetime.date(2025, 3, 1), datetime.date(2025, 4, 1), datetime.date(2025, 5, 1)


def links(root: ET.Element) -> list[str]:
    return [element.get("href") for element in root.iterfind(".//svg:a", NS)]


# --------------------------------------------------------------------------------------------
# Primitives
# --------------------------------------------------------------------------------------------


def test_no_data_chart_says_so():
    root = parse(charts.no_data_chart("GPU spend"))
    assert texts(root) == ["no data"]
    assert root.get("aria-label") == "GPU spend: no data"


def test_column_chart_scales_columns_writes_values_and_links_labels():
    root = parse(
        charts.column_chart(
            [("Tier 1", 6), ("Tier 2", 3), ("Unassessed", None)],
            title="Tiers",
            urls=["/a?tier=1", "/a?tier=2", "/a?unassessed=1"],
            colours=["#067647", "#175cd3", "#98a2b3"],
        )
    )
    heights = [float(rect.get("height")) for rect in root.iterfind(".//svg:rect", NS)]
    assert heights[0] == pytest.approx(2 * heights[1])
    assert heights[2] == 0
    assert {"6", "3", "no data"} <= set(texts(root))
    assert links(root) == ["/a?tier=1", "/a?tier=2", "/a?unassessed=1"]
    assert "Tier 1: 6" in titles(root)
    fills = [rect.get("fill") for rect in root.iterfind(".//svg:rect", NS)]
    assert fills == ["#067647", "#175cd3", "#98a2b3"]


def test_bar_chart_band_is_shaded_behind_the_bars_with_its_legend():
    root = parse(
        charts.bar_chart(
            [("Retail", 72.5), ("Insurance", 40)],
            title="Activity",
            unit="%",
            max_value=100,
            band=(70, 85),
            band_label="Target band 70–85 %",
            notes=["In the target band", "Below the target band"],
        )
    )
    band = root.find(".//svg:rect", NS)  # drawn first, so the bars sit on top
    assert band.get("fill") == charts.BAND_FILL
    bars = [rect for rect in root.iterfind(".//svg:rect", NS) if rect.get("fill") == charts.BRAND]
    track = 480 - 170 - 190
    assert float(band.get("x")) == pytest.approx(170 + track * 0.70, abs=0.1)
    assert float(band.get("width")) == pytest.approx(track * 0.15, abs=0.2)
    assert float(bars[0].get("width")) == pytest.approx(track * 0.725, abs=0.1)
    edges = [line for line in root.iterfind(".//svg:line", NS) if line.get("stroke-dasharray")]
    assert len(edges) == 2
    written = texts(root)
    assert "72.5 % · In the target band" in written
    assert "40 % · Below the target band" in written
    assert "Target band 70–85 %" in written
    assert "Retail: 72.5 % (In the target band)" in titles(root)


def test_bar_chart_formats_values_with_a_formatter():
    root = parse(
        charts.bar_chart(
            [("Retail", Decimal("12345.67"))],
            title="Spend",
            value_format=lambda value: money(value, "EUR"),
        )
    )
    assert "12,346 EUR" in texts(root)


def test_stacked_columns_stack_each_series_and_write_the_totals():
    root = parse(
        charts.stacked_column_chart(
            title="Spend",
            labels=["Mar 2025", "Apr 2025", "May 2025"],
            series=[("Retail", [100, 200, None]), ("Insurance", [50, None, None])],
            totals=[150, 200, None],
        )
    )
    segments = [
        rect for rect in root.iterfind(".//svg:rect", NS) if rect.get("stroke") == "#ffffff"
    ]
    assert len(segments) == 3  # None values draw nothing
    heights = [float(rect.get("height")) for rect in segments]
    assert heights[0] == pytest.approx(2 * heights[1], abs=0.2)  # Retail 100 vs Insurance 50
    assert heights[2] == pytest.approx(4 * heights[1], abs=0.2)  # Retail 200 = the top
    assert {"150", "200", "no data"} <= set(texts(root))
    assert "Insurance · Mar 2025: 50" in titles(root)
    assert "Retail" in texts(root) and "Insurance" in texts(root)  # the legend
    assert root.get("aria-label").endswith("latest total no data")


def test_stacked_columns_default_totals_are_the_sums():
    root = parse(
        charts.stacked_column_chart(
            title="Spend", labels=["A", "B"], series=[("x", [1, None]), ("y", [2, None])]
        )
    )
    assert "3" in texts(root) and "no data" in texts(root)


def test_multi_line_chart_breaks_on_none_marks_points_and_legends_the_latest():
    root = parse(
        charts.multi_line_chart(
            title="Scaling",
            labels=["Mar 2025", "Apr 2025", "May 2025"],
            series=[("Gap", [60, None, Decimal("40")]), ("Conversion", [10, 20, 30])],
            unit="%",
            low=0,
            high=100,
            band=(70, 85),
            band_label="Target",
        )
    )
    lines = root.findall(".//svg:polyline", NS)
    assert len(lines) == 1  # the gap's None leaves two lone points; conversion is one line
    assert len(lines[0].get("points").split()) == 3
    assert lines[0].get("stroke-dasharray")  # second series is dashed, not colour only
    assert len(root.findall(".//svg:circle", NS)) == 5
    assert "Gap · May 2025: 40 %" in titles(root)
    written = texts(root)
    assert "Gap: 40 %" in written and "Conversion: 30 %" in written
    assert "0 %" in written and "100 %" in written
    assert root.get("aria-label") == (
        "Scaling: 3 points from Mar 2025 to May 2025; latest Gap: 40 %; Conversion: 30 %"
    )
    assert any(rect.get("fill") == charts.BAND_FILL for rect in root.iterfind(".//svg:rect", NS))


def test_multi_line_chart_with_one_point_or_flat_values_does_not_divide_by_zero():
    parse(charts.multi_line_chart(title="One", labels=["A"], series=[("x", [5])]))
    parse(charts.multi_line_chart(title="Flat", labels=["A", "B"], series=[("x", [0, 0])]))


def test_multi_line_chart_skips_labels_that_would_overlap():
    labels = [f"Month {number:02d}" for number in range(12)]
    root = parse(
        charts.multi_line_chart(
            title="Long", labels=labels, series=[("x", list(range(12)))], width=320
        )
    )
    shown = [text for text in texts(root) if text.startswith("Month")]
    assert labels[0] in shown and labels[-1] in shown
    assert len(shown) < len(labels)


def test_progress_chart_fills_each_row_and_writes_its_share_and_note():
    root = parse(
        charts.progress_chart(
            [("Phase 1: Foundations", 3, 4), ("Phase 2: Scale", 0, 0)],
            title="Phases",
            urls=["/roadmap/#phase-1", "/roadmap/#phase-2"],
            notes=["In progress", "Not started"],
        )
    )
    rects = root.findall(".//svg:rect", NS)
    assert float(rects[1].get("width")) == pytest.approx(float(rects[0].get("width")) * 0.75)
    assert float(rects[3].get("width")) == 0
    written = texts(root)
    assert "3 of 4 (75 %) · In progress" in written
    assert "no activities · Not started" in written
    assert links(root) == ["/roadmap/#phase-1", "/roadmap/#phase-2"]


def test_new_primitives_escape_their_text():
    markups = [
        charts.no_data_chart(HOSTILE, message=HOSTILE),
        charts.column_chart([(HOSTILE, 1)], title=HOSTILE, urls=[f"/x?q={HOSTILE}"]),
        charts.bar_chart([(HOSTILE, 1)], title=HOSTILE, notes=[HOSTILE], band=(1, 2)),
        charts.stacked_column_chart(title=HOSTILE, labels=[HOSTILE], series=[(HOSTILE, [1])]),
        charts.multi_line_chart(title=HOSTILE, labels=[HOSTILE], series=[(HOSTILE, [1])]),
        charts.progress_chart([(HOSTILE, 1, 2)], title=HOSTILE, notes=[HOSTILE]),
    ]
    for markup in markups:
        assert "<script>" not in markup
        root = parse(markup)
        assert root.get("aria-label").startswith(HOSTILE)
        assert any(HOSTILE in (title or "") for title in titles(root))


# --------------------------------------------------------------------------------------------
# The dashboard's charts
# --------------------------------------------------------------------------------------------


def sample_dashboard() -> Dashboard:
    retail = BusinessUnit(pk=1, name="Retail Banking", code="RETAIL")
    insurance = BusinessUnit(pk=2, name="Insurance", code="INSURE")
    barriers = list(Barrier.choices)
    cells = [HeatmapCell(Decimal("3.50"), 2, 2)] + [HeatmapCell(None, 0, 0)] * 5
    heatmap = Heatmap(
        barriers=barriers,
        rows=[HeatmapRow(1, "Retail Banking", "RETAIL", cells)],
        overall=HeatmapRow(None, "All business units", "", cells),
    )
    common = {"definition": "Defined.", "drilldown_url": "/initiatives/", "has_data": True}
    return Dashboard(
        filters=DashboardFilters(months=3, today=datetime.date(2025, 5, 20)),
        generated_at=datetime.datetime(2025, 5, 20, 9, 0, tzinfo=datetime.UTC),
        funnel=FunnelPanel(
            key="funnel",
            title="Portfolio funnel",
            **common,
            stages=[
                Count("proposed", "Proposed", 4, "/initiatives/?stage=proposed"),
                Count("pilot", "Pilot", 3, "/initiatives/?stage=pilot"),
                Count("production", "Production", 1, "/initiatives/?stage=production"),
            ],
            total=8,
        ),
        scaling=ScalingPanel(
            key="scaling",
            title="Scaling gap",
            **common,
            scaling_gap=MetricResult(Decimal("66.7"), 2, 3),
            conversion=MetricResult(Decimal("25.0"), 1, 4),
            trend=[
                TrendPoint(MARCH, Decimal("75.0"), None),
                TrendPoint(APRIL, Decimal("70.0"), Decimal("20.0")),
                TrendPoint(MAY, Decimal("66.7"), Decimal("25.0")),
            ],
        ),
        risk_mix=RiskMixPanel(
            key="risk-mix",
            title="Risk-tier mix",
            **common,
            tiers=[
                Count("1", "Tier 1 · minimal", 2, "/r?tier=1"),
                Count("2", "Tier 2 · limited", 1, "/r?tier=2"),
                Count("3", "Tier 3 · high", 1, "/r?tier=3"),
                Count("4", "Tier 4 · unacceptable", 0, "/r?tier=4"),
            ],
            unassessed=3,
            unassessed_url="/r?unassessed=1",
        ),
        approvals=ApprovalsPanel(
            key="approvals",
            title="Approvals",
            **common,
            in_flight=2,
            overdue=1,
            cycle=[
                CycleRow(3, "Tier 3 · high", "pilot", "Pilot", 2, Decimal("4.5"), "/q?t=3"),
            ],
        ),
        spend=SpendPanel(
            key="gpu-spend",
            title="GPU spend",
            **common,
            month=MAY,
            currency="EUR",
            months=[MARCH, APRIL, MAY],
            rows=[
                SpendRow(
                    retail,
                    Decimal("1200.50"),
                    [None, Decimal("800"), Decimal("1200.50")],
                    "/c?bu=1",
                ),
                SpendRow(insurance, Decimal("300"), [None, None, Decimal("300")], "/c?bu=2"),
            ],
            total_this_month=Decimal("1500.50"),
            total_trend=[None, Decimal("800"), Decimal("1500.50")],
            unused_commitments=Decimal("90"),
            orphaned=Decimal("45"),
        ),
        utilisation=UtilisationPanel(
            key="utilisation",
            title="Utilisation",
            **common,
            rows=[
                UtilisationRowBU(retail, 77.5, "in_band", "In the target band", "/u?bu=1"),
                UtilisationRowBU(insurance, None, "no_data", "No data", "/u?bu=2"),
            ],
        ),
        roadmap=RoadmapPanel(
            key="roadmap",
            title="Roadmap",
            **common,
            phases=[PhaseRow(1, "Foundations", "in_progress", "In progress", 3, 4, "/rm#p1")],
            indicators=[
                IndicatorRow(
                    "scaling_gap",
                    "Scaling gap",
                    1,
                    "%",
                    Decimal("66.7"),
                    Decimal("50"),
                    "not_met",
                    "/rm#i1",
                )
            ],
        ),
        top_risks=TopRisksPanel(
            key="top-risks",
            title="Top risks",
            **common,
            rows=[
                RiskRow(
                    7, "AI-007", "Credit scoring", "Retail Banking", 3, "Tier 3 · high", 2, "/i/7"
                )
            ],
            total=1,
        ),
        barriers=BarrierPanel(key="barriers", title="Barriers", **common, heatmap=heatmap),
    )


def empty_dashboard() -> Dashboard:
    common = {"definition": "Defined.", "drilldown_url": "/initiatives/", "has_data": False}
    return Dashboard(
        filters=DashboardFilters(),
        generated_at=datetime.datetime(2025, 5, 20, 9, 0, tzinfo=datetime.UTC),
        funnel=FunnelPanel(key="funnel", title="Funnel", **common),
        scaling=ScalingPanel(key="scaling", title="Scaling", **common),
        risk_mix=RiskMixPanel(key="risk-mix", title="Risk", **common),
        approvals=ApprovalsPanel(key="approvals", title="Approvals", **common),
        spend=SpendPanel(key="gpu-spend", title="Spend", **common),
        utilisation=UtilisationPanel(key="utilisation", title="Utilisation", **common),
        roadmap=RoadmapPanel(key="roadmap", title="Roadmap", **common),
        top_risks=TopRisksPanel(key="top-risks", title="Top risks", **common),
        barriers=BarrierPanel(key="barriers", title="Barriers", **common),
    )


def test_dashboard_charts_draws_every_chart_with_the_panels_figures():
    drawn = dashboard_charts(sample_dashboard())

    assert tuple(drawn) == CHART_KEYS
    roots = {key: parse(markup) for key, markup in drawn.items()}
    assert {"4", "3", "1"} <= set(texts(roots["funnel"]))
    assert "/initiatives/?stage=pilot" in links(roots["funnel"])
    assert roots["funnel"].get("aria-label").endswith("(8 in all)")
    assert "Scaling gap: 66.7 %" in texts(roots["scaling-trend"])
    assert "Pilot→production conversion: 25 %" in texts(roots["scaling-trend"])
    assert {"2", "1", "0", "3"} <= set(texts(roots["risk-mix"]))
    assert "/r?unassessed=1" in links(roots["risk-mix"])
    assert "4.5 days · 2 decided" in texts(roots["approvals-cycle"])
    assert {"1,201 EUR", "300 EUR"} <= set(texts(roots["gpu-spend"]))
    assert roots["gpu-spend"].get("aria-label").endswith("1,501 EUR in all")
    assert {"800 EUR", "1,501 EUR", "no data"} <= set(texts(roots["gpu-spend-trend"]))
    assert "77.5 % · In the target band" in texts(roots["utilisation"])
    assert "no data" in texts(roots["utilisation"])
    assert "3 of 4 (75 %) · In progress" in texts(roots["roadmap"])
    assert "3.5" in texts(roots["barriers"])


def test_dashboard_charts_say_no_data_for_empty_panels():
    drawn = dashboard_charts(empty_dashboard())

    assert tuple(drawn) == CHART_KEYS
    for key, markup in drawn.items():
        root = parse(markup)
        assert markup, key
        assert any(text.startswith("no data") for text in texts(root)), key


def test_a_panel_with_data_but_no_decisions_has_a_no_data_cycle_chart():
    board = sample_dashboard()
    board.approvals.cycle = []
    root = parse(dashboard_charts(board)["approvals-cycle"])
    assert texts(root) == ["no data: no decisions in the period"]


def test_every_dashboard_chart_renders_in_weasyprint():
    import weasyprint

    drawn = dashboard_charts(sample_dashboard())
    html = "<html><body>" + "".join(f"<div>{chart}</div>" for chart in drawn.values())
    html += "</body></html>"
    pdf = weasyprint.HTML(string=html).write_pdf()

    pages = PdfReader(io.BytesIO(pdf)).pages
    # WeasyPrint places SVG text glyph by glyph: the extracted text has no spaces.
    text = "".join(page.extract_text() for page in pages).replace(" ", "")
    for figure in ("1,201EUR", "77.5%·Inthetargetband", "3of4(75%)", "4.5days"):
        assert figure in text
    # Links inside <text> are drawn as text too, so labels survive in the PDF.
    assert "Pilot" in text and "Unassessed" in text
