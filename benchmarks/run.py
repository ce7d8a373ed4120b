"""Benchmark the initiative lists on a 10,000-initiative organisation (``make bench``).

The run creates a throwaway PostgreSQL database (``keel_bench``, never the shared ``test``
databases), migrates it, seeds it with ``seed_demo --scale 10000``, times the HTML list and the
API for an executive and a BU member against a bare-SQL baseline, writes
``docs/benchmarks.md`` and drops the database. It exits non-zero when anything fails.

Environment: ``DATABASE_URL`` must point at PostgreSQL (its database name is not used; the
server is). ``KEEL_BENCH_DATABASE`` and ``KEEL_BENCH_SCALE`` override the database name and the
number of initiatives; ``KEEL_BENCH_ROUNDS`` the timed rounds per scenario.
"""

import datetime
import io
import math
import os
import platform
import statistics
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The settings refuse to start without a secret key unless in debug mode; timed requests run
# with DEBUG switched off again below (see setup_test_environment).
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

BENCH_DATABASE = os.environ.get("KEEL_BENCH_DATABASE", "keel_bench")
SCALE = int(os.environ.get("KEEL_BENCH_SCALE", "10000"))
WARMUP_ROUNDS = 5
ROUNDS = int(os.environ.get("KEEL_BENCH_ROUNDS", "60"))
PAGE_SIZE = 25
OUTPUT = ROOT / "docs" / "benchmarks.md"
SEARCH = {"q": "fraud", "stage": "pilot"}


@dataclass
class Scenario:
    """One timed request: who asks, for what, and the baseline it is compared with."""

    label: str
    username: str
    url_name: str
    params: dict
    kind: str  # "html" or "api"


@dataclass
class Result:
    scenario: Scenario
    samples: list = field(default_factory=list)
    queries: int = 0
    baseline: list = field(default_factory=list)
    rows: int = 0
    same_rows: bool = True

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples) * 1000

    @property
    def p95_ms(self) -> float:
        return percentile(self.samples, 95) * 1000

    @property
    def baseline_ms(self) -> float:
        return statistics.median(self.baseline) * 1000

    @property
    def ratio(self) -> float:
        return self.median_ms / self.baseline_ms


SCENARIOS = (
    Scenario("HTML list, executive, page 1", "exec", "portfolio:initiative_list", {}, "html"),
    Scenario("HTML list, executive, `q=fraud&stage=pilot`", "exec",
             "portfolio:initiative_list", SEARCH, "html"),
    Scenario("HTML list, BU member, page 1", "member", "portfolio:initiative_list", {}, "html"),
    Scenario("HTML list, BU member, `q=fraud&stage=pilot`", "member",
             "portfolio:initiative_list", SEARCH, "html"),
    Scenario("API list, executive, page 1", "exec", "initiative-list", {}, "api"),
    Scenario("API list, executive, `q=fraud&stage=pilot`", "exec", "initiative-list",
             SEARCH, "api"),
    Scenario("API list, BU member, page 1", "member", "initiative-list", {}, "api"),
    Scenario("API list, BU member, `q=fraud&stage=pilot`", "member", "initiative-list",
             SEARCH, "api"),
)  # fmt: skip


