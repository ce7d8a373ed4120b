"""Cost ingest: FOCUS cost lines (``inventory.usage.parsers.focus.parse_focus_csv``) classified,
matched and bulk-inserted as ``CostRecord`` rows.

``import_focus_lines`` is called by the shared ingest engine (``inventory.usage.services.batches``)
inside the transaction that creates the ``IngestBatch``; it writes nothing itself when it
refuses a file (it raises ``ParseError`` before inserting) and the caller's rollback covers the
rest.

Shared definitions (``docs``: the GPU FinOps brief), as applied here:

**Classification** (``CostRecord.category``), first rule that applies:

1. ``ChargeClass = Correction`` → CORRECTION, whatever the ChargeCategory;
2. ChargeCategory Credit / Tax / Purchase / Adjustment → CREDIT / TAX / PURCHASE / ADJUSTMENT;
3. a Usage line whose ``CommitmentDiscountStatus`` or ``CapacityReservationStatus`` is
   ``Unused`` → IDLE_COMMITMENT (``commitment_id`` = the unused reservation's or
   commitment's id; the pool is the one whose ``commitment_id`` matches);
4. a Usage line of a GPU → USAGE: ``SkuPriceDetails.GpuCount`` > 0, or an instance type
   (``SkuPriceDetails.InstanceType``, else ``ResourceType``) found on the rate card (a pool's
   ``instance_type`` or a ``GPUType.example_instance``, compared case-insensitively), in which
   case ``gpu_count`` = that pool's (else that type's) ``gpus_per_instance``;
5. any other Usage line → NON_GPU.

``gpu_hours`` = gpu_count × ``ConsumedQuantity`` when ``ConsumedUnit`` is hours (the line's
instance-hours, right for lines covering several instances or part of an hour), else
gpu_count × the charge period in hours; for USAGE and IDLE_COMMITMENT lines only (a credit or
a correction moves money, not GPU-hours; their GPU count and instance type are still
stored).

**Matching** (``matched_by``), first that applies, for every category (so a correction or a
credit of a tagged line matches the way the line did):

* ``resource_id``: an ``ExternalKey`` of kind resource_id equal to ``ResourceId``, to its last
  ``/`` segment (an ARN's instance id), or to ``ResourceName``;
* ``cost_tag``: the ``Tags`` value under ``settings.KEEL_FINOPS["COST_TAG_KEY"]`` (the key is
  compared case-insensitively and may carry a provider prefix such as ``user:``) equal to an
  ``ExternalKey`` of kind cost_tag, else to an ``Initiative.reference`` (``AI-0042``,
  case-insensitive);
* ``sub_account``: an ``ExternalKey`` of kind cloud_sub_account equal to ``SubAccountId``, else
  the single pool whose ``account`` is that sub-account (the pool only);
* ``none``: unattributed. The line is kept with its cost: GPU spend is never dropped.

A key may point at an allocation (which implies its initiative, BU and pool), an initiative
(then the initiative's allocation active during the charge period is taken, preferring one in
a pool whose ``account`` is the line's ``SubAccountId``, then one whose pool bills the line's
instance type, then the lowest id; with none active, the initiative and its BU only) or a BU.
The pool, when no allocation gives it, comes from the line's commitment id, else from the
rate card (the pool billing that instance type, preferring the line's sub-account and region),
else from the single pool of the sub-account.

**Idempotency**: ``fingerprint`` = SHA-256 of the line's *raw* identity (provider, charge
period, ChargeCategory and ChargeClass, resource, SKU, both costs, currency, commitment and
reservation ids and statuses, tags, SKU price details, …) plus its occurrence number among
identical lines of the same file. Derived values (category, match) are left out on purpose, so
a later export overlapping an earlier one is recognised even after the rate card or the keys
changed; lines already stored are skipped and counted as duplicates.

**Refused** (``ParseError`` with line numbers): a BillingCurrency that is not a three-letter
code, that differs from the file's first line, or that differs from the currency already
imported for the same month; amounts, GPU counts or texts too large to store. Everything else
(unknown instance types, negative usage, zero-length periods, unmatched lines) is kept as is.

Queries do not grow per line: keys, initiatives, pools, GPU types and candidate allocations
are loaded in bulk (``IN`` lists in chunks of ``CHUNK_SIZE`` distinct values), then one
``bulk_create``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Q

from inventory.gpu.models import GPUAllocation, GPUPool, GPUType
from inventory.usage.choices import CostCategory, CostMatch, ExternalKeyKind
from inventory.usage.models import CostRecord, ExternalKey, IngestBatch
from inventory.usage.parsers.errors import ParseError
from inventory.usage.parsers.records import CostLine
from portfolio.initiatives.models import Initiative

__all__ = ["import_focus_lines", "line_fingerprints"]

# Distinct values per ``IN (…)`` list: under SQLite's historical 999-parameter limit.
CHUNK_SIZE = 900
MONEY_PLACES = Decimal("0.000001")
HOUR_PLACES = Decimal("0.0001")
GPU_PLACES = Decimal("0.01")
# CostRecord.billed_cost / effective_cost: 18 digits, 6 decimals; gpu_count: 8 digits, 2 decimals.
MONEY_LIMIT = Decimal(10) ** 12
GPU_LIMIT = Decimal(10) ** 6
SECONDS_PER_HOUR = Decimal(3600)

CATEGORY_OF_CHARGE = {
    "Credit": CostCategory.CREDIT,
    "Tax": CostCategory.TAX,
    "Purchase": CostCategory.PURCHASE,
    "Adjustment": CostCategory.ADJUSTMENT,
}
# Categories that carry GPU-hours.
HOURLY_CATEGORIES = frozenset({CostCategory.USAGE, CostCategory.IDLE_COMMITMENT})
# CostRecord text columns: (attribute on the record, value on the line, FOCUS column).
_TEXT_LIMITS = (
    ("provider", "provider", "ProviderName / ServiceProviderName", 100),
    ("charge_class", "charge_class", "ChargeClass", 20),
    ("resource_id", "resource_id", "ResourceId", 500),
    ("resource_type", "resource_type", "ResourceType", 100),
    ("service_name", "service_name", "ServiceName", 200),
    ("sub_account_id", "sub_account_id", "SubAccountId", 200),
    ("region", "region_id", "RegionId", 50),
    ("pricing_category", "pricing_category", "PricingCategory", 30),
    ("sku_id", "sku_id", "SkuId", 200),
)
_COMMITMENT_ID_LIMIT = 500
_INSTANCE_TYPE_LIMIT = 50


# --- Fingerprints ----------------------------------------------------------------------------


def _decimal_text(value: Decimal | None) -> str | None:
    if value is None:
        return None
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def _identity(line: CostLine) -> str:
    """The line's raw content as canonical JSON (what two exports of the same charge share)."""
    return json.dumps(
        {
            "provider": line.provider,
            "start": line.charge_period_start.isoformat(),
            "end": line.charge_period_end.isoformat(),
            "category": line.charge_category,
            "class": line.charge_class,
            "billed": _decimal_text(line.billed_cost),
            "effective": _decimal_text(line.effective_cost),
            "currency": line.billing_currency.upper(),
            "resource_id": line.resource_id,
            "resource_name": line.resource_name,
            "resource_type": line.resource_type,
            "service": line.service_name,
            "sub_account": line.sub_account_id,
            "region": line.region_id,
            "pricing_category": line.pricing_category,
            "sku": line.sku_id,
            "sku_price_details": line.sku_price_details,
            "gpu_count": _decimal_text(line.gpu_count),
            "commitment": [line.commitment_discount_id, line.commitment_discount_status],
            "reservation": [line.capacity_reservation_id, line.capacity_reservation_status],
            "tags": line.tags,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )


def line_fingerprints(lines: Iterable[CostLine]) -> list[str]:
    """One fingerprint per line: its identity plus how many identical lines came before it in
    the same file (two genuinely identical charges stay two records; the same charge exported
    again in a later file matches the earlier record)."""
    seen: Counter[str] = Counter()
    fingerprints = []
    for line in lines:
        identity = _identity(line)
        occurrence = seen[identity]
        seen[identity] += 1
        digest = hashlib.sha256(f"{identity}#{occurrence}".encode()).hexdigest()
        fingerprints.append(digest)
    return fingerprints


# --- Bulk look-ups -------------------------------------------------------------------------


def _chunks(values: Iterable, size: int = CHUNK_SIZE) -> Iterator[list]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def _last_segment(value: str) -> str:
    return value.rstrip("/").rsplit("/", 1)[-1]


def _resource_candidates(line: CostLine) -> list[str]:
    candidates = [line.resource_id, _last_segment(line.resource_id), line.resource_name]
    return list(dict.fromkeys(value for value in candidates if value))


def _cost_tag_value(tags: dict) -> str:
    """The value of the cost-allocation tag (``COST_TAG_KEY``, case-insensitive, with or
    without a provider prefix such as ``user:``), stripped; '' when absent."""
    wanted = settings.KEEL_FINOPS["COST_TAG_KEY"].lower()
    exact, prefixed = None, None
    for key, value in tags.items():
        name = str(key).lower()
        if name == wanted:
            exact = value
        elif name.endswith(f":{wanted}") or name.endswith(f"/{wanted}"):
            prefixed = value
    value = exact if exact is not None else prefixed
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value).strip()


