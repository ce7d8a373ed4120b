"""SVG primitives every chart shares: the palette, escaping, number formatting, the
``<svg>`` wrapper, label wrapping and the heat scale. No Django, no database."""

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
    # role="img" makes every child presentational, which would hide a chart's links from
    # assistive technology (axe: nested-interactive); a chart with links is a "figure".
    role = "figure" if "<a " in body else "img"
    return mark_safe(  # noqa: S308 - every caller-supplied text inside is escaped
        f'<svg xmlns="{SVG_NAMESPACE}" role="{role}" aria-label="{label}" '
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
