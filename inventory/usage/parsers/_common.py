"""Small value parsers shared by the ingest modules. Each raises ``ValueError`` with a message
fit to show next to a line number."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

UTC = dt.UTC


def to_text(data: str | bytes) -> str:
    """Decode bytes as UTF-8 (dropping a BOM) and drop a leading BOM from text."""
    if isinstance(data, bytes | bytearray):
        return bytes(data).decode("utf-8-sig")
    return data.removeprefix("\ufeff")


def parse_datetime(value: str, field: str, *, default_tz: dt.tzinfo = UTC) -> dt.datetime:
    """ISO 8601 (``Z`` accepted) → aware UTC datetime; naive values are taken in ``default_tz``."""
    raw = value.strip()
    if not raw:
        raise ValueError(f"{field} is empty")
    try:
        parsed = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{field} {raw!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_tz)
    return parsed.astimezone(UTC)


def from_epoch(seconds: float, field: str = "timestamp") -> dt.datetime:
    if not math.isfinite(seconds):
        raise ValueError(f"{field} {seconds!r} is not a finite number")
    try:
        return dt.datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"{field} {seconds!r} is out of range") from None


def parse_decimal(value: str, field: str) -> Decimal:
    raw = value.strip()
    if not raw:
        raise ValueError(f"{field} is empty")
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{field} {raw!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{field} {raw!r} is not a finite number")
    return number


def parse_float(value: str, field: str) -> float:
    raw = value.strip()
    try:
        number = float(raw)
    except ValueError:
        raise ValueError(f"{field} {raw!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{field} {raw!r} is not a finite number")
    return number


def csv_records(text: str, **reader_kwargs) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(first_physical_line, fields)`` per CSV record; quoted fields may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), **reader_kwargs)
    previous_end = 0
    for fields in reader:
        start = previous_end + 1
        previous_end = reader.line_num
        yield start, fields


def csv_header(records, aliases: dict[str, tuple[str, ...]], errors):
    """Read the header record: ``(its line, its fields, {key: column index})`` where each
    key of ``aliases`` is found under the first of its (lower-case) names the header has. An
    empty header is reported on ``errors`` and raised."""
    header_line, header = next(records, (1, []))
    names = [name.strip().lower() for name in header]
    if not any(names):
        errors.add(1, "empty input: expected a header row")
        errors.raise_if_any()
    columns: dict[str, int] = {}
    for key, candidates in aliases.items():
        for alias in candidates:
            if alias in names:
                columns[key] = names.index(alias)
                break
    return header_line, header, columns


def csv_data_rows(records, *, width: int, columns: dict[str, int], errors):
    """The data records after a CSV header: yield ``(line number, get)`` for each non-blank
    record of ``width`` fields, where ``get(name)`` is the stripped value of column ``name``
    ('' when the file has no such column). A record of another width is reported on
    ``errors`` and skipped."""
    for number, fields in records:
        if not any(field.strip() for field in fields):
            continue
        if len(fields) != width:
            errors.add(number, f"expected {width} fields, found {len(fields)}")
            continue

        def get(name: str, _fields=fields) -> str:
            index = columns.get(name)
            return _fields[index].strip() if index is not None else ""

        yield number, get
