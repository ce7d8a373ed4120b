"""Server-rendered SVG charts: pure functions from numbers to one ``<svg>`` element.

Every chart

* is a standalone ``<svg>`` with ``role="img"``, an ``aria-label`` and a ``<title>`` as its
  first child (its accessible name and the browser tooltip); parts carry their own
  ``<title>`` with the exact figures;
* writes its numbers as text, so colour is never the only signal;
* escapes every piece of caller-supplied text;
* uses presentation attributes only (``fill=``, never ``style=``) and no script, so it passes
  the strict Content-Security-Policy and renders the same in WeasyPrint PDFs.

The functions return ``SafeString`` (a ``str``), ready for ``{{ chart }}`` in a template.
"""

from collections.abc import Callable, Sequence

from django.utils.safestring import SafeString

from core.svg import (
    BRAND,
    DARK_FROM,
    HEAT_COLOURS,
    INK,
    LINE,
    MUTED,
    NO_DATA_FILL,
    TRACK,
    Number,
    _clip,
    _share,
    _svg,
    _text,
    _wrap,
    format_number,
    heat_colour,
)

# Writes a value as text, e.g. a money amount with its currency.
Formatter = Callable[[Number | None], str]


def heatmap(
    *,
    title: str,
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[Number | None]],
    notes: Sequence[Sequence[str]] | None = None,
    low: Number = 1,
    high: Number = 5,
    decimals: int = 1,
    legend: str = "",
    description: str = "",
) -> SafeString:
    """A rows × columns grid of coloured cells, each showing its number.

    ``values[r][c]`` is the value of row ``r`` and column ``c`` (``None`` for no data, drawn
    grey with a dash); ``notes[r][c]`` is appended to that cell's tooltip (e.g. "4
    assessments"). ``legend`` explains the scale, e.g. "1 = minor, 5 = severe".
    """
    cell_width, cell_height, label_width, header_height = 104, 34, 190, 44
    width = label_width + cell_width * max(len(columns), 1) + 8
    grid_bottom = header_height + cell_height * len(rows)
    height = grid_bottom + 46
    parts = []
    for index, column in enumerate(columns):
        x = label_width + cell_width * index + cell_width / 2
        lines = _wrap(str(column), 16)
        first_y = header_height - 8 - 14 * (len(lines) - 1)
        spans = "".join(
            f'<tspan x="{x:g}" y="{first_y + 14 * number:g}">{_text(line)}</tspan>'
            for number, line in enumerate(lines)
        )
        parts.append(
            f'<text text-anchor="middle" fill="{MUTED}" font-size="11">'
            f"<title>{_text(column)}</title>{spans}</text>"
        )
    for row_index, row in enumerate(rows):
        y = header_height + cell_height * row_index
        parts.append(
            f'<text x="{label_width - 8}" y="{y + cell_height / 2 + 4:g}" text-anchor="end" '
            f'fill="{INK}"><title>{_text(row)}</title>{_text(_clip(str(row), 28))}</text>'
        )
        for column_index, column in enumerate(columns):
            value = values[row_index][column_index]
            x = label_width + cell_width * column_index
            note = notes[row_index][column_index] if notes else ""
            # Fixed decimals in the grid, so "4.0" and "3.5" line up.
            shown = "—" if value is None else f"{float(value):.{decimals}f}"
            tooltip = f"{row} × {column}: {format_number(value, decimals)}"
            if note:
                tooltip += f" ({note})"
            dark = value is not None and _share(value, low, high) >= DARK_FROM
            parts.append(
                f"<g><title>{_text(tooltip)}</title>"
                f'<rect x="{x + 1:g}" y="{y + 1:g}" width="{cell_width - 2}" '
                f'height="{cell_height - 2}" rx="3" fill="{heat_colour(value, low, high)}" '
                f'stroke="#ffffff"/>'
                f'<text x="{x + cell_width / 2:g}" y="{y + cell_height / 2 + 4:g}" '
                f'text-anchor="middle" font-weight="600" '
                f'fill="{"#ffffff" if dark else INK}">{_text(shown)}</text></g>'
            )
    parts.append(_heat_legend(label_width, grid_bottom + 12, low, high, decimals, legend))
    return _svg(width, height, title, "".join(parts), description)