def percentile(samples, pct: float) -> float:
    """Nearest-rank percentile: the smallest sample at or above ``pct`` % of the samples."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def main() -> int:
    """Run the whole benchmark; 0 on success, 1 on any failure, 2 when not on PostgreSQL."""
    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    if connection.vendor != "postgresql":
        print("benchmarks/run.py needs PostgreSQL: set DATABASE_URL=postgres://…", file=sys.stderr)
        return 2
    if BENCH_DATABASE in {"test", "test_test", connection.settings_dict["NAME"]}:
        print(f"Refusing to use {BENCH_DATABASE!r}: it is shared.", file=sys.stderr)
        return 2
    connection.settings_dict["TEST"]["NAME"] = BENCH_DATABASE
    original_name = connection.settings_dict["NAME"]
    # Timed requests run as in production: DEBUG off, so no query logging in the cursor.
    setup_test_environment(debug=False)
    created = False
    started = time.perf_counter()
    try:
        print(f"Creating and migrating database {BENCH_DATABASE!r}…", flush=True)
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        created = True
        seed_seconds, counts = seed()
        results = [measure(scenario) for scenario in SCENARIOS]
        write_report(seed_seconds, counts, results)
        print_table(results)
        print(f"Wrote {OUTPUT.relative_to(ROOT)} in {time.perf_counter() - started:.0f} s.")
        return 0
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        if created:
            connection.creation.destroy_test_db(original_name, verbosity=0)
            print(f"Dropped database {BENCH_DATABASE!r}.")
        teardown_test_environment()


def seed() -> tuple[float, dict]:
    """Run ``seed_demo --scale`` and return its wall time and the resulting row counts."""
    from django.core.management import call_command
    from django.db import connection

    from inventory.gpu.models import GPUAllocation, GPUPool
    from inventory.registry.models import AIModel
    from portfolio.initiatives.models import Deployment, Initiative, StageChange

    print(f"Seeding {SCALE:,} initiatives…", flush=True)
    started = time.perf_counter()
    call_command("seed_demo", scale=SCALE, stdout=io.StringIO())
    seconds = time.perf_counter() - started
    print(f"Seeded in {seconds:.1f} s.", flush=True)
    # Fresh bulk inserts have no planner statistics yet; autovacuum would gather them within
    # minutes on a real server, so gather them now rather than time plans built blind.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    counts = {
        "initiatives": Initiative.objects.count(),
        "stage changes": StageChange.objects.count(),
        "deployments": Deployment.objects.count(),
        "AI models": AIModel.objects.count(),
        "GPU pools": GPUPool.objects.count(),
        "GPU allocations": GPUAllocation.objects.count(),
    }
    return seconds, counts


def measure(scenario: Scenario) -> Result:
    """Time the request and its bare-SQL baseline; count the request's queries."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    print(f"  {scenario.label}…", flush=True)
    user = get_user_model().objects.get(username=scenario.username)
    client = Client()
    client.force_login(user)
    url = reverse(scenario.url_name)
    result = Result(scenario)

    def fetch():
        response = client.get(url, scenario.params)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} {scenario.params} → {response.status_code}")
        return response

    page_sql, page_params, count_sql, count_params = baseline_sql(user, scenario.params)

    def bare():
        with connection.cursor() as cursor:
            cursor.execute(page_sql, page_params)
            rows = cursor.fetchall()
            columns = [column.name for column in cursor.description]
            cursor.execute(count_sql, count_params)
            total = cursor.fetchone()[0]
        return rows, columns, total

    for _ in range(WARMUP_ROUNDS):
        fetch()
        bare()
    # Page and baseline alternate, so both see the same machine load and the ratio holds
    # even on a busy machine.
    for _ in range(ROUNDS):
        began = time.perf_counter()
        fetch()
        result.samples.append(time.perf_counter() - began)
        began = time.perf_counter()
        bare()
        result.baseline.append(time.perf_counter() - began)
    with CaptureQueriesContext(connection) as captured:
        response = fetch()
    result.queries = len(captured.captured_queries)
    rows, columns, total = bare()
    result.rows = total
    # i.* comes first, so the first "id" and "reference" columns are the initiative's.
    ids = [row[columns.index("id")] for row in rows]
    references = [row[columns.index("reference")] for row in rows]
    result.same_rows = same_rows(scenario, response, ids, references, total)
    if not result.same_rows:
        print(f"    WARNING: the baseline's rows differ from the {scenario.kind} response")
    return result


def baseline_sql(user, params) -> tuple[str, list, str, list]:
    """The bare SQL for the page the view shows: 25 initiatives joined to their business unit
    and accountable owner, newest first, scoped as
    ``portfolio.initiatives.selectors.scope_initiatives``
    scopes them and filtered as ``InitiativeFilterSet`` filters them, plus the paginator's
    ``COUNT(*)``."""
    from django.contrib.auth import get_user_model

    from core.models import BusinessUnit
    from core.permissions import business_unit_ids, reads_whole_organisation
    from portfolio.initiatives.models import Deployment, Initiative

    initiative = Initiative._meta.db_table
    unit = BusinessUnit._meta.db_table
    owner = get_user_model()._meta.db_table
    deployment = Deployment._meta.db_table
    where, args = ["TRUE"], []
    if not reads_whole_organisation(user):
        units = sorted(business_unit_ids(user))
        where.append(
            f"(i.business_unit_id = ANY(%s) OR EXISTS (SELECT 1 FROM {deployment} d "
            "WHERE d.initiative_id = i.id AND d.business_unit_id = ANY(%s)))"
        )
        args += [units, units]
    if params.get("q"):
        # Django's icontains on PostgreSQL: UPPER(column::text) LIKE UPPER(pattern).
        columns = ("reference", "title", "purpose", "tags")
        where.append("(" + " OR ".join(f"UPPER(i.{c}::text) LIKE UPPER(%s)" for c in columns) + ")")
        args += [f"%{params['q']}%"] * len(columns)
    if params.get("stage"):
        where.append("i.stage = ANY(%s)")
        args.append([params["stage"]])
    condition = " AND ".join(where)
    page = (
        f"SELECT i.*, bu.*, u.* FROM {initiative} i "
        f"JOIN {unit} bu ON bu.id = i.business_unit_id "
        f"JOIN {owner} u ON u.id = i.accountable_owner_id "
        f"WHERE {condition} ORDER BY i.created_at DESC, i.id DESC LIMIT {PAGE_SIZE}"
    )
    count = f"SELECT COUNT(*) FROM {initiative} i WHERE {condition}"
    return page, args, count, list(args)


