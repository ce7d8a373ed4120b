"""Calendar arithmetic every GPU FinOps figure shares: months, and the days of a period on
which an allocation is active (the basis of allocated GPU-hours)."""

import calendar
import datetime
from decimal import Decimal

HOURS_PER_DAY = Decimal(24)


def month_start(day: datetime.date, back: int = 0) -> datetime.date:
    """The first day of ``day``'s month, or of the month ``back`` months before it."""
    index = day.year * 12 + day.month - 1 - back
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_bounds(month: datetime.date) -> tuple[datetime.date, datetime.date]:
    """First and last day of ``month``'s calendar month."""
    first = month_start(month)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return first, last


def month_to_date(
    month: datetime.date, today: datetime.date
) -> tuple[datetime.date, datetime.date]:
    """First day of ``month`` and its last day so far: ``today`` in the running month (rate-based
    cost counts the days an allocation has held, never the rest of the month)."""
    first, last = month_bounds(month)
    return first, min(last, today)


def active_days(starts_on, ends_on, first: datetime.date, last: datetime.date) -> int:
    """Days of [first, last] on which an allocation is active (starts_on ≤ day ≤ ends_on)."""
    start = max(first, starts_on)
    end = min(last, ends_on) if ends_on else last
    return max(0, (end - start).days + 1)


def allocated_gpu_hours(gpu_count, starts_on, ends_on, first, last) -> Decimal:
    """GPU-hours an allocation holds in [first, last]: gpu_count × 24 × its active days
    (what rate-based cost multiplies by the pool's hourly rate)."""
    return Decimal(gpu_count) * HOURS_PER_DAY * active_days(starts_on, ends_on, first, last)