def _heat_legend(x: float, y: float, low, high, decimals: int, legend: str) -> str:
    steps = len(HEAT_COLOURS)
    span = float(high) - float(low)
    parts = []
    for index in range(steps):
        value = float(low) + span * index / (steps - 1) if steps > 1 else float(low)
        left = x + index * 34
        parts.append(
            f'<rect x="{left:g}" y="{y:g}" width="32" height="14" '
            f'fill="{heat_colour(value, low, high)}"/>'
            f'<text x="{left + 16:g}" y="{y + 26:g}" text-anchor="middle" fill="{MUTED}" '
            f'font-size="10">{_text(format_number(value, decimals))}</text>'
        )
    if legend:
        parts.append(
            f'<text x="{x + steps * 34 + 8:g}" y="{y + 11:g}" fill="{MUTED}" font-size="11">'
            f"{_text(legend)}</text>"
        )
    return f"<g>{''.join(parts)}</g>"


def _segments(values, x_of, y_of) -> list[list[str]]:
    """The runs of consecutive known values as lists of "x,y" points (``None`` breaks a
    line), for polylines."""
    segments: list[list[str]] = []
    segment: list[str] = []
    for index, value in enumerate(values):
        if value is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{x_of(index):.1f},{y_of(float(value)):.1f}")
    if segment:
        segments.append(segment)
    return segments


def sparkline(
    values: Sequence[Number | None],
    *,
    title: str,
    width: int = 140,
    height: int = 36,
    target: Number | None = None,
    unit: str = "",
    decimals: int = 1,
) -> SafeString:
    """A small line of ``values`` in order (oldest first); ``None`` breaks the line.

    The latest value is marked with a dot and written at the right; ``target``, when given,
    is a dashed line. With no values at all the chart says "no data".
    """
    numbers = [float(value) for value in values if value is not None]
    latest = format_number(numbers[-1], decimals, unit) if numbers else "no data"
    # Room for the latest value written at the right (about 7 px a character at 12 px).
    label_width = max(48, 7 * len(latest) + 8)
    plot_width = width - label_width
    if not numbers:
        body = (
            f'<line x1="2" y1="{height / 2:g}" x2="{plot_width:g}" y2="{height / 2:g}" '
            f'stroke="{LINE}" stroke-dasharray="3 3"/>'
            f'<text x="{plot_width + 4:g}" y="{height / 2 + 4:g}" fill="{MUTED}">no data</text>'
        )
        return _svg(width, height, f"{title}: no data", body)
    scale_values = numbers + ([float(target)] if target is not None else [])
    lowest, highest = min(scale_values), max(scale_values)
    if highest == lowest:
        lowest, highest = lowest - 1, highest + 1
    pad = 4

    def x_of(index: int) -> float:
        if len(values) == 1:
            return plot_width / 2
        return pad + (plot_width - 2 * pad) * index / (len(values) - 1)

    def y_of(value: float) -> float:
        return height - pad - (height - 2 * pad) * (value - lowest) / (highest - lowest)

    parts = []
    if target is not None:
        y = y_of(float(target))
        parts.append(
            f'<line x1="{pad}" y1="{y:.1f}" x2="{plot_width - pad}" y2="{y:.1f}" '
            f'stroke="{MUTED}" stroke-dasharray="3 2" stroke-width="1">'
            f"<title>Target {_text(format_number(target, decimals, unit))}</title></line>"
        )
    for points in _segments(values, x_of, y_of):
        if len(points) > 1:
            parts.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{BRAND}" '
                f'stroke-width="1.5" stroke-linejoin="round" stroke-linecap="round"/>'
            )
    last_index = max(index for index, value in enumerate(values) if value is not None)
    last = float(values[last_index])
    parts.append(
        f'<circle cx="{x_of(last_index):.1f}" cy="{y_of(last):.1f}" r="2.5" fill="{BRAND}"/>'
        f'<text x="{plot_width + 4:g}" y="{height / 2 + 4:g}" fill="{INK}" font-weight="600">'
        f"{_text(latest)}</text>"
    )
    first = numbers[0]
    summary = (
        f"{title}: {len(numbers)} value{'s' if len(numbers) != 1 else ''}, "
        f"from {format_number(first, decimals, unit)} to {format_number(last, decimals, unit)}"
    )
    if target is not None:
        summary += f"; target {format_number(target, decimals, unit)}"
    return _svg(width, height, summary, "".join(parts))


