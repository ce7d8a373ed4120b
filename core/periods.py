"""Calendar arithmetic every GPU FinOps figure shares: months, the days of a period on which
an allocation is active, and the instants it holds GPUs (the basis of allocated GPU-hours)."""

import calendar
import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

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


# -- Allocation periods as instants ------------------------------------------------------------
# An allocation holds GPUs over the half-open interval [starts_at, ends_at) (ends_at None =
# open-ended). Its stored dates are derived, in UTC: starts_on = the day starts_at falls on,
# ends_on = the day of the last instant held (inclusive, as the dates always were).

ONE_DAY = datetime.timedelta(days=1)
ONE_MICROSECOND = datetime.timedelta(microseconds=1)
SECONDS_PER_HOUR = 3600
GPU_HOURS_QUANTUM = Decimal("0.001")


def day_start(day: datetime.date) -> datetime.datetime:
    """00:00 UTC of ``day``, timezone-aware."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


def period_from_dates(
    starts_on: datetime.date, ends_on: datetime.date | None
) -> tuple[datetime.datetime, datetime.datetime | None]:
    """The instants of a whole-day period: start of ``starts_on``, end (exclusive) of
    ``ends_on`` — 00:00 UTC of the following day — or None when open-ended."""
    return day_start(starts_on), (None if ends_on is None else day_start(ends_on + ONE_DAY))


def dates_from_period(
    starts_at: datetime.datetime, ends_at: datetime.datetime | None
) -> tuple[datetime.date, datetime.date | None]:
    """The UTC day ``starts_at`` falls on and the UTC day of the last instant held before
    ``ends_at`` (None when open-ended): the inverse of ``period_from_dates`` on whole days."""
    starts_on = starts_at.astimezone(datetime.UTC).date()
    if ends_at is None:
        return starts_on, None
    return starts_on, (ends_at - ONE_MICROSECOND).astimezone(datetime.UTC).date()


def is_midnight(moment: datetime.datetime | None) -> bool:
    """Whether ``moment`` is 00:00 UTC (a whole-day bound, shown as a date alone)."""
    return moment is not None and moment.astimezone(datetime.UTC).timetz() == datetime.time(
        tzinfo=datetime.UTC
    )


def parse_period_bound(raw: str, *, end: bool) -> datetime.datetime:
    """A period bound from text: a date (``YYYY-MM-DD``, a whole day: its start, or for an end
    the start of the next day) or an ISO 8601 date-time (an offset-less one is UTC; an end
    is the exclusive instant the GPUs are given back). Raises ValueError otherwise."""
    text = raw.strip()
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        moment = datetime.datetime.fromisoformat(text)
    else:
        return day_start(day + ONE_DAY) if end else day_start(day)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment


def held_gpu_hours(
    gpu_count, starts_at, ends_at, first: datetime.date, last: datetime.date
) -> Decimal:
    """GPU-hours an allocation holding [starts_at, ends_at) holds within the whole days
    [first, last] (UTC): gpu_count × the exact time held, to 0.001 GPU-hour. A whole-day
    allocation gives exactly ``allocated_gpu_hours`` (gpu_count × 24 × its active days)."""
    window_start, window_end = day_start(first), day_start(last + ONE_DAY)
    start = max(starts_at, window_start)
    end = window_end if ends_at is None else min(ends_at, window_end)
    if end <= start:
        return Decimal(gpu_count) * HOURS_PER_DAY * 0
    held = end - start
    if not held.seconds and not held.microseconds:
        return Decimal(gpu_count) * HOURS_PER_DAY * held.days
    microseconds = (held.days * 86_400 + held.seconds) * 1_000_000 + held.microseconds
    hours = Fraction(microseconds, SECONDS_PER_HOUR * 1_000_000) * Fraction(Decimal(gpu_count))
    exact = Decimal(hours.numerator) / Decimal(hours.denominator)
    return exact.quantize(GPU_HOURS_QUANTUM, rounding=ROUND_HALF_UP)


def format_period_bound(moment: datetime.datetime | None, *, end: bool) -> str:
    """A bound as people type it back (forms, the CSV import): a date for a whole-day bound —
    for an end, the last day held — else an ISO 8601 UTC date-time; "" when open-ended."""
    if moment is None:
        return ""
    if is_midnight(moment):
        return ((moment - ONE_DAY) if end else moment).astimezone(datetime.UTC).date().isoformat()
    utc = moment.astimezone(datetime.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S" if utc.second or utc.microsecond else "%Y-%m-%dT%H:%M")
