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

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from django.utils.safestring import SafeString, mark_safe

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
INK = "#1d2433"
MUTED = "#5b6475"
LINE = "#d9dee7"
TRACK = "#eef2f6"
BRAND = "#1f4e8c"
NO_DATA_FILL = "#f2f4f7"

# Sequential scale for "higher is worse" (ColorBrewer OrRd, five classes).
HEAT_COLOURS = ("#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000")
# From this share of the scale on, cell text is white for contrast.
DARK_FROM = 0.6

Number = int | float | Decimal


def _text(value) -> str:
    """Escape text for an SVG (XML) text node or attribute."""
    return escape(str(value), quote=True)


def format_number(value: Number | None, decimals: int = 1, unit: str = "") -> str:
    """``3.456 → "3.5"``, ``None → "no data"``; whole numbers lose their ``.0``."""
    if value is None:
        return "no data"
    number = float(value)
    text = f"{number:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    if not unit:
        return text
    return f"{text} {unit}" if unit != "%" else f"{text} %"


def _svg(width: float, height: float, title: str, body: str, description: str = "") -> SafeString:
    label = _text(title)
    desc = f"<desc>{_text(description)}</desc>" if description else ""
    return mark_safe(  # noqa: S308 - every caller-supplied text inside is escaped
        f'<svg xmlns="{SVG_NAMESPACE}" role="img" aria-label="{label}" '
        f'viewBox="0 0 {width:g} {height:g}" width="{width:g}" height="{height:g}" '
        f'font-family="{FONT}" font-size="12" class="chart">'
        f"<title>{label}</title>{desc}{body}</svg>"
    )


def _interpolate(colour_a: str, colour_b: str, share: float) -> str:
    a = [int(colour_a[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(colour_b[i : i + 2], 16) for i in (1, 3, 5)]
    mixed = [round(x + (y - x) * share) for x, y in zip(a, b, strict=True)]
    return "#" + "".join(f"{channel:02x}" for channel in mixed)


def heat_colour(value: Number | None, low: Number = 1, high: Number = 5) -> str:
    """The cell colour of ``value`` on the ``low``–``high`` scale (grey for no data)."""
    if value is None:
        return NO_DATA_FILL
    share = _share(value, low, high)
    position = share * (len(HEAT_COLOURS) - 1)
    index = min(int(position), len(HEAT_COLOURS) - 2)
    return _interpolate(HEAT_COLOURS[index], HEAT_COLOURS[index + 1], position - index)


def _share(value: Number, low: Number, high: Number) -> float:
    span = float(high) - float(low)
    if span <= 0:
        return 0.0
    return min(1.0, max(0.0, (float(value) - float(low)) / span))


def _wrap(label: str, width: int) -> list[str]:
    """Split a label into at most two lines of about ``width`` characters."""
    words, lines, line = label.split(), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if len(candidate) > width and line:
            lines.append(line)
            line = word
        else:
            line = candidate
    if line:
        lines.append(line)
    if len(lines) > 2:
        lines = [lines[0], _clip(" ".join(lines[1:]), width)]
    return lines or [""]


def _clip(label: str, width: int) -> str:
    return label if len(label) <= width else label[: width - 1].rstrip() + "…"


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
    segment: list[str] = []
    segments = []
    for index, value in enumerate(values):
        if value is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{x_of(index):.1f},{y_of(float(value)):.1f}")
    if segment:
        segments.append(segment)
    for points in segments:
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
) -> SafeString:
    """Horizontal bars, one per ``(label, value)``, each with its value written at its end.

    Bars are scaled to ``max_value`` (default: the largest value); ``None`` reads "no data".
    """
    label_width, value_width, gap = 170, 70, 6
    track = width - label_width - value_width
    numbers = [float(value) for _, value in items if value is not None]
    scale = float(max_value) if max_value is not None else max(numbers, default=0.0)
    height = max(len(items), 1) * (bar_height + gap) + gap
    parts = []
    for index, (label, value) in enumerate(items):
        y = gap + index * (bar_height + gap)
        length = 0.0 if value is None or scale <= 0 else track * _share(value, 0, scale)
        shown = format_number(value, decimals, unit)
        parts.append(
            f"<g><title>{_text(label)}: {_text(shown)}</title>"
            f'<text x="{label_width - 8}" y="{y + bar_height / 2 + 4:g}" text-anchor="end" '
            f'fill="{INK}">{_text(_clip(str(label), 26))}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" '
            f'rx="3" fill="{BRAND}"/>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + bar_height / 2 + 4:g}" '
            f'fill="{INK if value is not None else MUTED}">{_text(shown)}</text></g>'
        )
    return _svg(width, height, title, "".join(parts))