def progress_bar(
    *, done: int, total: int, title: str, width: int = 240, height: int = 20
) -> SafeString:
    """A bar filled to ``done / total`` with "done of total (share)" written beside it."""
    label_width = 110
    track = width - label_width
    if total <= 0:
        caption = "no activities"
        filled = 0.0
    else:
        share = min(1.0, max(0.0, done / total))
        filled = track * share
        caption = f"{done} of {total} ({round(share * 100)} %)"
    body = (
        f'<rect x="0" y="3" width="{track}" height="{height - 6}" rx="4" fill="{TRACK}" '
        f'stroke="{LINE}"/>'
        f'<rect x="0" y="3" width="{filled:.1f}" height="{height - 6}" rx="4" fill="{BRAND}"/>'
        f'<text x="{track + 6}" y="{height / 2 + 4:g}" fill="{INK}">{_text(caption)}</text>'
    )
    return _svg(width, height, f"{title}: {caption}", body)


def bar_chart(
    items: Sequence[tuple[str, Number | None]],
    *,
    title: str,
    unit: str = "",
    width: int = 480,
    bar_height: int = 22,
    max_value: Number | None = None,
    decimals: int = 1,
    urls: Sequence[str] | None = None,
    notes: Sequence[str] | None = None,
    band: tuple[Number, Number] | None = None,
    band_label: str = "",
    value_format: Formatter | None = None,
) -> SafeString:
    """Horizontal bars, one per ``(label, value)``, each with its value written at its end.

    Bars are scaled to ``max_value`` (default: the largest value); ``None`` reads "no data".
    ``urls[i]`` links bar ``i``'s label to the rows behind it; ``notes[i]`` is added to its
    tooltip and written after its value. ``band`` shades a target range (in the values'
    units) behind the bars, with dashed edges and ``band_label`` as its legend.
    """
    shown_value = _formatter(value_format, decimals, unit)
    label_width, gap = 170, 6
    # Room for the longest "value · note" written after the bars (about 7 px a character).
    longest = (
        max(
            (len(shown_value(value)) + (len(notes[i]) + 3 if notes and notes[i] else 0))
            for i, (_, value) in enumerate(items)
        )
        if items
        else 0
    )
    value_width = max(70, 7 * longest + 12)
    width = max(width, label_width + value_width + 120)
    track = width - label_width - value_width
    numbers = [float(value) for _, value in items if value is not None]
    scale = float(max_value) if max_value is not None else max(numbers, default=0.0)
    if band is not None:
        scale = max(scale, float(band[1]))
    # With a band, values line up right of the track, clear of the shading.
    value_x = label_width + track + 6
    bars_height = max(len(items), 1) * (bar_height + gap) + gap
    height = bars_height + (24 if band is not None else 0)
    parts = []
    if band is not None and scale > 0:
        parts.append(_band_columns(band, label_width, track, scale, bars_height, band_label))
    for index, (label, value) in enumerate(items):
        y = gap + index * (bar_height + gap)
        length = 0.0 if value is None or scale <= 0 else track * _share(value, 0, scale)
        shown = shown_value(value)
        note = notes[index] if notes else ""
        tooltip = f"{label}: {shown}" + (f" ({note})" if note else "")
        caption = f"{shown} · {note}" if note else shown
        url = urls[index] if urls else ""
        parts.append(
            f"<g><title>{_text(tooltip)}</title>"
            f'<text x="{label_width - 8}" y="{y + bar_height / 2 + 4:g}" text-anchor="end" '
            f'fill="{BRAND if url else INK}">{_link(_text(_clip(str(label), 26)), url)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" '
            f'rx="3" fill="{BRAND}"/>'
            f'<text x="{value_x if band is not None else label_width + length + 6:.1f}" '
            f'y="{y + bar_height / 2 + 4:g}" '
            f'fill="{INK if value is not None else MUTED}">{_text(caption)}</text></g>'
        )
    if band is not None and scale > 0:
        parts.append(_band_edges(band, label_width, track, scale, bars_height))
    return _svg(width, height, title, "".join(parts))


