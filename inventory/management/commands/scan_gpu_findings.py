"""``manage.py scan_gpu_findings``: run the GPU waste findings scan now."""

from django.core.management.base import BaseCommand

from core.commands import iso_date
from inventory.finops.services.findings import findings_scan


class Command(BaseCommand):
    help = (
        "Open, update and resolve the GPU findings (idle, orphaned, over-provisioned, unused "
        "reservations, expiring). Safe to repeat: one open finding per subject, each notified "
        "once. Celery beat runs the same nightly; defaults come from KEEL_FINOPS."
    )

    def add_arguments(self, parser):
        parser.add_argument("--today", type=iso_date, default=None, help="Run as of YYYY-MM-DD.")
        parser.add_argument("--threshold", type=float, default=None, help="Idle share, 0–1.")
        parser.add_argument("--window-days", type=int, default=None, help="Idle window.")

    def handle(self, *args, **options):
        counts = findings_scan(
            today=options["today"],
            threshold=options["threshold"],
            window_days=options["window_days"],
        )
        for kind, figures in counts.items():
            self.stdout.write(
                f"{kind}: {figures['opened']} opened, {figures['updated']} updated, "
                f"{figures['resolved']} resolved"
            )
