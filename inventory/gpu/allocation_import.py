"""Bulk allocation import (issue 17, item 11): one CSV of allocations through the same rules as
``inventory.gpu.services.allocation_create``, all or nothing.

**File.** UTF-8 CSV (a BOM is dropped), header row, columns in any order, names
case-insensitive: ``pool`` (name or id), ``gpu_count`` (to 0.001), ``business_unit`` (code or
id), ``purpose`` (value or label: training, inference …), ``starts_on`` and the optional
``initiative`` (reference ``AI-0042`` or id), ``ends_on`` and ``notes``. This is the
allocation export's shape in the model's field names. ``starts_on``/``ends_on`` take a date
(YYYY-MM-DD: whole days, ``ends_on`` the last day held) or an ISO 8601 date-time (UTC unless
it has an offset; ``ends_on`` then the instant the GPUs are given back, as a pod's end).

**Rules.** Who may allocate (``can_create_allocation``) per row's unit; each allocation's
field and model rules (``services.allocation_validate``); the pool's capacity in file order
(``services.CapacityLedger``: the rule of ``_check_capacity`` over the stored allocations plus
the file's earlier rows, under every touched pool's row lock, taken in id order). Every
problem is reported with its row (the file's line; the header is line 1) and field.

**All or nothing.** With any error nothing is written. A dry run checks everything and
writes nothing; otherwise one transaction creates every allocation (``bulk_create``) and
appends one ``gpu_allocation.created`` audit event each (``core.audit.record_events``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models.functions import Lower

from core.audit import record_events
from core.models import BusinessUnit
from core.periods import parse_period_bound
from core.services import snapshot
from inventory.gpu.choices import AllocationPurpose
from inventory.gpu.models import GPUAllocation, GPUPool
from inventory.gpu.permissions import can_create_allocation, can_import_allocations
from inventory.gpu.services import (
    ALLOCATION_FIELDS,
    CapacityLedger,
    _check_capacity,
    allocation_validate,
)
from portfolio.initiatives.models import Initiative

REQUIRED_COLUMNS = ("pool", "gpu_count", "business_unit", "purpose", "starts_on")
OPTIONAL_COLUMNS = ("initiative", "ends_on", "notes")
MAX_ROWS = 50_000
MAX_UPLOAD_BYTES = 20_000_000  # 20 MB: far more than MAX_ROWS rows
MAX_ERRORS = 1000  # reported; the file is refused whatever the number
CHUNK = 2000  # references per look-up query


@dataclass(frozen=True)
class RowError:
    row: int | None  # the file's line (header = 1); None for the file as a whole
    field: str
    message: str


@dataclass
class AllocationImport:
    """What an import did or would do: ``errors`` (nothing written when any), ``rows`` read,
    ``created`` (the new allocations; planned, unsaved ones on a dry run)."""

    dry_run: bool
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    created: list[GPUAllocation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def gpu_total(self) -> Decimal:
        return sum((allocation.gpu_count for allocation in self.created), Decimal("0"))


@dataclass
class _Row:
    line: int
    values: dict[str, str]


class _Refused(Exception):
    def __init__(self, errors):
        self.errors = errors


def _read(content: bytes) -> tuple[list[_Row], list[RowError]]:
    """The data rows (blank ones dropped) and the rows of the wrong width."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise _Refused([RowError(line, "file", "not UTF-8 text")]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    names = [name.strip().lower() for name in header or []]
    if not any(names):
        raise _Refused([RowError(1, "file", "the file is empty: expected a header row")])
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise _Refused([RowError(1, "file", f"the header lacks {', '.join(missing)}")])
    rows, bad, previous_end = [], [], reader.line_num
    for fields in reader:
        line, previous_end = previous_end + 1, reader.line_num
        if not any(value.strip() for value in fields):
            continue
        if len(fields) != len(names):
            bad.append(RowError(line, "row", f"expected {len(names)} fields, found {len(fields)}"))
            continue
        values = {name: value.strip() for name, value in zip(names, fields, strict=True)}
        rows.append(_Row(line, values))
        if len(rows) > MAX_ROWS:
            raise _Refused([RowError(line, "file", f"more than {MAX_ROWS} rows")])
    return rows, bad


