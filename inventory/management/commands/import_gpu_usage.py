"""``manage.py import_gpu_usage FILE… --user USERNAME``: import GPU usage files through the
ingest engine (``inventory.usage.services.batches.ingest_file``)."""

from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.commands import user_named
from inventory.usage.choices import IngestKind
from inventory.usage.parsers import ParseError
from inventory.usage.services.batches import USAGE_KINDS, detect_kind, ingest_file


def run_import(command, options, *, kinds, fixed_kind=None) -> None:
    """Import each file as ``options["user"]``; print each summary, or every line error and
    fail. Shared by import_gpu_usage and import_focus_costs."""
    actor = user_named(options["user"])
    failed = False
    for name in options["files"]:
        path = Path(name)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{name}: {exc.strerror or exc}") from None
        kind = fixed_kind or options.get("kind") or detect_kind(path.name, content)
        if kind not in kinds:
            raise CommandError(f"{name}: {kind!r} files are not imported by this command.")
        try:
            batch = ingest_file(
                actor=actor,
                kind=kind,
                filename=path.name,
                content=content,
                options={
                    name: options[name]
                    for name in ("time_origin", "observed_at")
                    if options.get(name)
                },
            )
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        except ValidationError as exc:
            raise CommandError(f"{name}: {' '.join(exc.messages)}") from None
        except ParseError as exc:
            failed = True
            command.stderr.write(f"{name}: {len(exc.errors)} error(s), nothing imported:")
            for line, message in exc.errors:
                command.stderr.write(f"line {line}: {message}" if line is not None else message)
            continue
        label = IngestKind(kind).label
        if batch.already_imported:
            command.stdout.write(
                f"{name}: already imported on {batch.created_at:%Y-%m-%d %H:%M} UTC "
                f"(batch {batch.pk}); nothing written."
            )
            continue
        command.stdout.write(
            f"{name}: Imported as {label} (batch {batch.pk}): "
            f"{batch.rows_read} read, {batch.rows_written} written."
        )
        for key, value in batch.summary.items():
            command.stdout.write(f"  {key.replace('_', ' ')}: {value}")
    if failed:
        raise CommandError("Some files had errors; they were not imported.")


class Command(BaseCommand):
    help = (
        "Import GPU usage: dcgm-exporter scrapes (Prometheus text), Prometheus query_range "
        "JSON, Slurm `sacct -P` output, the usage CSV, Kubernetes pod lists (CSV/JSON, e.g. "
        "the openb pod trace) or OpenCost allocation JSON. The kind is detected from each file "
        "unless --kind is given. A file already imported is reported and skipped; a malformed "
        "one is listed line by line and nothing of it is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="Files to import.")
        parser.add_argument(
            "--user", required=True, help="Username the import is made as (a platform engineer)."
        )
        parser.add_argument(
            "--kind", choices=[str(kind) for kind in USAGE_KINDS], help="The files' format."
        )
        parser.add_argument(
            "--time-origin",
            dest="time_origin",
            help="Kubernetes pods: the ISO 8601 time that times written in seconds count from "
            "(default the Unix epoch; a trace's start for traces in relative seconds).",
        )
        parser.add_argument(
            "--observed-at",
            dest="observed_at",
            help="Kubernetes pods: when the list was taken; running pods count up to it "
            "(default the latest time in the file).",
        )

    def handle(self, *args, **options):
        run_import(self, options, kinds=USAGE_KINDS)
