"""A server-rendered line chart for the utilisation page (capacity vs allocated vs used), in
the manner of ``core.charts``: one standalone ``<svg role="img">`` with a ``<title>``, every
caller-supplied text escaped, presentation attributes only (no ``style=``, no script), numbers
written as text (the legend gives each series' latest value and every column of points has a
tooltip with its exact figures), and lines told apart by dash pattern as well as colour."""

from collections.abc import Sequence
from decimal import Decimal

from django.utils.safestring import SafeString

from core.svg import BRAND, INK, LINE, MUTED, TRACK, _svg, _text, format_number

Number = int | float | Decimal

# (name, colour, dash pattern) per series, in drawing order.
SERIES_STYLES = {
    "capacity": ("Capacity", MUTED, "6 4"),
    "allocated": ("Allocated", BRAND, ""),
    "used": ("Used", "#c2410c", "2 3"),
}


def line_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[Number]],
    unit: str = "GPUs",
    width: int = 680,
    height: int = 260,
    decimals: int = 1,
) -> SafeString:
    """Lines of ``series`` (key → values, one per label; keys of ``SERIES_STYLES`` get their
    style, others the brand colour) over ``labels`` (oldest first)."""
    left, right, top, bottom, legend_height = 56, 16, 12, 34, 22
    plot_width = width - left - right
    plot_height = height - top - bottom - legend_height
    count = len(labels)
    numbers = [float(value) for values in series.values() for value in values]
    highest = max(numbers, default=0.0) or 1.0

    def x_of(index: int) -> float:
        if count <= 1:
            return left + plot_width / 2
        return left + plot_width * index / (count - 1)

    def y_of(value: float) -> float:
        return top + plot_height - plot_height * value / highest

    parts = [
        # Axes: baseline and the top of the scale, each with its value.
        f'<line x1="{left}" y1="{y_of(0):.1f}" x2="{left + plot_width}" y2="{y_of(0):.1f}" '
        f'stroke="{LINE}"/>'
        f'<line x1="{left}" y1="{y_of(highest):.1f}" x2="{left + plot_width}" '
        f'y2="{y_of(highest):.1f}" stroke="{LINE}" stroke-dasharray="2 4"/>'
        f'<text x="{left - 6}" y="{y_of(0) + 4:.1f}" text-anchor="end" fill="{MUTED}">0</text>'
        f'<text x="{left - 6}" y="{y_of(highest) + 4:.1f}" text-anchor="end" fill="{MUTED}">'
        f"{_text(format_number(highest, decimals))}</text>"
    ]
    if count:
        baseline = top + plot_height + 16
        parts.append(f'<text x="{left}" y="{baseline}" fill="{MUTED}">{_text(labels[0])}</text>')
        if count > 1:
            parts.append(
                f'<text x="{left + plot_width}" y="{baseline}" text-anchor="end" '
                f'fill="{MUTED}">{_text(labels[-1])}</text>'
            )
    for key, values in series.items():
        name, colour, dash = SERIES_STYLES.get(key, (key, BRAND, ""))
        points = " ".join(
            f"{x_of(index):.1f},{y_of(float(value)):.1f}" for index, value in enumerate(values)
        )
        dash_attribute = f' stroke-dasharray="{dash}"' if dash else ""
        if len(values) > 1:
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"'
                f'{dash_attribute} stroke-linejoin="round"><title>{_text(name)}</title></polyline>'
            )
        elif values:
            parts.append(
                f'<circle cx="{x_of(0):.1f}" cy="{y_of(float(values[0])):.1f}" r="3" '
                f'fill="{colour}"><title>{_text(name)}</title></circle>'
            )
    # One transparent hover column per label with that label's exact figures.
    column_width = plot_width / max(count - 1, 1) if count > 1 else plot_width
    for index, label in enumerate(labels):
        figures = "; ".join(
            f"{SERIES_STYLES.get(key, (key,))[0]} {format_number(values[index], decimals, unit)}"
            for key, values in series.items()
            if index < len(values)
        )
        x = x_of(index) - column_width / 2
        parts.append(
            f"<g><title>{_text(label)}: {_text(figures)}</title>"
            f'<rect x="{max(x, left):.1f}" y="{top}" width="{column_width:.1f}" '
            f'height="{plot_height}" fill="#ffffff" fill-opacity="0"/></g>'
        )
    # Legend: sample stroke, name and latest value of each series.
    legend_y = height - legend_height / 2
    x = left
    for key, values in series.items():
        name, colour, dash = SERIES_STYLES.get(key, (key, BRAND, ""))
        dash_attribute = f' stroke-dasharray="{dash}"' if dash else ""
        latest = format_number(values[-1], decimals, unit) if values else "no data"
        caption = f"{name}: {latest}"
        parts.append(
            f'<line x1="{x}" y1="{legend_y:.1f}" x2="{x + 24}" y2="{legend_y:.1f}" '
            f'stroke="{colour}" stroke-width="2"{dash_attribute}/>'
            f'<text x="{x + 30}" y="{legend_y + 4:.1f}" fill="{INK}">{_text(caption)}</text>'
        )
        x += 40 + 7 * len(caption)
    summary = title
    if count:
        latest = ", ".join(
            f"{SERIES_STYLES.get(key, (key,))[0].lower()} "
            f"{format_number(values[-1], decimals, unit)}"
            for key, values in series.items()
            if values
        )
        summary = f"{title}: {count} points from {labels[0]} to {labels[-1]}; latest {latest}"
    return _svg(width, height, summary, "".join(parts))