def same_rows(scenario: Scenario, response, ids, references, total: int) -> bool:
    """Whether the baseline found the rows the response shows: the same ids in the same order
    and the same total for the API; every reference of the baseline page for the HTML page."""
    if scenario.kind == "api":
        body = response.json()
        return body["count"] == total and [row["id"] for row in body["results"]] == ids
    content = response.content.decode()
    return all(reference in content for reference in references)


def machine() -> dict:
    """Versions and hardware the figures were measured on."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    cpu = platform.processor() or platform.machine()
    memory = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
                break
    except OSError:
        pass
    return {
        "Python": platform.python_version(),
        "Django": django.get_version(),
        "PostgreSQL": postgres,
        "CPU": f"{cpu}, {os.cpu_count()} cores" + (f", {memory}" if memory else ""),
        "OS": platform.platform(),
        "Load average at the end (1/5/15 min)": " / ".join(
            f"{value:.2f}" for value in os.getloadavg()
        ),
    }


def write_report(seed_seconds: float, counts: dict, results: list[Result]) -> None:
    """Write docs/benchmarks.md with the run's figures."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmarks",
        "",
        "Initiative list performance on a large organisation, measured by `make bench` "
        "(`benchmarks/run.py`). Regenerate this file with `make bench`; do not edit the "
        "figures by hand.",
        "",
        f"- **Date:** {now}",
        *(f"- **{name}:** {value}" for name, value in machine().items()),
        f"- **Seeding:** `seed_demo --scale {SCALE}` (base demo plus {SCALE:,} initiatives) "
        f"took **{seed_seconds:.1f} s** into an empty database.",
        "- **Data:** " + ", ".join(f"{value:,} {name}" for name, value in counts.items()) + ".",
        f"- **Method:** {WARMUP_ROUNDS} warm-up then {ROUNDS} timed requests per scenario "
        "through `django.test.Client` (full middleware, session auth, template or JSON "
        "rendering; no network), `DEBUG` off, each request followed by one run of its "
        "baseline so both see the same machine load; queries counted on one extra request. "
        "Absolute times vary with load (see the load average); the ratios are steadier.",
        "",
        "| Scenario | Matching rows | Median ms | p95 ms | Queries | Baseline median ms | Ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        rows = f"{result.rows:,}" + ("" if result.same_rows else " ⚠")
        lines.append(
            f"| {result.scenario.label} | {rows} | {result.median_ms:.1f} | "
            f"{result.p95_ms:.1f} | {result.queries} | {result.baseline_ms:.2f} | "
            f"{result.ratio:.1f}× |"
        )
    lines += [
        "",
        "The executive reads the whole organisation; the BU member (`member`, Retail Banking) "
        "sees their unit's initiatives and those deployed to it. *Matching rows* is the "
        "total the paginator counts.",
        "",
        "**Baseline and reproduction.** Run `make bench` (PostgreSQL on 127.0.0.1:5432): it "
        f"creates the throwaway database `{BENCH_DATABASE}`, migrates it, seeds it, runs "
        "`ANALYZE`, measures, rewrites this file and drops the database, in about a "
        "minute. The baseline is the least work any implementation must do for the same "
        "page: two hand-written SQL statements on a raw cursor, the 25 rows of the page "
        "(initiatives joined to their business unit and accountable owner, same scope and "
        "filters, `ORDER BY created_at DESC, id DESC LIMIT 25`) and the `COUNT(*)` the "
        "paginator runs, fetched but not turned into objects. *Ratio* is the page's median "
        "over the baseline's median: the cost of Django (routing, middleware, session and "
        "user look-ups, ORM, filter form, template or serializer) on top of the database "
        "work. A ⚠ marks a scenario whose baseline rows differed from what the response "
        "showed.",
        "",
    ]
    OUTPUT.write_text("\n".join(lines))


def print_table(results: list[Result]) -> None:
    print(f"\n{'scenario':48} {'median':>8} {'p95':>8} {'queries':>8} {'base':>8} {'ratio':>6}")
    for result in results:
        print(
            f"{result.scenario.label:48} {result.median_ms:8.1f} {result.p95_ms:8.1f} "
            f"{result.queries:8d} {result.baseline_ms:8.2f} {result.ratio:6.1f}"
        )


if __name__ == "__main__":
    sys.exit(main())
