"""The SVG chart components: well-formed XML, an accessible name, numbers written as text,
escaped labels, and nothing a strict CSP (or WeasyPrint) would refuse."""

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from core import charts, svg

NS = {"svg": svg.SVG_NAMESPACE}
SVG = f"{{{svg.SVG_NAMESPACE}}}svg"
HOSTILE = "R&D <script>alert(\"x\")</script> 'quoted'"


def parse(markup: str) -> ET.Element:
    root = ET.fromstring(markup)  # noqa: S314 - our own output
    assert root.tag == SVG
    # A chart with links is a figure (so its links stay reachable); any other is an image.
    linked = root.find(f".//{{{svg.SVG_NAMESPACE}}}a") is not None
    assert root.get("role") == ("figure" if linked else "img")
    assert root.get("viewBox")
    first = list(root)[0]
    assert first.tag == f"{{{svg.SVG_NAMESPACE}}}title"
    assert first.text and root.get("aria-label") == first.text
    for element in root.iter():
        assert "style" not in element.attrib
        assert not element.tag.endswith("script")
        assert not any(name.startswith("on") for name in element.attrib)
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(element.itertext()) for element in root.iterfind(".//svg:text", NS)]


def titles(root: ET.Element) -> list[str]:
    return [element.text for element in root.iterfind(".//svg:title", NS)]


def heatmap(**overrides):
    arguments = {
        "title": "Barriers",
        "rows": ["Retail", "Insurance"],
        "columns": ["Data fragmentation", "Change management"],
        "values": [[Decimal("3.26"), None], [1, 5]],
        "notes": [["4 assessments", "0 assessments"], ["1 assessment", "2 assessments"]],
        "legend": "1 = minor, 5 = severe",
    }
    return charts.heatmap(**{**arguments, **overrides})


def test_heatmap_writes_each_number_and_a_title_per_cell():
    root = parse(heatmap())

    written = texts(root)
    assert {"3.3", "—", "1.0", "5.0"} <= set(written)
    assert "Retail × Data fragmentation: 3.3 (4 assessments)" in titles(root)
    assert "Retail × Change management: no data (0 assessments)" in titles(root)
    assert "1 = minor, 5 = severe" in written


def test_heatmap_colours_run_from_light_to_dark_and_grey_for_no_data():
    assert charts.heat_colour(1) == charts.HEAT_COLOURS[0]
    assert charts.heat_colour(5) == charts.HEAT_COLOURS[-1]
    assert charts.heat_colour(9) == charts.HEAT_COLOURS[-1]
    assert charts.heat_colour(None) == charts.NO_DATA_FILL
    assert charts.heat_colour(3) == charts.HEAT_COLOURS[2]
    fills = [rect.get("fill") for rect in parse(heatmap()).iterfind(".//svg:rect", NS)]
    assert charts.NO_DATA_FILL in fills and charts.HEAT_COLOURS[-1] in fills


def test_severe_cells_use_white_text_for_contrast():
    root = parse(heatmap(values=[[5, 1], [1, 1]]))
    severe = [text for text in root.iterfind(".//svg:text", NS) if text.text == "5.0"]
    assert severe[0].get("fill") == "#ffffff"


def test_every_chart_escapes_its_text():
    markups = [
        heatmap(title=HOSTILE, rows=[HOSTILE, "B"], columns=[HOSTILE, "C"]),
        charts.sparkline([1, 2], title=HOSTILE),
        charts.sparkline([], title=HOSTILE),
        charts.progress_bar(done=1, total=2, title=HOSTILE),
        charts.bar_chart([(HOSTILE, 3)], title=HOSTILE),
    ]
    for markup in markups:
        assert "<script>" not in markup
        root = parse(markup)
        assert root.get("aria-label").startswith(HOSTILE)
        assert any(HOSTILE in (title or "") for title in titles(root))


def test_sparkline_draws_the_history_marks_the_latest_and_the_target():
    root = parse(charts.sparkline([10, None, 30, 40], title="Gap", target=50, unit="%"))

    lines = root.findall(".//svg:polyline", NS)
    assert len(lines) == 1  # the None splits 10 from 30–40; a lone point draws no segment
    assert len(lines[0].get("points").split()) == 2
    assert root.find(".//svg:circle", NS) is not None
    assert "40 %" in texts(root)
    assert root.get("aria-label") == "Gap: 3 values, from 10 % to 40 %; target 50 %"
    assert root.find(".//svg:line", NS).get("stroke-dasharray")


@pytest.mark.parametrize("values", [[], [None, None]])
def test_sparkline_without_values_says_no_data(values):
    root = parse(charts.sparkline(values, title="Trend"))
    assert "no data" in texts(root)
    assert root.get("aria-label") == "Trend: no data"


def test_sparkline_with_one_or_equal_values_does_not_divide_by_zero():
    parse(charts.sparkline([Decimal("7.5")], title="One"))
    parse(charts.sparkline([3, 3, 3], title="Flat"))


def test_progress_bar_fills_the_share_done_and_says_it():
    root = parse(charts.progress_bar(done=3, total=4, title="Phase 2", width=210))

    rects = root.findall(".//svg:rect", NS)
    assert float(rects[1].get("width")) == pytest.approx(float(rects[0].get("width")) * 0.75)
    assert "3 of 4 (75 %)" in texts(root)
    assert root.get("aria-label") == "Phase 2: 3 of 4 (75 %)"


def test_progress_bar_without_activities():
    root = parse(charts.progress_bar(done=0, total=0, title="Phase 4"))
    assert "no activities" in texts(root)


def test_bar_chart_scales_bars_and_writes_values():
    root = parse(
        charts.bar_chart([("Pilots", 8), ("Scaled", 2), ("Unknown", None)], title="Funnel")
    )

    widths = [float(rect.get("width")) for rect in root.findall(".//svg:rect", NS)]
    assert widths[0] == pytest.approx(4 * widths[1])
    assert widths[2] == 0
    assert {"8", "2", "no data"} <= set(texts(root))


def test_format_number():
    assert charts.format_number(None) == "no data"
    assert charts.format_number(Decimal("66.67"), 1, "%") == "66.7 %"
    assert charts.format_number(60.0, 1, "days") == "60 days"
    assert charts.format_number(Decimal("-0.01"), 1) == "0"