PENDING_FILL = "#9db7dd"


def quota_bar(quota, width: int = 260, height: int = 22) -> str:
    """SVG bar of a quota: allocated (dark) and pending (light) GPUs against the limit, a
    tick at the deserved GPUs, and the figures written beside it."""
    track = width - 120
    limit = Decimal(quota.limit_gpus) or Decimal("1")
    allocated = min(Decimal(quota.allocated_gpus), limit)
    pending = min(Decimal(quota.pending_gpus), limit - allocated)
    allocated_width = float(track * allocated / limit)
    pending_width = float(track * pending / limit)
    deserved_x = float(track * min(Decimal(quota.deserved_gpus), limit) / limit)
    caption = (
        f"{format_number(quota.allocated_gpus, 2)} + {format_number(quota.pending_gpus, 2)} "
        f"of {format_number(quota.limit_gpus, 2)}"
    )
    body = (
        f'<rect x="0" y="3" width="{track}" height="{height - 6}" rx="3" fill="{TRACK}" '
        f'stroke="{LINE}"/>'
        f'<rect x="0" y="3" width="{allocated_width:.1f}" height="{height - 6}" rx="3" '
        f'fill="{BRAND}"><title>Allocated {_text(format_number(quota.allocated_gpus, 2))}</title>'
        "</rect>"
        f'<rect x="{allocated_width:.1f}" y="3" width="{pending_width:.1f}" '
        f'height="{height - 6}" fill="{PENDING_FILL}"><title>Pending '
        f"{_text(format_number(quota.pending_gpus, 2))}</title></rect>"
        f'<line x1="{deserved_x:.1f}" x2="{deserved_x:.1f}" y1="0" y2="{height}" '
        f'stroke="{INK}" stroke-width="2"><title>Deserved '
        f"{_text(format_number(quota.deserved_gpus, 2))}</title></line>"
        f'<text x="{track + 6}" y="{height / 2 + 4:g}" fill="{INK}" font-size="12">'
        f"{_text(caption)}</text>"
    )
    title = (
        f"{caption} GPUs (allocated + pending of the limit); deserved "
        f"{format_number(quota.deserved_gpus, 2)}"
    )
    return _svg(width, height, title, body)
