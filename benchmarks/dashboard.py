"""Benchmark the executive dashboard on a 10,000-initiative organisation (part of ``make bench``).

The run creates a throwaway PostgreSQL database (``keel_bench_dashboard``, never the shared
``test`` databases), migrates it, seeds it with ``seed_demo`` (assessments, approvals, usage
and chargeback through the services) then ``seed_demo --scale 10000`` (10,000 initiatives
more), runs ``ANALYZE``, then
times ``GET /dashboard/`` through ``django.test.Client`` (full middleware, session auth,
template and SVG rendering, DEBUG off):

* the executive, every business unit, the figures computed afresh (cache off);
* the executive, the figures read from the cache (the warm path);
* the BU lead (``lead``), their unit only, cache off;

and counts each request's queries (target: ≤ 12). It also times one board-pack PDF render
(``governance.reporting.services.render_board_pack``, what the Celery task does) for the executive.
The section between the ``dashboard-benchmark`` markers of ``docs/benchmarks.md`` is
replaced (the rest of the file is kept) and the database dropped. Exits non-zero when
anything fails or the cold executive page needs more than 12 queries.

Environment: ``DATABASE_URL`` must point at PostgreSQL. ``KEEL_BENCH_DASHBOARD_DATABASE``,
``KEEL_BENCH_SCALE`` and ``KEEL_BENCH_ROUNDS`` override the database name, the number of
initiatives and the timed rounds.
"""

import datetime
import io
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

BENCH_DATABASE = os.environ.get("KEEL_BENCH_DASHBOARD_DATABASE", "keel_bench_dashboard")
SCALE = int(os.environ.get("KEEL_BENCH_SCALE", "10000"))
ROUNDS = int(os.environ.get("KEEL_BENCH_ROUNDS", "30"))
WARMUP_ROUNDS = 3
QUERY_TARGET = 12
START = "<!-- dashboard-benchmark:start -->"
END = "<!-- dashboard-benchmark:end -->"

# (label, username, cached)
SCENARIOS = (
    ("Executive, all business units, computed afresh", "exec", False),
    ("Executive, all business units, from the cache", "exec", True),
    ("BU lead, own unit, computed afresh", "lead", False),
)


def main() -> int:
    django.setup()
    from benchmarks._common import on_throwaway_database

    def run() -> int:
        seed_seconds, initiatives = seed()
        results = [measure(*scenario) for scenario in SCENARIOS]
        pdf = board_pack()
        write_report(seed_seconds, initiatives, results, pdf)
        for result in results:
            print(
                f"  {result['label']:52} median {result['median']:7.1f} ms  "
                f"p95 {result['p95']:7.1f} ms  {result['queries']} queries"
            )
        print(f"  Board pack PDF: {pdf['seconds']:.1f} s, {pdf['pages']} pages")
        return 0 if results[0]["queries"] <= QUERY_TARGET else 1

    return on_throwaway_database(BENCH_DATABASE, "benchmarks/dashboard.py", run)


def seed() -> tuple[float, int]:
    from django.core.management import call_command
    from django.db import connection

    from portfolio.initiatives.models import Initiative

    print(f"Seeding the demo, then {SCALE:,} more initiatives…", flush=True)
    started = time.perf_counter()
    # The base demo through the services first (assessments, approvals, usage, chargeback:
    # the --scale run skips those), then the large organisation on top of it.
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", scale=SCALE, stdout=io.StringIO())
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return seconds, Initiative.objects.count()


def _percentile(samples, pct: float) -> float:
    ordered = sorted(samples)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def measure(label: str, username: str, cached: bool) -> dict:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    print(f"  {label}…", flush=True)
    settings.KEEL_DASHBOARD_CACHE_SECONDS = 300 if cached else 0
    cache.clear()
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))

    def fetch():
        response = client.get("/dashboard/")
        if response.status_code != 200:
            raise RuntimeError(f"GET /dashboard/ as {username} → {response.status_code}")
        return response

    for _ in range(WARMUP_ROUNDS):
        fetch()
    samples = []
    for _ in range(ROUNDS):
        began = time.perf_counter()
        fetch()
        samples.append((time.perf_counter() - began) * 1000)
    with CaptureQueriesContext(connection) as captured:
        fetch()
    return {
        "label": label,
        "median": statistics.median(samples),
        "p95": _percentile(samples, 95),
        "queries": len(captured.captured_queries),
    }


def board_pack() -> dict:
    from django.contrib.auth import get_user_model
    from pypdf import PdfReader

    from governance.reporting.panels import DashboardFilters
    from governance.reporting.services import render_board_pack

    print("  Board pack PDF…", flush=True)
    user = get_user_model().objects.get(username="exec")
    began = time.perf_counter()
    pdf = render_board_pack(user=user, filters=DashboardFilters())
    seconds = time.perf_counter() - began
    return {"seconds": seconds, "pages": len(PdfReader(io.BytesIO(pdf)).pages), "bytes": len(pdf)}


def write_report(seed_seconds: float, initiatives: int, results: list[dict], pdf: dict) -> None:
    from benchmarks._common import write_section
    from benchmarks.run import machine

    now = datetime.datetime.now(datetime.UTC)
    lines = [
        f"## Executive dashboard ({initiatives:,} initiatives)",
        "",
        "Measured by `benchmarks/dashboard.py` (run by `make bench`); regenerate, do not edit.",
        "",
        f"- **Date:** {now:%Y-%m-%d %H:%M} UTC",
        *(f"- **{key}:** {value}" for key, value in machine().items()),
        f"- **Seeding:** `seed_demo` then `seed_demo --scale {SCALE}` took {seed_seconds:.1f} s.",
        f"- **Method:** {WARMUP_ROUNDS} warm-up then {ROUNDS} timed `GET /dashboard/` per "
        "scenario through `django.test.Client` (full middleware, session auth, every panel, "
        "SVG charts and data tables rendered), DEBUG off; queries counted on one extra "
        f"request (target ≤ {QUERY_TARGET}).",
        "",
        "| Scenario | Median ms | p95 ms | Queries |",
        "|---|---:|---:|---:|",
        *(
            f"| {r['label']} | {r['median']:.1f} | {r['p95']:.1f} | {r['queries']} |"
            for r in results
        ),
        "",
        f"Board pack PDF for the executive (figures, charts and WeasyPrint, as the Celery task "
        f"does it): **{pdf['seconds']:.1f} s**, {pdf['pages']} pages, "
        f"{pdf['bytes'] / 1024:.0f} KiB.",
        "",
        "The query count is the same for 20 and 2,000 initiatives "
        "(`tests/governance/reporting/test_dashboard_figures.py` pins it); it does not grow "
        "with rows.",
    ]
    write_section(START, END, lines)


if __name__ == "__main__":
    sys.exit(main())