def _sku_instance_type(line: CostLine) -> str:
    for key, value in line.sku_price_details.items():
        if str(key).lower() == "instancetype" and value not in (None, ""):
            return str(value).strip()
    return ""


def _commitment_ids(line: CostLine) -> list[str]:
    """The reservation / commitment ids of the line, the unused one first."""
    pairs = [
        (line.capacity_reservation_id, line.capacity_reservation_status),
        (line.commitment_discount_id, line.commitment_discount_status),
    ]
    unused = [value for value, status in pairs if value and status == "Unused"]
    others = [value for value, status in pairs if value and status != "Unused"]
    return list(dict.fromkeys(unused + others))


@dataclass(slots=True)
class _Match:
    matched_by: str = CostMatch.NONE
    allocation: GPUAllocation | None = None
    initiative_id: int | None = None
    business_unit_id: int | None = None
    pool: GPUPool | None = None

    @classmethod
    def of_allocation(cls, allocation: GPUAllocation, how: str) -> _Match:
        return cls(
            matched_by=how,
            allocation=allocation,
            initiative_id=allocation.initiative_id,
            business_unit_id=allocation.business_unit_id,
            pool=allocation.pool,
        )


class _Context:
    """Everything the file's lines are matched against, loaded with a fixed number of
    queries (per chunk of distinct values, never per line)."""

    def __init__(self, lines: list[CostLine]):
        resource_values = {value for line in lines for value in _resource_candidates(line)}
        tag_values = {value for line in lines if (value := _cost_tag_value(line.tags))}
        sub_accounts = {line.sub_account_id for line in lines if line.sub_account_id}

        self.keys: dict[tuple[str, str], ExternalKey] = {}
        for kind, values in (
            (ExternalKeyKind.RESOURCE_ID, resource_values),
            (ExternalKeyKind.COST_TAG, tag_values),
            (ExternalKeyKind.CLOUD_SUB_ACCOUNT, sub_accounts),
        ):
            for chunk in _chunks(values):
                for key in ExternalKey.objects.filter(kind=kind, value__in=chunk).select_related(
                    "allocation__pool", "initiative"
                ):
                    self.keys[(kind, key.value)] = key

        self.initiatives_by_reference: dict[str, Initiative] = {}
        for chunk in _chunks(value.upper() for value in tag_values):
            for initiative in Initiative.objects.filter(reference__in=chunk).only(
                "pk", "reference", "business_unit_id"
            ):
                self.initiatives_by_reference[initiative.reference.upper()] = initiative

        self.pools = list(GPUPool.objects.all().order_by("pk"))
        self.pools_by_instance: dict[str, list[GPUPool]] = defaultdict(list)
        self.pools_by_account: dict[str, list[GPUPool]] = defaultdict(list)
        self.pools_by_commitment: dict[str, list[GPUPool]] = defaultdict(list)
        for pool in self.pools:
            if pool.instance_type:
                self.pools_by_instance[pool.instance_type.lower()].append(pool)
            if pool.account:
                self.pools_by_account[pool.account].append(pool)
            if pool.commitment_id:
                self.pools_by_commitment[pool.commitment_id].append(pool)
        self.types_by_instance: dict[str, GPUType] = {}
        for gpu_type in GPUType.objects.exclude(example_instance="").order_by("pk"):
            self.types_by_instance.setdefault(gpu_type.example_instance.lower(), gpu_type)

        initiative_ids = {key.initiative_id for key in self.keys.values() if key.initiative_id}
        initiative_ids |= {initiative.pk for initiative in self.initiatives_by_reference.values()}
        self.allocations_by_initiative: dict[int, list[GPUAllocation]] = defaultdict(list)
        if initiative_ids and lines:
            first_day = min(line.charge_period_start for line in lines).date()
            last_day = max(_last_day(line) for line in lines)
            for chunk in _chunks(initiative_ids):
                candidates = (
                    GPUAllocation.objects.filter(initiative_id__in=chunk, starts_on__lte=last_day)
                    .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=first_day))
                    .select_related("pool")
                    .order_by("pk")
                )
                for allocation in candidates:
                    self.allocations_by_initiative[allocation.initiative_id].append(allocation)

    # Rate card --------------------------------------------------------------------------

    def instance_type(self, line: CostLine) -> tuple[str, bool]:
        """(instance type to store, whether the rate card knows it)."""
        sku_type = _sku_instance_type(line)
        for candidate in (sku_type, line.resource_type):
            name = candidate.lower()
            if name and (name in self.pools_by_instance or name in self.types_by_instance):
                return candidate, True
        return sku_type, False

    def rate_card_pool(self, line: CostLine, instance_type: str) -> GPUPool | None:
        """The pool billing ``instance_type``, preferring the line's sub-account, then its
        region; none when several pools are equally good."""
        pools = self.pools_by_instance.get(instance_type.lower(), []) if instance_type else []
        if not pools:
            return None
        best = min(_pool_rank(pool, line) for pool in pools)
        winners = [pool for pool in pools if _pool_rank(pool, line) == best]
        return winners[0] if len(winners) == 1 else None

    def gpus_per_instance(self, line: CostLine, instance_type: str) -> int | None:
        name = instance_type.lower()
        pool = self.rate_card_pool(line, instance_type)
        pools = [pool] if pool else self.pools_by_instance.get(name, [])
        for candidate in pools:
            if candidate.gpus_per_instance:
                return candidate.gpus_per_instance
        gpu_type = self.types_by_instance.get(name)
        return gpu_type.gpus_per_instance if gpu_type else None

    def commitment_pool(self, line: CostLine) -> GPUPool | None:
        for commitment in _commitment_ids(line):
            for value in dict.fromkeys((commitment, _last_segment(commitment))):
                pools = self.pools_by_commitment.get(value, [])
                if len(pools) == 1:
                    return pools[0]
        return None

    def account_pool(self, line: CostLine, instance_type: str) -> GPUPool | None:
        pools = self.pools_by_account.get(line.sub_account_id, []) if line.sub_account_id else []
        if len(pools) == 1:
            return pools[0]
        if instance_type:
            billing = [
                pool for pool in pools if pool.instance_type.lower() == instance_type.lower()
            ]
            if len(billing) == 1:
                return billing[0]
        return None

    # Matching ---------------------------------------------------------------------------

    def match(self, line: CostLine, instance_type: str) -> _Match:
        for value in _resource_candidates(line):
            key = self.keys.get((ExternalKeyKind.RESOURCE_ID, value))
            if key:
                return self._resolve_key(key, line, instance_type, CostMatch.RESOURCE_ID)
        tag = _cost_tag_value(line.tags)
        if tag:
            key = self.keys.get((ExternalKeyKind.COST_TAG, tag))
            if key:
                return self._resolve_key(key, line, instance_type, CostMatch.COST_TAG)
            initiative = self.initiatives_by_reference.get(tag.upper())
            if initiative:
                return self._resolve_initiative(initiative, line, instance_type, CostMatch.COST_TAG)
        if line.sub_account_id:
            key = self.keys.get((ExternalKeyKind.CLOUD_SUB_ACCOUNT, line.sub_account_id))
            if key:
                return self._resolve_key(key, line, instance_type, CostMatch.SUB_ACCOUNT)
            pool = self.account_pool(line, instance_type)
            if pool:
                return _Match(matched_by=CostMatch.SUB_ACCOUNT, pool=pool)
        return _Match()

    def _resolve_key(self, key, line, instance_type, how) -> _Match:
        if key.allocation_id:
            return _Match.of_allocation(key.allocation, how)
        if key.initiative_id:
            return self._resolve_initiative(key.initiative, line, instance_type, how)
        return _Match(matched_by=how, business_unit_id=key.business_unit_id)

    def _resolve_initiative(self, initiative, line, instance_type, how) -> _Match:
        first_day, last_day = line.charge_period_start.date(), _last_day(line)
        active = [
            allocation
            for allocation in self.allocations_by_initiative.get(initiative.pk, [])
            if allocation.starts_on <= last_day
            and (allocation.ends_on is None or allocation.ends_on >= first_day)
        ]
        if not active:
            return _Match(
                matched_by=how,
                initiative_id=initiative.pk,
                business_unit_id=initiative.business_unit_id,
            )

        def preference(allocation):
            pool = allocation.pool
            return (
                not (line.sub_account_id and pool.account == line.sub_account_id),
                not (instance_type and pool.instance_type.lower() == instance_type.lower()),
                allocation.pk,
            )

        return _Match.of_allocation(min(active, key=preference), how)