# Qualitative series colours (dark enough for white separators, distinct in grey scale too
# when paired with the dash patterns of the line chart); series beyond these repeat.
SERIES_COLOURS = (
    BRAND,
    "#c2410c",
    "#0f766e",
    "#7c3aed",
    "#a16207",
    "#be185d",
    "#4d7c0f",
    "#475569",
)

SERIES_DASHES = ("", "6 4", "2 3", "8 3 2 3")

BAND_FILL = "#dcefe3"

BAND_EDGE = "#067647"


def _formatter(value_format: Formatter | None, decimals: int, unit: str) -> Formatter:
    if value_format is not None:
        return value_format
    return lambda value: format_number(value, decimals, unit)


def _link(markup: str, url: str | None) -> str:
    """``markup`` (already escaped text) as a link. Links go *inside* ``<text>`` elements:
    browsers follow them, and WeasyPrint (which reads an SVG ``<a>`` as text) still draws
    the shapes around them."""
    if not url:
        return markup
    return f'<a href="{_text(url)}" text-decoration="underline">{markup}</a>'


def _band_columns(band, left: float, track: float, scale: float, height: float, label: str):
    low = left + track * _share(band[0], 0, scale)
    high = left + track * _share(band[1], 0, scale)
    legend = ""
    if label:
        legend = (
            f'<rect x="{left}" y="{height + 6:g}" width="14" height="10" fill="{BAND_FILL}" '
            f'stroke="{BAND_EDGE}" stroke-dasharray="3 2"/>'
            f'<text x="{left + 20}" y="{height + 15:g}" fill="{MUTED}" font-size="11">'
            f"{_text(label)}</text>"
        )
    return (
        f"<g><title>{_text(label or 'Target band')}</title>"
        f'<rect x="{low:.1f}" y="0" width="{high - low:.1f}" height="{height:g}" '
        f'fill="{BAND_FILL}"/></g>{legend}'
    )


def _band_edges(band, left: float, track: float, scale: float, height: float) -> str:
    edges = []
    for value in band:
        x = left + track * _share(value, 0, scale)
        edges.append(
            f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height:g}" stroke="{BAND_EDGE}" '
            f'stroke-width="1" stroke-dasharray="3 2"/>'
        )
    return "".join(edges)


def no_data_chart(
    title: str, *, message: str = "no data", width: int = 360, height: int = 56
) -> SafeString:
    """A small placeholder for a chart whose data is not there yet (never an empty box)."""
    body = (
        f'<rect x="1" y="1" width="{width - 2}" height="{height - 2}" rx="6" '
        f'fill="{NO_DATA_FILL}" stroke="{LINE}" stroke-dasharray="4 3"/>'
        f'<text x="{width / 2:g}" y="{height / 2 + 4:g}" text-anchor="middle" '
        f'fill="{MUTED}">{_text(message)}</text>'
    )
    return _svg(width, height, f"{title}: {message}", body)


