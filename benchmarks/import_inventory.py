"""Benchmark the bulk inventory import on 2,000 rows (part of ``make bench``; target < 10 s).

The run creates a throwaway PostgreSQL database (``keel_bench_import``, never the shared
``test`` databases), migrates it, creates 12 business units and 200 people, generates a
``keel``-preset CSV of 2,000 initiatives (dates in three formats, federal and Keel stage
names, 5 % unknown owners who become placeholders, 10 % rights- or safety-impacting rows that
get a Tier 3 assessment, a model (40 names, new to Keel) and a deployment per row) and times,
through ``governance.imports.services`` as the upload page and the Celery task call it:

1. upload + dry run (``import_job_create`` + ``import_job_preview``: read, map, plan, and
   the rehearsal of every write in a savepoint that is rolled back);
2. the import (``import_job_run``: the plan rebuilt inside the transaction, then every write
   and audit event, one transaction);
3. the dry run of the same file again (2,000 × skip) and 4. an import of the file with every
   stage changed (2,000 updates).

The portfolio change hooks (controls evaluation, duplicate detection, orphaned-allocation
check) are Celery tasks enqueued after commit, one per initiative written; they run in the
worker, not in the import, so the benchmark counts them instead of running them eagerly.
The section between the ``import-benchmark`` markers of ``docs/benchmarks.md`` is replaced
(the rest of the file is kept) and the database dropped. Exits non-zero when anything fails.

Environment: ``DATABASE_URL`` must point at PostgreSQL (its database name is not used; the
server is). ``KEEL_BENCH_IMPORT_DATABASE`` overrides the database name,
``KEEL_BENCH_IMPORT_ROWS`` the number of rows.
"""

import csv
import datetime
import io
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

BENCH_DATABASE = os.environ.get("KEEL_BENCH_IMPORT_DATABASE", "keel_bench_import")
ROWS = int(os.environ.get("KEEL_BENCH_IMPORT_ROWS", "2000"))
UNITS = 12
PEOPLE = 200
TARGET_SECONDS = 10.0
START = "<!-- import-benchmark:start -->"
END = "<!-- import-benchmark:end -->"


def main() -> int:
    django.setup()
    from benchmarks._common import on_throwaway_database

    def run() -> int:
        actor = setup()
        result = measure(actor)
        write_report(result)
        print_result(result)
        return 0 if result["import"] < TARGET_SECONDS else 1

    return on_throwaway_database(BENCH_DATABASE, "benchmarks/import_inventory.py", run)


def setup():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from core.models import BusinessUnit
    from governance.risk.services import active_questionnaire

    active_questionnaire()  # the default library, as on every installation
    BusinessUnit.objects.bulk_create(
        [BusinessUnit(name=f"Unit {n:02d}", code=f"U{n:02d}") for n in range(UNITS)]
    )
    password = make_password("bench-only")
    User = get_user_model()
    User.objects.bulk_create(
        [
            User(
                username=f"person{n:03d}",
                email=f"person{n:03d}@example.com",
                first_name="Person",
                last_name=f"Number{n:03d}",
                password=password,
            )
            for n in range(PEOPLE)
        ]
    )
    return User.objects.create_superuser("bench-importer", "bench@example.com", "bench-only")


STAGES = (
    "Operation and Maintenance",
    "pilot",
    "Initiated",
    "Implementation and Assessment",
    "proposed",
    "In production",
)
OTHER_STAGES = ("retired", "scaled", "paused", "draft", "rejected", "Retired")


def generate(stages=STAGES) -> bytes:
    from governance.imports.export_rows import keel_header

    header = keel_header()
    index = {name: position for position, name in enumerate(header)}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    base = datetime.date(2022, 1, 3)
    for n in range(ROWS):
        row = [""] * len(header)
        day = base + datetime.timedelta(days=n % 700)
        date_text = (
            f"{day.month}/{day.day}/{day.year}",
            day.isoformat(),
            day.replace(day=1).strftime("%b %Y"),
        )[n % 3]
        owner = f"Unknown Person {n}" if n % 20 == 0 else f"person{n % PEOPLE:03d}"
        values = {
            "External ID": f"BENCH-{n:05d}",
            "Title": f"Use case {n}: {('claims', 'fraud', 'forecast', 'triage')[n % 4]}",
            "Business unit": f"U{n % UNITS:02d}",
            "Purpose": f"Purpose of use case {n}, with a sentence or two of detail.\nSecond line.",
            "Outputs": "Scores and explanations.",
            "Category": ("Pattern recognition", "generation", "Mission-Enabling")[n % 3],
            "Stage": stages[n % len(stages)],
            "Initiated on": date_text,
            "Accountable owner": owner,
            "Technical lead": f"person{(n * 7) % PEOPLE:03d}@example.com",
            "Uses PII": ("yes", "no")[n % 2],
            "Developed": ("in_house", "Developed with contracting resources")[n % 2],
            "Rights/safety impact": ("Rights-impacting", "Safety-impacting")[n % 2]
            if n % 10 == 0
            else "Neither",
            "Tags": "bench, import",
            "Models": f"Bench model {n % 40}",
            "Deployed in": f"U{(n + 1) % UNITS:02d}",
        }
        for name, value in values.items():
            row[index[name]] = value
        writer.writerow(row)
    return buffer.getvalue().encode()