def _pool_rank(pool: GPUPool, line: CostLine) -> tuple[bool, bool]:
    return (
        pool.account != line.sub_account_id if line.sub_account_id else True,
        pool.region != line.region_id if line.region_id else True,
    )


def _last_day(line: CostLine) -> dt.date:
    """The last UTC day the charge period touches (its end is exclusive)."""
    end = line.charge_period_end
    if end > line.charge_period_start:
        end -= dt.timedelta(microseconds=1)
    return end.date()


# --- Validation ------------------------------------------------------------------------------


def _validate(lines: list[CostLine]) -> str:
    """The file's currency; ``ParseError`` for every line that cannot be stored as is."""
    errors: list[tuple[int | None, str]] = []
    currency = ""
    for line in lines:
        code = line.billing_currency.strip().upper()
        if len(code) != 3 or not code.isalpha():
            errors.append(
                (line.line, f"BillingCurrency {line.billing_currency!r} is not an ISO 4217 code")
            )
        elif not currency:
            currency = code
        elif code != currency:
            errors.append(
                (
                    line.line,
                    f"BillingCurrency {code} differs from {currency} of the file's first line; "
                    "a file must use one currency",
                )
            )
        for label, value in (
            ("BilledCost", line.billed_cost),
            ("EffectiveCost", line.effective_cost),
        ):
            if abs(value) >= MONEY_LIMIT:
                errors.append((line.line, f"{label} {value} is too large to store"))
        if line.gpu_count is not None and line.gpu_count >= GPU_LIMIT:
            errors.append((line.line, f"SkuPriceDetails.GpuCount {line.gpu_count} is too large"))
        for _, attribute, column, limit in _TEXT_LIMITS:
            if len(getattr(line, attribute)) > limit:
                errors.append((line.line, f"{column} is longer than {limit} characters"))
        if any(len(value) > _COMMITMENT_ID_LIMIT for value in _commitment_ids(line)):
            errors.append(
                (
                    line.line,
                    "the commitment / reservation id is longer than "
                    f"{_COMMITMENT_ID_LIMIT} characters",
                )
            )
        if len(_sku_instance_type(line)) > _INSTANCE_TYPE_LIMIT:
            errors.append(
                (
                    line.line,
                    "SkuPriceDetails.InstanceType is longer than "
                    f"{_INSTANCE_TYPE_LIMIT} characters",
                )
            )
    if errors:
        raise ParseError(errors, source="FOCUS CSV")
    return currency