def column_chart(
    items: Sequence[tuple[str, Number | None]],
    *,
    title: str,
    unit: str = "",
    width: int = 520,
    height: int = 240,
    decimals: int = 0,
    max_value: Number | None = None,
    urls: Sequence[str] | None = None,
    notes: Sequence[str] | None = None,
    colours: Sequence[str] | None = None,
    value_format: Formatter | None = None,
) -> SafeString:
    """Vertical columns, one per ``(label, value)``, with the value written above each and
    the label (linked to ``urls[i]`` when given) below it. ``None`` reads "no data"."""
    shown_value = _formatter(value_format, decimals, unit)
    top, bottom, side = 22, 40, 8
    plot_height = height - top - bottom
    count = max(len(items), 1)
    slot = (width - 2 * side) / count
    column_width = min(64.0, slot * 0.62)
    numbers = [float(value) for _, value in items if value is not None]
    scale = float(max_value) if max_value is not None else max(numbers, default=0.0)
    baseline = top + plot_height
    parts = [
        f'<line x1="{side}" y1="{baseline}" x2="{width - side}" y2="{baseline}" stroke="{LINE}"/>'
    ]
    characters = max(4, int(slot / 6.5))
    for index, (label, value) in enumerate(items):
        centre = side + slot * index + slot / 2
        length = 0.0 if value is None or scale <= 0 else plot_height * _share(value, 0, scale)
        shown = shown_value(value)
        note = notes[index] if notes else ""
        tooltip = f"{label}: {shown}" + (f" ({note})" if note else "")
        colour = colours[index] if colours else BRAND
        url = urls[index] if urls else ""
        lines = _wrap(str(label), characters)
        spans = "".join(
            f'<tspan x="{centre:.1f}" y="{baseline + 15 + 13 * number:g}">'
            f"{_link(_text(line), url)}</tspan>"
            for number, line in enumerate(lines)
        )
        parts.append(
            f"<g><title>{_text(tooltip)}</title>"
            f'<rect x="{centre - column_width / 2:.1f}" y="{baseline - length:.1f}" '
            f'width="{column_width:.1f}" height="{length:.1f}" rx="3" fill="{colour}"/>'
            f'<text x="{centre:.1f}" y="{baseline - length - 6:.1f}" text-anchor="middle" '
            f'font-weight="600" fill="{INK if value is not None else MUTED}">'
            f"{_text(shown)}</text>"
            f'<text text-anchor="middle" font-size="11" fill="{BRAND if url else MUTED}">'
            f"{spans}</text></g>"
        )
    return _svg(width, height, title, "".join(parts))


def _legend(entries: Sequence[tuple[str, str, str]], *, x: float, y: float, width: float):
    """Legend rows of ``(caption, colour, dash)`` samples, wrapping at ``width``; returns the
    markup and the height it takes. A dash of ``None`` draws a filled swatch."""
    parts, left, top = [], x, y
    for caption, colour, dash in entries:
        room = 34 + 7 * len(caption)
        if left + room > x + width and left > x:
            left, top = x, top + 18
        if dash is None:
            sample = f'<rect x="{left:g}" y="{top - 5:g}" width="12" height="10" fill="{colour}"/>'
        else:
            dash_attribute = f' stroke-dasharray="{dash}"' if dash else ""
            sample = (
                f'<line x1="{left:g}" y1="{top:g}" x2="{left + 22:g}" y2="{top:g}" '
                f'stroke="{colour}" stroke-width="2"{dash_attribute}/>'
            )
        offset = 18 if dash is None else 28
        parts.append(
            f'{sample}<text x="{left + offset:g}" y="{top + 4:g}" fill="{INK}" '
            f'font-size="11">{_text(caption)}</text>'
        )
        left += room
    return "".join(parts), top - y + 18


