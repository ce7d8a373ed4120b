"""Small helpers shared by the demo builder's modules: bulk inserts, aware timestamps, money
rounding, usernames, the per-pool capacity ledger, and :class:`SeedReport`, what a run did.
"""

import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from django.utils import timezone

from core.choices import Role
from demo.data import BATCH_SIZE, DEMO_PASSWORD, KEYED_ROWS, REPORT_ROWS


@dataclass
class SeedReport:
    """What a run created and what was already there.

    ``existing`` counts the ``KEYED_ROWS`` found by their natural key before the run.
    """

    scale: int = 0
    created: Counter = field(default_factory=Counter)
    existing: Counter = field(default_factory=lambda: Counter(dict.fromkeys(KEYED_ROWS, 0)))
    logins: list = field(default_factory=list)
    skipped_allocations: int = 0
    first_reference: str = ""
    last_reference: str = ""
    seconds: float = 0.0

    @property
    def created_anything(self) -> bool:
        return any(self.created.values())

    def render(self) -> str:
        """The command's printed summary: counts, then the table of role logins."""
        lines = []
        if self.created_anything:
            lines.append(f"Demo organisation seeded in {self.seconds:.1f} s.")
        else:
            lines.append("Nothing to do: the demo organisation is already seeded.")
        if self.scale:
            lines.append(f"Scaled organisation: {self.scale:,} extra initiatives requested.")
        lines.append("")
        lines.append(f"{'':26}{'created':>10}{'already seeded':>16}")
        for key, label in REPORT_ROWS:
            existing = self.existing.get(key)
            lines.append(
                f"{label:26}{self.created[key]:>10,}"
                f"{'' if existing is None else format(existing, ','):>16}"
            )
        if self.first_reference:
            lines.append(f"\nNew references: {self.first_reference} … {self.last_reference}")
        if self.skipped_allocations:
            lines.append(
                f"{self.skipped_allocations} allocations skipped: no pool had the capacity."
            )
        lines.append("\nDemo logins (demo only, never use these passwords elsewhere):")
        header = ("username", "password", "role", "BU", "")
        rows = [header] + [
            (
                login.username,
                DEMO_PASSWORD,
                Role(login.role).label,
                login.unit,
                "" if created else "existing account, unchanged",
            )
            for login, created in self.logins
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            cells = [row[i].ljust(widths[i]) for i in range(4)] + [row[4]]
            lines.append(("  " + "  ".join(cells)).rstrip())
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _bulk(model, rows):
    """Insert ``rows`` in batches; primary keys are set on the objects (PostgreSQL, SQLite)."""
    return model.objects.bulk_create(rows, batch_size=BATCH_SIZE)


def _aware(day: date, rng: random.Random) -> datetime:
    """A timezone-aware office-hours moment on ``day``."""
    return timezone.make_aware(
        datetime.combine(day, time(hour=rng.randint(8, 17), minute=rng.randint(0, 59)))
    )


def _money(amount: float) -> Decimal:
    """Round to whole thousands, as business cases are written."""
    return Decimal(int(round(amount / 1000.0)) * 1000).quantize(Decimal("0.01"))


def _username(full_name: str) -> str:
    """``"Liam O'Connor"`` → ``"liam.oconnor"``."""
    first, last = full_name.split(" ", 1)
    return re.sub(r"[^a-z.]", "", f"{first}.{last}".lower())


class _CapacityLedger:
    """The allocations of each pool, kept so that every one passes the capacity check.

    ``inventory.gpu.services._check_capacity`` refuses an allocation when the GPUs of all
    allocations overlapping its period, its own included, exceed the pool. The ledger keeps
    that true for every allocation, not only the newest: a new one fits when its own overlap
    sum fits *and* adding it keeps the sum of each allocation it overlaps within the pool. So
    any seeded allocation can later be edited through the services without a capacity error.
    Pools hold at most a few hundred allocations, so a linear scan is fast enough.
    """

    OPEN_END = date.max.toordinal()

    def __init__(self):
        # pool id -> [[start ordinal, end ordinal, hundredths of a GPU, overlap sum]]
        self.pools: dict[int, list[list[int]]] = defaultdict(list)

    def add(self, pool_id: int, capacity: int, amount: int, starts_on, ends_on, force=False):
        """Record the allocation if it fits (or when ``force``); True when recorded."""
        start = starts_on.toordinal()
        end = ends_on.toordinal() if ends_on else self.OPEN_END
        entries = self.pools[pool_id]
        overlapping = [entry for entry in entries if entry[0] <= end and entry[1] >= start]
        total = amount + sum(entry[2] for entry in overlapping)
        if not force and (
            total > capacity or any(entry[3] + amount > capacity for entry in overlapping)
        ):
            return False
        for entry in overlapping:
            entry[3] += amount
        entries.append([start, end, amount, total])
        return True


def _hundredths(value: Decimal) -> int:
    return int(value * 100)