def _check_month_currency(lines: list[CostLine], currency: str) -> None:
    """Refuse a file whose currency differs from costs already imported for its months (the
    chargeback of a month adds them up)."""
    first_line_of_month: dict[dt.date, int | None] = {}
    for line in lines:
        first_line_of_month.setdefault(_month(line), line.line)
    clashes = (
        CostRecord.objects.filter(month__in=list(first_line_of_month))
        .exclude(currency=currency)
        .values_list("month", "currency")
        .distinct()
        .order_by("month", "currency")
    )
    errors = [
        (
            first_line_of_month[month],
            f"BillingCurrency {currency} differs from {other} already imported for {month:%Y-%m}",
        )
        for month, other in clashes
    ]
    if errors:
        raise ParseError(errors, source="FOCUS CSV")


def _month(line: CostLine) -> dt.date:
    start = line.charge_period_start.astimezone(dt.UTC)
    return dt.date(start.year, start.month, 1)


# --- Import ----------------------------------------------------------------------------------


def _classify(line: CostLine, is_gpu: bool) -> str:
    if line.is_correction:
        return CostCategory.CORRECTION
    if line.charge_category in CATEGORY_OF_CHARGE:
        return CATEGORY_OF_CHARGE[line.charge_category]
    if line.is_unused_commitment:
        return CostCategory.IDLE_COMMITMENT
    return CostCategory.USAGE if is_gpu else CostCategory.NON_GPU


