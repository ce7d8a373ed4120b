from django.core.management.base import BaseCommand, CommandError

from core.audit import verify_audit_chain
from core.services import audit_verification_store


class Command(BaseCommand):
    help = "Verify the hash-chained audit log; exit non-zero naming the first bad row."

    def handle(self, *args, **options):
        report = verify_audit_chain()
        audit_verification_store(report)
        if not report.ok:
            raise CommandError(report.describe())
        self.stdout.write(self.style.SUCCESS(report.describe()))
