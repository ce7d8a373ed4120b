"""FinOps FOCUS cost and usage exports, versions 1.0–1.3.

The provider comes from ``ProviderName`` or ``ServiceProviderName`` (whichever is present and
non-empty). ``EffectiveCost`` is the amortised cost to charge back, ``BilledCost`` the invoice
amount. ``Tags`` and ``SkuPriceDetails`` are JSON objects; ``SkuPriceDetails.GpuCount`` marks a
GPU line. Line numbers are physical CSV lines (header = 1; a quoted field may span lines).
"""

from __future__ import annotations

import json
from decimal import Decimal

from inventory.usage.parsers._common import (
    csv_data_rows,
    csv_records,
    parse_datetime,
    parse_decimal,
    to_text,
)
from inventory.usage.parsers.errors import ErrorCollector
from inventory.usage.parsers.records import CostLine

__all__ = ["CostLine", "parse_focus_csv"]

CHARGE_CATEGORIES = frozenset({"Usage", "Purchase", "Tax", "Credit", "Adjustment"})
CHARGE_CLASSES = frozenset({"", "Correction"})
STATUSES = frozenset({"", "Used", "Unused"})
PROVIDER_COLUMNS = ("ProviderName", "ServiceProviderName")
REQUIRED = (
    "BilledCost",
    "EffectiveCost",
    "BillingCurrency",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
)
_TEXT_FIELDS = {
    "charge_class": "ChargeClass",
    "resource_id": "ResourceId",
    "resource_name": "ResourceName",
    "resource_type": "ResourceType",
    "service_name": "ServiceName",
    "sub_account_id": "SubAccountId",
    "region_id": "RegionId",
    "pricing_category": "PricingCategory",
    "sku_id": "SkuId",
    "commitment_discount_id": "CommitmentDiscountId",
    "commitment_discount_status": "CommitmentDiscountStatus",
    "capacity_reservation_id": "CapacityReservationId",
    "capacity_reservation_status": "CapacityReservationStatus",
    "consumed_unit": "ConsumedUnit",
}


def _json_object(raw: str, field: str) -> dict:
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{field} is not valid JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{field} is not a JSON object")
    return value


def _gpu_count(details: dict) -> Decimal | None:
    if "GpuCount" not in details or details["GpuCount"] in (None, ""):
        return None
    value = details["GpuCount"]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"SkuPriceDetails.GpuCount {value!r} is not a number")
    count = parse_decimal(str(value), "SkuPriceDetails.GpuCount")
    if count < 0:
        raise ValueError(f"SkuPriceDetails.GpuCount {value!r} is negative")
    return count


def parse_focus_csv(text: str | bytes) -> list[CostLine]:
    errors = ErrorCollector("FOCUS CSV")
    records = csv_records(to_text(text))
    header_line, header = next(records, (1, []))
    header = [name.strip() for name in header]
    if not any(header):
        errors.add(1, "empty input: expected a header row")
        errors.raise_if_any()
    columns = {name: i for i, name in enumerate(header)}
    missing = [name for name in REQUIRED if name not in columns]
    if not any(name in columns for name in PROVIDER_COLUMNS):
        missing.append(" or ".join(PROVIDER_COLUMNS))
    if missing:
        errors.add(header_line, f"header lacks column(s): {', '.join(missing)}")
        errors.raise_if_any()

    lines: list[CostLine] = []
    for number, get in csv_data_rows(records, width=len(header), columns=columns, errors=errors):
        problems: list[str] = []

        def attempt(func, *args, _problems=problems):
            try:
                return func(*args)
            except ValueError as exc:
                _problems.append(str(exc))
                return None

        provider = next((get(name) for name in PROVIDER_COLUMNS if get(name)), "")
        if not provider:
            problems.append(f"{' / '.join(PROVIDER_COLUMNS)} is empty")
        billed = attempt(parse_decimal, get("BilledCost"), "BilledCost")
        effective = attempt(parse_decimal, get("EffectiveCost"), "EffectiveCost")
        currency = get("BillingCurrency")
        if not currency:
            problems.append("BillingCurrency is empty")
        start = attempt(parse_datetime, get("ChargePeriodStart"), "ChargePeriodStart")
        end = attempt(parse_datetime, get("ChargePeriodEnd"), "ChargePeriodEnd")
        if start and end and end < start:
            problems.append("ChargePeriodEnd is before ChargePeriodStart")
        category = get("ChargeCategory")
        if category not in CHARGE_CATEGORIES:
            problems.append(
                f"ChargeCategory {category!r} is not one of {', '.join(sorted(CHARGE_CATEGORIES))}"
            )
        text_values = {attr: get(column) for attr, column in _TEXT_FIELDS.items()}
        if text_values["charge_class"] not in CHARGE_CLASSES:
            problems.append(
                f"ChargeClass {text_values['charge_class']!r} is not empty or Correction"
            )
        for attr in ("commitment_discount_status", "capacity_reservation_status"):
            if text_values[attr] not in STATUSES:
                problems.append(f"{_TEXT_FIELDS[attr]} {text_values[attr]!r} is not Used or Unused")
        tags = attempt(_json_object, get("Tags"), "Tags")
        details = attempt(_json_object, get("SkuPriceDetails"), "SkuPriceDetails")
        gpu_count = attempt(_gpu_count, details) if details is not None else None
        consumed_raw = get("ConsumedQuantity")
        consumed = (
            attempt(parse_decimal, consumed_raw, "ConsumedQuantity") if consumed_raw else None
        )
        if consumed is not None and consumed < 0:
            problems.append(f"ConsumedQuantity {consumed_raw!r} is negative")

        for message in problems:
            errors.add(number, message)
        if problems:
            continue
        lines.append(
            CostLine(
                provider=provider,
                billed_cost=billed,
                effective_cost=effective,
                billing_currency=currency,
                charge_period_start=start,
                charge_period_end=end,
                charge_category=category,
                tags=tags,
                sku_price_details=details,
                gpu_count=gpu_count,
                consumed_quantity=consumed,
                line=number,
                **text_values,
            )
        )
    errors.raise_if_any()
    return lines