def _money(value: Decimal) -> Decimal:
    return value.quantize(MONEY_PLACES, rounding=ROUND_HALF_UP)


def _build_record(line, fingerprint, batch, context, currency) -> CostRecord:
    instance_type, on_rate_card = context.instance_type(line)
    gpu_count = line.gpu_count
    if gpu_count is None and on_rate_card:
        per_instance = context.gpus_per_instance(line, instance_type)
        gpu_count = Decimal(per_instance) if per_instance else None
    is_gpu = (gpu_count is not None and gpu_count > 0) or on_rate_card
    category = _classify(line, is_gpu)
    gpu_hours = Decimal("0")
    if category in HOURLY_CATEGORIES and gpu_count:
        hours = line.consumed_hours
        if hours is None:
            seconds = Decimal(
                int((line.charge_period_end - line.charge_period_start).total_seconds())
            )
            hours = seconds / SECONDS_PER_HOUR
        gpu_hours = (gpu_count * hours).quantize(HOUR_PLACES, rounding=ROUND_HALF_UP)
    match = context.match(line, instance_type)
    # An allocation fixes the pool; otherwise the line's own reservation or commitment is
    # more specific than its sub-account.
    pool = match.pool if match.allocation else (context.commitment_pool(line) or match.pool)
    if pool is None:
        pool = context.rate_card_pool(line, instance_type)
    if pool is None:
        pool = context.account_pool(line, instance_type)
    commitment_ids = _commitment_ids(line)
    texts = {attribute: getattr(line, source) for attribute, source, _, _ in _TEXT_LIMITS}
    return CostRecord(
        batch=batch,
        line=line.line or 0,
        fingerprint=fingerprint,
        month=_month(line),
        charge_period_start=line.charge_period_start,
        charge_period_end=line.charge_period_end,
        category=category,
        charge_category=line.charge_category,
        billed_cost=_money(line.billed_cost),
        effective_cost=_money(line.effective_cost),
        currency=currency,
        instance_type=instance_type,
        gpu_count=(
            gpu_count.quantize(GPU_PLACES, rounding=ROUND_HALF_UP)
            if gpu_count is not None
            else None
        ),
        gpu_hours=gpu_hours,
        commitment_id=commitment_ids[0] if commitment_ids else "",
        tags=line.tags,
        matched_by=match.matched_by,
        allocation=match.allocation,
        initiative_id=match.initiative_id,
        business_unit_id=match.business_unit_id,
        pool=pool,
        **texts,
    )


