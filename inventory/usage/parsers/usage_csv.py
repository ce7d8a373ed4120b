"""Plain GPU usage CSV: one row per device (or allocation) and instant.

Header (case-insensitive, any order): ``timestamp``; ``allocation_id`` and/or ``device_id``
(each row needs at least one of them); ``utilisation`` (or ``utilization``,
``utilisation_pct``, ``utilization_pct``) in percent, 0–100; optional ``memory_used_mib``.
Timestamps are ISO 8601 (naive = UTC) or Unix epoch seconds.
"""

from __future__ import annotations

import re

from inventory.usage.parsers._common import (
    csv_data_rows,
    csv_header,
    csv_records,
    from_epoch,
    parse_datetime,
    parse_decimal,
    to_text,
)
from inventory.usage.parsers.errors import ErrorCollector
from inventory.usage.parsers.records import UsageRow

__all__ = ["UsageRow", "parse_usage_csv"]

_ALIASES = {
    "timestamp": ("timestamp", "time", "ts"),
    "allocation_id": ("allocation_id", "allocation"),
    "device_id": ("device_id", "device"),
    "utilisation": ("utilisation", "utilization", "utilisation_pct", "utilization_pct"),
    "memory_used_mib": ("memory_used_mib", "memory_used", "fb_used_mib"),
}
_EPOCH = re.compile(r"^\d+(\.\d+)?$")


def _timestamp(raw: str):
    if _EPOCH.match(raw.strip()):
        return from_epoch(float(raw))
    return parse_datetime(raw, "timestamp")


def parse_usage_csv(text: str | bytes) -> list[UsageRow]:
    errors = ErrorCollector("usage CSV")
    records = csv_records(to_text(text))
    header_line, header, columns = csv_header(records, _ALIASES, errors)
    missing = [key for key in ("timestamp", "utilisation") if key not in columns]
    if "allocation_id" not in columns and "device_id" not in columns:
        missing.append("allocation_id or device_id")
    if missing:
        errors.add(header_line, f"header lacks column(s): {', '.join(missing)}")
        errors.raise_if_any()

    rows: list[UsageRow] = []
    for number, get in csv_data_rows(records, width=len(header), columns=columns, errors=errors):
        problems: list[str] = []
        when = util = memory = None
        try:
            when = _timestamp(get("timestamp"))
        except ValueError as exc:
            problems.append(str(exc))
        allocation_id, device_id = get("allocation_id"), get("device_id")
        if not allocation_id and not device_id:
            problems.append("neither allocation_id nor device_id is given")
        try:
            util = parse_decimal(get("utilisation"), "utilisation")
            if not 0 <= util <= 100:
                problems.append(f"utilisation {util} is outside 0–100 %")
        except ValueError as exc:
            problems.append(str(exc))
        raw_memory = get("memory_used_mib")
        if raw_memory:
            try:
                number_mib = parse_decimal(raw_memory, "memory_used_mib")
                if number_mib < 0 or number_mib != number_mib.to_integral_value():
                    raise ValueError(f"memory_used_mib {raw_memory!r} is not a whole number of MiB")
                memory = int(number_mib)
            except ValueError as exc:
                problems.append(str(exc))
        for message in problems:
            errors.add(number, message)
        if problems:
            continue
        rows.append(
            UsageRow(
                timestamp=when,
                allocation_id=allocation_id,
                device_id=device_id,
                utilisation_pct=util,
                activity=float(util) / 100,
                memory_used_mib=memory,
                line=number,
            )
        )
    errors.raise_if_any()
    return rows