def _by_name_or_id(model, rows, column, name_field) -> dict[str, object]:
    """Look the column's values up by ``name_field`` (case-insensitive), else, for a number,
    by id; in chunks, so a fixed number of queries per few thousand distinct values."""
    wanted = sorted({row.values.get(column, "") for row in rows} - {""})
    by_name: dict[str, object] = {}
    by_id: dict[str, object] = {}
    for first in range(0, len(wanted), CHUNK):
        chunk = [value.lower() for value in wanted[first : first + CHUNK]]
        matches = model.objects.annotate(lookup_key=Lower(name_field)).filter(lookup_key__in=chunk)
        for obj in matches:
            by_name[obj.lookup_key] = obj
    ids = sorted({int(value) for value in wanted if value.isdigit()})
    for first in range(0, len(ids), CHUNK):
        for obj in model.objects.filter(pk__in=ids[first : first + CHUNK]):
            by_id[str(obj.pk)] = obj
    return {
        value: by_name.get(value.lower())
        or (by_id.get(str(int(value))) if value.isdigit() else None)
        for value in wanted
    }


PURPOSES = {
    **{value: value for value in AllocationPurpose.values},
    **{label.lower(): value for value, label in AllocationPurpose.choices},
}


def _parse_row(row, *, actor, pools, units, initiatives, errors) -> GPUAllocation | None:
    """The row's allocation, resolved and validated; None with its problems on ``errors``."""
    values, line = row.values, row.line
    problems: list[RowError] = []

    def refer(column, lookup, what):
        raw = values.get(column, "")
        if not raw:
            return None
        obj = lookup.get(raw)
        if obj is None:
            problems.append(RowError(line, column, f"no {what} {raw!r}"))
        return obj

    pool = refer("pool", pools, "GPU pool")
    unit = refer("business_unit", units, "business unit")
    initiative = refer("initiative", initiatives, "initiative")
    for column in REQUIRED_COLUMNS:
        if not values.get(column):
            problems.append(RowError(line, column, "this field is required"))
    gpu_count = None
    if values.get("gpu_count"):
        try:
            gpu_count = Decimal(values["gpu_count"])
            if not gpu_count.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            problems.append(RowError(line, "gpu_count", f"{values['gpu_count']!r} is not a number"))
            gpu_count = None
    bounds = {}
    for column in ("starts_on", "ends_on"):
        raw = values.get(column, "")
        bounds[column] = None
        if raw:
            try:
                bounds[column] = parse_period_bound(raw, end=column == "ends_on")
            except ValueError:
                problems.append(
                    RowError(
                        line,
                        column,
                        f"{raw!r} is not a date (YYYY-MM-DD) or a date-time (ISO 8601)",
                    )
                )
    purpose = PURPOSES.get(values.get("purpose", "").lower())
    if values.get("purpose") and purpose is None:
        problems.append(
            RowError(
                line,
                "purpose",
                f"{values['purpose']!r} is not one of {', '.join(AllocationPurpose.values)}",
            )
        )
    if unit is not None and not can_create_allocation(actor, unit):
        problems.append(RowError(line, "business_unit", "you may not allocate GPUs to this unit"))
    if problems:
        errors.extend(problems)
        return None
    allocation = GPUAllocation(
        pool=pool,
        gpu_count=gpu_count,
        business_unit=unit,
        initiative=initiative,
        purpose=purpose,
        starts_at=bounds["starts_on"],
        ends_at=bounds["ends_on"],
        notes=values.get("notes", ""),
        requested_by=actor,
        approved_by=actor,
    )
    try:
        allocation_validate(allocation, related_resolved=True)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            column = name if name != "__all__" else "row"
            errors.extend(RowError(line, column, message) for message in messages)
        return None
    return allocation