def _existing_fingerprints(fingerprints: list[str]) -> set[str]:
    existing: set[str] = set()
    for chunk in _chunks(fingerprints):
        existing.update(
            CostRecord.objects.filter(fingerprint__in=chunk).values_list("fingerprint", flat=True)
        )
    return existing


def _amount(value: Decimal) -> str:
    return str(value.quantize(MONEY_PLACES))


def _summary(records: list[CostRecord], *, written: int, duplicates: int, currency: str) -> dict:
    """What the batch page shows: counts, how lines matched, and the totals that reconcile
    the invoice (every amount a string, exact to the stored 6 decimals)."""
    zero = Decimal("0")
    by_category: dict[str, dict] = {}
    matched = Counter({choice: 0 for choice in CostMatch.values})
    totals = {"effective": zero, "billed": zero}
    unattributed = {"lines": 0, "effective": zero}
    gpu_lines, gpu_hours = 0, zero
    for record in records:
        entry = by_category.setdefault(
            record.category, {"lines": 0, "effective": zero, "billed": zero}
        )
        entry["lines"] += 1
        entry["effective"] += record.effective_cost
        entry["billed"] += record.billed_cost
        totals["effective"] += record.effective_cost
        totals["billed"] += record.billed_cost
        matched[record.matched_by] += 1
        if record.category == CostCategory.USAGE:
            gpu_lines += 1
            gpu_hours += record.gpu_hours
            if record.matched_by == CostMatch.NONE:
                unattributed["lines"] += 1
                unattributed["effective"] += record.effective_cost

    def category_cost(category):
        return _amount(by_category.get(category, {}).get("effective", zero))

    return {
        "lines": len(records),
        "rows_written": written,
        "duplicates": duplicates,
        "currency": currency,
        "months": sorted({record.month.isoformat() for record in records}),
        "gpu_lines": gpu_lines,
        "gpu_hours": str(gpu_hours.quantize(HOUR_PLACES)),
        "matched": dict(matched),
        "unattributed_gpu_lines": unattributed["lines"],
        "unattributed_gpu_cost": _amount(unattributed["effective"]),
        "idle_commitment_cost": category_cost(CostCategory.IDLE_COMMITMENT),
        "credits": category_cost(CostCategory.CREDIT),
        "tax": category_cost(CostCategory.TAX),
        "corrections": category_cost(CostCategory.CORRECTION),
        "total_effective_cost": _amount(totals["effective"]),
        "total_billed_cost": _amount(totals["billed"]),
        "categories": {
            category: {
                "lines": entry["lines"],
                "effective_cost": _amount(entry["effective"]),
                "billed_cost": _amount(entry["billed"]),
            }
            for category, entry in sorted(by_category.items())
        },
    }