def measure(actor) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from benchmarks._common import counted_change_hooks, timed, verified_audit_events
    from governance.imports import services as imports
    from governance.imports.choices import ImportStatus
    from governance.imports.models import ImportJob

    def preview(content, name):
        job = imports.import_job_create(actor=actor, filename=name, content=content)
        report = imports.import_job_preview(actor=actor, job=job, mapping=job.mapping, options={})
        return job, report

    def run(job):
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
        with CaptureQueriesContext(connection) as queries:
            done = imports.import_job_run(job.pk)
        if done.status != ImportStatus.SUCCEEDED:
            raise RuntimeError(f"import failed: {done.error}")
        return done, len(queries)

    with counted_change_hooks() as hook_calls:
        content = generate()
        (job, report), preview_seconds = timed(preview, content, "bench.csv")
        (done, queries), import_seconds = timed(run, job)
        created_hooks = len(hook_calls)
        (_, again), again_seconds = timed(preview, content, "bench.csv")
        changed = generate(OTHER_STAGES)
        (update_job, update_report), update_preview_seconds = timed(preview, changed, "b2.csv")
        (updated, update_queries), update_seconds = timed(run, update_job)
    audit_events = verified_audit_events()
    return {
        "rows": ROWS,
        "bytes": len(content),
        "preview": preview_seconds,
        "counts": report["counts"],
        "warnings": len(report["warnings"]),
        "import": import_seconds,
        "import_queries": queries,
        "result": {key: len(value) for key, value in done.result.items() if key != "counts"},
        "hooks": created_hooks,
        "again": again_seconds,
        "again_counts": again["counts"],
        "update_preview": update_preview_seconds,
        "update_counts": update_report["counts"],
        "update": update_seconds,
        "update_queries": update_queries,
        "audit_events": audit_events,
    }


def _counts(counts: dict) -> str:
    return ", ".join(f"{value:,} {action}" for action, value in counts.items() if value)


def write_report(result: dict) -> None:
    from benchmarks._common import write_section
    from benchmarks.run import machine

    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    made = result["result"]
    verdict = "under" if result["import"] < TARGET_SECONDS else "OVER"
    lines = [
        f"## Bulk inventory import ({result['rows']:,} rows)",
        "",
        "Measured by `benchmarks/import_inventory.py` (run by `make bench`); regenerate, do "
        "not edit.",
        "",
        f"- **Date:** {now}",
        *(f"- **{name}:** {value}" for name, value in machine().items()),
        f"- **File:** `keel` preset CSV, {result['rows']:,} initiatives in {UNITS} business "
        f"units, {result['bytes'] / 1e6:.2f} MB: dates in three formats, federal and Keel stage "
        "names, multi-line purposes, 5 % unknown owners (placeholders), 10 % rights- or "
        "safety-impacting (Tier 3 assessments), one model (40 names, new to Keel) and one "
        "deployment per row.",
        f"- **Written by the import:** {made['created']:,} initiatives, "
        f"{made['placeholders_created']} placeholder people, {made['models_created']} models, "
        f"and their stage history, model links, deployments, assessments and "
        f"{result['audit_events']:,} audit events in the chain (verified after the run).",
        "",
        "| Step | Seconds | Rows/s | Queries |",
        "|---|---:|---:|---:|",
        f"| Upload + dry run (read, map, plan, rehearse the writes and roll back: "
        f"{_counts(result['counts'])}) | "
        f"{result['preview']:.2f} | "
        f"{result['rows'] / result['preview']:,.0f} | |",
        f"| **Import** (`import_job_run`: plan again + every write, one transaction) | "
        f"**{result['import']:.2f}** | {result['rows'] / result['import']:,.0f} | "
        f"{result['import_queries']} |",
        f"| Dry run of the same file again ({_counts(result['again_counts'])}) | "
        f"{result['again']:.2f} | "
        f"{result['rows'] / result['again']:,.0f} | |",
        f"| Dry run of the file with every stage changed ({_counts(result['update_counts'])}) | "
        f"{result['update_preview']:.2f} | {result['rows'] / result['update_preview']:,.0f} | |",
        f"| Import of those {result['update_counts']['update']:,} updates | "
        f"{result['update']:.2f} | {result['rows'] / result['update']:,.0f} | "
        f"{result['update_queries']} |",
        "",
        f"**{result['import']:.1f} s for {result['rows']:,} rows: {verdict} the 10 s target.** "
        "The query count does not depend on the number of rows except through batches of 500 "
        f"rows. After commit the import enqueues {result['hooks']:,} portfolio change-hook "
        "calls (controls evaluation, duplicate detection) for the Celery worker; they are "
        "counted, not run, here.",
    ]
    write_section(START, END, lines)


def print_result(result: dict) -> None:
    for key, value in result.items():
        print(f"{key}: {value:.2f}" if isinstance(value, float) else f"{key}: {value}")


if __name__ == "__main__":
    sys.exit(main())
