"""``manage.py import_focus_costs FILE… --user USERNAME``: import FinOps FOCUS cost exports
through the ingest engine."""

from django.core.management.base import BaseCommand

from inventory.management.commands.import_gpu_usage import run_import
from inventory.usage.choices import IngestKind


class Command(BaseCommand):
    help = (
        "Import FinOps FOCUS (1.0–1.3) cost exports. A file already imported is reported and "
        "skipped; a malformed one is listed line by line and nothing of it is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="FOCUS CSV files to import.")
        parser.add_argument(
            "--user", required=True, help="Username the import is made as (a platform engineer)."
        )

    def handle(self, *args, **options):
        run_import(self, options, kinds=(IngestKind.FOCUS,), fixed_kind=IngestKind.FOCUS)