def import_focus_lines(*, batch: IngestBatch, lines: list[CostLine]) -> dict:
    """Classify, match and store ``lines`` (parsed from one FOCUS file) as cost records of
    ``batch``; return the batch summary.

    Call inside the caller's ``transaction.atomic()`` (the ingest engine's): on a semantic
    problem it raises ``ParseError`` with ``(line, message)`` pairs before writing anything.
    Lines already stored by an earlier file (same fingerprint) are skipped and counted in
    ``duplicates``. The summary describes the whole file (``lines``, totals that reconcile the
    invoice: ``total_effective_cost``, ``total_billed_cost``); ``rows_written`` says how many
    records were inserted.
    """
    if not lines:
        return _summary([], written=0, duplicates=0, currency="")
    currency = _validate(lines)
    _check_month_currency(lines, currency)
    fingerprints = line_fingerprints(lines)
    existing = _existing_fingerprints(fingerprints)
    context = _Context(lines)
    records = [
        _build_record(line, fingerprint, batch, context, currency)
        for line, fingerprint in zip(lines, fingerprints, strict=True)
    ]
    new = [record for record in records if record.fingerprint not in existing]
    # ignore_conflicts: a concurrent import of an overlapping file that committed first wins
    # the shared lines, never a double count; the count below says what this batch stored.
    CostRecord.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    written = CostRecord.objects.filter(batch=batch).count() if new else 0
    return _summary(records, written=written, duplicates=len(records) - written, currency=currency)