def _check_capacities(planned: list[tuple[int, GPUAllocation]], errors) -> None:
    """Each row against its pool's stored allocations and the file's earlier rows."""
    pool_ids = {allocation.pool_id for _, allocation in planned}
    stored = list(
        GPUAllocation.objects.filter(pool_id__in=pool_ids).values_list(
            "pool_id", "starts_on", "ends_on", "gpu_count"
        )
    )
    dates: dict[int, set] = {pk: set() for pk in pool_ids}
    for pool_id, starts_on, ends_on, _ in stored:
        dates[pool_id] |= {starts_on, ends_on} - {None}
    for _, allocation in planned:
        dates[allocation.pool_id] |= {allocation.starts_on, allocation.ends_on} - {None}
    ledgers = {pk: CapacityLedger(pool_dates) for pk, pool_dates in dates.items()}
    for pool_id, starts_on, ends_on, gpu_count in stored:
        ledgers[pool_id].add(starts_on=starts_on, ends_on=ends_on, gpu_count=gpu_count)
    for line, allocation in planned:
        ledger = ledgers[allocation.pool_id]
        try:
            _check_capacity(
                allocation,
                committed=ledger.committed(
                    starts_on=allocation.starts_on, ends_on=allocation.ends_on
                ),
            )
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                errors.extend(RowError(line, name, message) for message in messages)
            continue
        ledger.add(
            starts_on=allocation.starts_on,
            ends_on=allocation.ends_on,
            gpu_count=allocation.gpu_count,
        )


def allocation_import(*, actor, content: bytes, dry_run: bool = False) -> AllocationImport:
    """Import the allocations of a CSV (see the module docstring). Raises PermissionDenied
    when the actor may allocate for no unit; returns the result, with every row error and
    nothing written when there is any, or on a dry run."""
    if not can_import_allocations(actor):
        raise PermissionDenied("Only platform engineers can allocate GPUs.")
    result = AllocationImport(dry_run=dry_run)
    try:
        rows, errors = _read(content)
    except _Refused as refused:
        result.errors = refused.errors
        return result
    result.rows = len(rows) + len(errors)
    if not result.rows:
        result.errors = [RowError(None, "file", "the file has no allocation rows")]
        return result
    with transaction.atomic():
        pools = _by_name_or_id(GPUPool, rows, "pool", "name")
        if not dry_run:  # lock the touched pools (id order) before reading their allocations
            locked = sorted({pool.pk for pool in pools.values() if pool is not None})
            pools_by_pk = {
                pool.pk: pool
                for pool in GPUPool.objects.select_for_update().filter(pk__in=locked).order_by("pk")
            }
            pools = {key: pool and pools_by_pk.get(pool.pk) for key, pool in pools.items()}
        units = _by_name_or_id(BusinessUnit, rows, "business_unit", "code")
        initiatives = _by_name_or_id(Initiative, rows, "initiative", "reference")
        planned = []
        for row in rows:
            allocation = _parse_row(
                row,
                actor=actor,
                pools=pools,
                units=units,
                initiatives=initiatives,
                errors=errors,
            )
            if allocation is not None:
                planned.append((row.line, allocation))
        if planned:
            _check_capacities(planned, errors)
        errors.sort(key=lambda error: error.row or 0)
        result.errors = list(errors[:MAX_ERRORS])
        if errors or dry_run:
            result.created = [allocation for _, allocation in planned] if not errors else []
            return result
        created = GPUAllocation.objects.bulk_create(
            [allocation for _, allocation in planned], batch_size=1000
        )
        record_events(
            actor=actor,
            events=[
                (
                    "gpu_allocation.created",
                    allocation,
                    None,
                    {**snapshot(allocation, ALLOCATION_FIELDS), "imported": True},
                )
                for allocation in created
            ],
            reason="bulk allocation import",
        )
        result.created = created
    return result