def _legend_height(entries: Sequence[tuple[str, str, str]], width: float) -> float:
    return _legend(entries, x=0, y=0, width=width)[1]


def _axis_width(label: str) -> float:
    """Room left of the plot for a scale label (about 7 px a character at 12 px)."""
    return max(40, 7 * len(label) + 12)


def _axis_label_step(labels: Sequence[str], slot: float) -> int:
    """Write every label if they fit, else every n-th, so they never overlap."""
    longest = max((len(str(label)) for label in labels), default=1)
    needed = 6.5 * longest + 8
    return max(1, int(-(-needed // max(slot, 1))))


def stacked_column_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Number | None]]],
    totals: Sequence[Number | None] | None = None,
    unit: str = "",
    decimals: int = 0,
    width: int = 640,
    height: int = 260,
    value_format: Formatter | None = None,
) -> SafeString:
    """One column per label, stacked from ``series`` (``(name, values)``, one value per
    label, oldest first), with its total written on top and a legend below.

    ``totals`` (default: the sum of the column's values) is what the top of each column says;
    a column whose values are all ``None`` reads "no data". Every segment's tooltip gives
    the series, the label and the exact figure.
    """
    shown_value = _formatter(value_format, decimals, unit)
    count = len(labels)
    if totals is None:
        totals = [
            None
            if all(values[index] is None for _, values in series)
            else sum(float(values[index]) for _, values in series if values[index] is not None)
            for index in range(count)
        ]
    stacked = [
        sum(float(values[index]) for _, values in series if values[index] is not None)
        for index in range(count)
    ]
    highest = max([*stacked, *(float(total) for total in totals if total is not None)], default=0)
    highest = highest or 1.0
    left, right, top = _axis_width(shown_value(highest)), 12, 22
    entries = [
        (name, SERIES_COLOURS[number % len(SERIES_COLOURS)], None)
        for number, (name, _) in enumerate(series)
    ]
    legend_height = _legend_height(entries, width - left - right)
    plot_height = height - top - 36 - legend_height
    plot_width = width - left - right
    slot = plot_width / max(count, 1)
    column_width = min(48.0, slot * 0.64)
    baseline = top + plot_height

    def y_of(value: float) -> float:
        return baseline - plot_height * value / highest

    parts = [
        f'<line x1="{left}" y1="{baseline:g}" x2="{left + plot_width}" y2="{baseline:g}" '
        f'stroke="{LINE}"/>'
        f'<line x1="{left}" y1="{top}" x2="{left + plot_width}" y2="{top}" '
        f'stroke="{LINE}" stroke-dasharray="2 4"/>'
        f'<text x="{left - 6}" y="{baseline + 4:g}" text-anchor="end" fill="{MUTED}">0</text>'
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" fill="{MUTED}">'
        f"{_text(shown_value(highest))}</text>"
    ]
    step = _axis_label_step(labels, slot)
    for index, label in enumerate(labels):
        centre = left + slot * index + slot / 2
        x = centre - column_width / 2
        height_so_far = 0.0
        for number, (name, values) in enumerate(series):
            value = values[index]
            if value is None or float(value) <= 0:
                continue
            colour = SERIES_COLOURS[number % len(SERIES_COLOURS)]
            y_top = y_of(height_so_far + float(value))
            parts.append(
                f"<g><title>{_text(name)} · {_text(label)}: {_text(shown_value(value))}</title>"
                f'<rect x="{x:.1f}" y="{y_top:.1f}" width="{column_width:.1f}" '
                f'height="{y_of(height_so_far) - y_top:.1f}" fill="{colour}" '
                f'stroke="#ffffff" stroke-width="1"/></g>'
            )
            height_so_far += float(value)
        total = totals[index]
        caption = shown_value(total)
        parts.append(
            f"<g><title>{_text(label)}: {_text(caption)}</title>"
            f'<text x="{centre:.1f}" y="{y_of(height_so_far) - 6:.1f}" text-anchor="middle" '
            f'font-size="11" font-weight="600" fill="{INK if total is not None else MUTED}">'
            f"{_text(caption)}</text></g>"
        )
        if index % step == 0 or index == count - 1:
            parts.append(
                f'<text x="{centre:.1f}" y="{baseline + 16:g}" text-anchor="middle" '
                f'font-size="11" fill="{MUTED}">{_text(label)}</text>'
            )
    legend, _ = _legend(entries, x=left, y=baseline + 34, width=plot_width)
    parts.append(legend)
    summary = title
    if count:
        summary = (
            f"{title}: {count} column{'s' if count != 1 else ''} from {labels[0]} to "
            f"{labels[-1]}; latest total {shown_value(totals[-1])}"
        )
    return _svg(width, height, summary, "".join(parts))


