"""Benchmark the initiative list filtered by custom fields (issue 20; part of ``make bench``).

A throwaway PostgreSQL database (``keel_bench_custom_fields``) is migrated and given 10,000
initiatives with five custom fields each (text, choice, date, integer, boolean; written with
``bulk_create``, the schema being the five definitions), then ``ANALYZE``. It times the first
page of ``GET /initiatives/`` through ``django.test.Client`` (full middleware, session auth,
template, DEBUG off) as a CoE reviewer, unfiltered, filtered by the custom choice field
(``?cf_regime=PRA``: JSON containment, answered by the GIN index) and by a custom date range
(``?cf_review_date_min=…&cf_review_date_max=…``), and counts each request's queries. Targets:
first page ≤ 50 ms (median) and each filtered page as many queries as the unfiltered one.
The section between the ``custom-fields-benchmark`` markers of ``docs/benchmarks.md`` is
replaced and the database dropped. Exits non-zero when a target is missed.

Environment: ``DATABASE_URL`` must point at PostgreSQL; ``KEEL_BENCH_CF_DATABASE``,
``KEEL_BENCH_SCALE`` and ``KEEL_BENCH_ROUNDS`` override the database, size and rounds.
"""

import datetime
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

BENCH_DATABASE = os.environ.get("KEEL_BENCH_CF_DATABASE", "keel_bench_custom_fields")
SCALE = int(os.environ.get("KEEL_BENCH_SCALE", "10000"))
ROUNDS = int(os.environ.get("KEEL_BENCH_ROUNDS", "30"))
WARMUP_ROUNDS = 3
TARGET_MS = 50
START = "<!-- custom-fields-benchmark:start -->"
END = "<!-- custom-fields-benchmark:end -->"
REGIMES = ("PRA", "FCA", "ECB", "SEC", "none")

SCENARIOS = (
    ("Unfiltered first page", {}),
    ("Custom choice field (`cf_regime=PRA`)", {"cf_regime": "PRA"}),
    (
        "Custom date range (`cf_review_date_min/_max`, one quarter)",
        {"cf_review_date_min": "2027-01-01", "cf_review_date_max": "2027-03-31"},
    ),
    (
        "Both together",
        {
            "cf_regime": "PRA",
            "cf_review_date_min": "2027-01-01",
            "cf_review_date_max": "2027-03-31",
        },
    ),
)


def main() -> int:
    django.setup()
    from benchmarks._common import on_throwaway_database

    def run() -> int:
        seed_seconds = seed()
        results = [measure(label, params) for label, params in SCENARIOS]
        write_report(seed_seconds, results)
        for result in results:
            print(
                f"  {result['label']:60} median {result['median']:6.1f} ms  "
                f"p95 {result['p95']:6.1f} ms  {result['queries']} queries  "
                f"{result['matches']} rows"
            )
        unfiltered = results[0]["queries"]
        ok = all(r["median"] <= TARGET_MS and r["queries"] == unfiltered for r in results)
        return 0 if ok else 1

    return on_throwaway_database(BENCH_DATABASE, "benchmarks/custom_fields.py", run)


def seed() -> float:
    from django.db import connection

    from core.choices import Role
    from core.customfields import definition_create
    from core.models import BusinessUnit, Membership
    from portfolio.initiatives.models import Initiative, format_reference
    from tests.factories import UserFactory

    print(f"Seeding {SCALE:,} initiatives with 5 custom fields each…", flush=True)
    started = time.perf_counter()
    unit = BusinessUnit.objects.create(name="Retail Banking", code="RETAIL")
    admin = UserFactory(username="admin", is_superuser=True)
    reviewer = UserFactory(username="reviewer")
    Membership.objects.create(user=reviewer, business_unit=unit, role=Role.COE_REVIEWER)
    specs = (
        ("cost_centre", "Cost centre", "text", {}),
        ("regime", "Regulator", "choice", {"choices": list(REGIMES)}),
        ("review_date", "Next regulatory review", "date", {}),
        ("headcount", "Headcount", "integer", {}),
        ("sox_scope", "SOX scope", "boolean", {}),
    )
    for name, label, kind, rest in specs:
        definition_create(
            actor=admin,
            data={"entity": "initiative", "name": name, "label": label, "field_type": kind, **rest},
        )
    first = datetime.date(2026, 1, 1)
    rows = [
        Initiative(
            reference=format_reference(number + 1),
            title=f"Initiative {number + 1}",
            business_unit=unit,
            accountable_owner=reviewer,
            custom_fields={
                "cost_centre": f"CC-{1000 + number % 400}",
                "regime": REGIMES[number % len(REGIMES)],
                "review_date": (first + datetime.timedelta(days=number % 730)).isoformat(),
                "headcount": number % 50,
                "sox_scope": number % 3 == 0,
            },
        )
        for number in range(SCALE)
    ]
    Initiative.objects.bulk_create(rows, batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def _percentile(samples, pct: float) -> float:
    ordered = sorted(samples)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def measure(label: str, params: dict) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    print(f"  {label}…", flush=True)
    client = Client()
    client.force_login(get_user_model().objects.get(username="reviewer"))

    def fetch():
        response = client.get("/initiatives/", params)
        if response.status_code != 200:
            raise RuntimeError(f"GET /initiatives/ {params} → {response.status_code}")
        return response

    for _ in range(WARMUP_ROUNDS):
        fetch()
    samples = []
    for _ in range(ROUNDS):
        began = time.perf_counter()
        fetch()
        samples.append((time.perf_counter() - began) * 1000)
    with CaptureQueriesContext(connection) as captured:
        response = fetch()
    return {
        "label": label,
        "median": statistics.median(samples),
        "p95": _percentile(samples, 95),
        "queries": len(captured.captured_queries),
        "matches": response.context["page_obj"].paginator.count,
    }


def write_report(seed_seconds: float, results: list[dict]) -> None:
    from benchmarks._common import write_section
    from benchmarks.run import machine

    now = datetime.datetime.now(datetime.UTC)
    lines = [
        f"## Initiative list filtered by custom fields ({SCALE:,} initiatives, 5 fields each)",
        "",
        "Measured by `benchmarks/custom_fields.py` (run by `make bench`); regenerate, do not edit.",
        "",
        f"- **Date:** {now:%Y-%m-%d %H:%M} UTC",
        *(f"- **{key}:** {value}" for key, value in machine().items()),
        f"- **Seeding:** {SCALE:,} initiatives with `bulk_create`, {seed_seconds:.1f} s.",
        f"- **Method:** {WARMUP_ROUNDS} warm-up then {ROUNDS} timed `GET /initiatives/` (first "
        "page) per scenario through `django.test.Client` as a CoE reviewer, DEBUG off; queries "
        f"counted on one extra request. Targets: median ≤ {TARGET_MS} ms, filtered queries = "
        "unfiltered queries.",
        "",
        "| Scenario | Matching rows | Median ms | p95 ms | Queries |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {r['label']} | {r['matches']:,} | {r['median']:.1f} | {r['p95']:.1f} | "
            f"{r['queries']} |"
            for r in results
        ),
    ]
    write_section(START, END, lines)


if __name__ == "__main__":
    sys.exit(main())