def multi_line_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Number | None]]],
    unit: str = "",
    decimals: int = 1,
    low: Number | None = None,
    high: Number | None = None,
    band: tuple[Number, Number] | None = None,
    band_label: str = "",
    width: int = 640,
    height: int = 260,
    value_format: Formatter | None = None,
) -> SafeString:
    """Lines of ``series`` (``(name, values)``, one value per label, oldest first) told apart
    by colour and dash pattern, every point a dot with its exact figure as a tooltip;
    ``None`` breaks a line. The scale runs from ``low`` (default 0 or the lowest value) to
    ``high`` (default the highest); ``band`` shades a target range with ``band_label``.
    The legend gives each series' latest value."""
    shown_value = _formatter(value_format, decimals, unit)
    count = len(labels)
    numbers = [float(value) for _, values in series for value in values if value is not None]
    bottom_value = float(low) if low is not None else min([0.0, *numbers])
    top_value = float(high) if high is not None else max(numbers, default=0.0)
    if band is not None and high is None:
        top_value = max(top_value, float(band[1]))
    if top_value <= bottom_value:
        top_value = bottom_value + 1
    left = max(_axis_width(shown_value(bottom_value)), _axis_width(shown_value(top_value)))
    right, top = 16, 12
    entries = []
    for number, (name, values) in enumerate(series):
        latest = next((value for value in reversed(values) if value is not None), None)
        entries.append(
            (
                f"{name}: {shown_value(latest)}",
                SERIES_COLOURS[number % len(SERIES_COLOURS)],
                SERIES_DASHES[number % len(SERIES_DASHES)],
            )
        )
    if band is not None and band_label:
        entries.append((band_label, BAND_FILL, None))
    plot_width = width - left - right
    legend_height = _legend_height(entries, plot_width)
    plot_height = height - top - 30 - legend_height
    baseline = top + plot_height

    def x_of(index: int) -> float:
        if count <= 1:
            return left + plot_width / 2
        return left + plot_width * index / (count - 1)

    def y_of(value: float) -> float:
        share = (value - bottom_value) / (top_value - bottom_value)
        return baseline - plot_height * min(1.0, max(0.0, share))

    parts = []
    if band is not None:
        band_top, band_bottom = y_of(float(band[1])), y_of(float(band[0]))
        parts.append(
            f"<g><title>{_text(band_label or 'Target band')}</title>"
            f'<rect x="{left}" y="{band_top:.1f}" width="{plot_width}" '
            f'height="{band_bottom - band_top:.1f}" fill="{BAND_FILL}"/></g>'
        )
    parts.append(
        f'<line x1="{left}" y1="{baseline:g}" x2="{left + plot_width}" y2="{baseline:g}" '
        f'stroke="{LINE}"/>'
        f'<line x1="{left}" y1="{top}" x2="{left + plot_width}" y2="{top}" '
        f'stroke="{LINE}" stroke-dasharray="2 4"/>'
        f'<text x="{left - 6}" y="{baseline + 4:g}" text-anchor="end" fill="{MUTED}">'
        f"{_text(shown_value(bottom_value))}</text>"
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" fill="{MUTED}">'
        f"{_text(shown_value(top_value))}</text>"
    )
    step = _axis_label_step(labels, plot_width / max(count, 1))
    for index, label in enumerate(labels):
        if index % step == 0 or index == count - 1:
            anchor = (
                "middle"
                if 0 < index < count - 1 or count == 1
                else ("start" if index == 0 else "end")
            )
            parts.append(
                f'<text x="{x_of(index):.1f}" y="{baseline + 16:g}" text-anchor="{anchor}" '
                f'font-size="11" fill="{MUTED}">{_text(label)}</text>'
            )
    for number, (name, values) in enumerate(series):
        colour = SERIES_COLOURS[number % len(SERIES_COLOURS)]
        dash = SERIES_DASHES[number % len(SERIES_DASHES)]
        dash_attribute = f' stroke-dasharray="{dash}"' if dash else ""
        for points in _segments(values, x_of, y_of):
            if len(points) > 1:
                parts.append(
                    f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
                    f'stroke-width="2"{dash_attribute} stroke-linejoin="round"/>'
                )
        for index, value in enumerate(values):
            if value is None or index >= count:
                continue
            parts.append(
                f"<g><title>{_text(name)} · {_text(labels[index])}: "
                f"{_text(shown_value(value))}</title>"
                f'<circle cx="{x_of(index):.1f}" cy="{y_of(float(value)):.1f}" r="3" '
                f'fill="{colour}"/></g>'
            )
    legend, _ = _legend(entries, x=left, y=baseline + 32, width=plot_width)
    parts.append(legend)
    summary = title
    if count:
        latest = "; ".join(caption for caption, _, dash in entries if dash is not None)
        summary = f"{title}: {count} points from {labels[0]} to {labels[-1]}; latest {latest}"
        if not numbers:
            summary = f"{title}: no data"
    return _svg(width, height, summary, "".join(parts))


def progress_chart(
    items: Sequence[tuple[str, int, int]],
    *,
    title: str,
    urls: Sequence[str] | None = None,
    notes: Sequence[str] | None = None,
    width: int = 620,
    row_height: int = 26,
) -> SafeString:
    """One progress row per ``(label, done, total)``: the bar filled to ``done / total`` and
    "done of total (share)" written beside it, then ``notes[i]`` (e.g. the phase status)."""
    label_width, caption_width, gap = 200, 200, 6
    track = width - label_width - caption_width
    height = max(len(items), 1) * (row_height + gap) + gap
    parts = []
    for index, (label, done, total) in enumerate(items):
        y = gap + index * (row_height + gap)
        if total <= 0:
            caption, filled = "no activities", 0.0
        else:
            share = min(1.0, max(0.0, done / total))
            caption, filled = f"{done} of {total} ({round(share * 100)} %)", track * share
        note = notes[index] if notes else ""
        if note:
            caption = f"{caption} · {note}"
        url = urls[index] if urls else ""
        parts.append(
            f"<g><title>{_text(label)}: {_text(caption)}</title>"
            f'<text x="{label_width - 8}" y="{y + row_height / 2 + 4:g}" text-anchor="end" '
            f'fill="{BRAND if url else INK}">{_link(_text(_clip(str(label), 26)), url)}</text>'
            f'<rect x="{label_width}" y="{y + 4}" width="{track}" height="{row_height - 8}" '
            f'rx="4" fill="{TRACK}" stroke="{LINE}"/>'
            f'<rect x="{label_width}" y="{y + 4}" width="{filled:.1f}" '
            f'height="{row_height - 8}" rx="4" fill="{BRAND}"/>'
            f'<text x="{label_width + track + 6}" y="{y + row_height / 2 + 4:g}" '
            f'fill="{INK}">{_text(caption)}</text></g>'
        )
    return _svg(width, height, title, "".join(parts))
