"""``manage.py escalate_overdue``: escalate every pending approval step past its SLA."""

from django.core.management.base import BaseCommand

from governance.approvals import escalation


class Command(BaseCommand):
    help = (
        "Escalate every pending approval step whose SLA has passed by one level (CoE admin, "
        "then risk officer, then executive) and notify the next approvers. Safe to run "
        "concurrently and repeatedly: each level is reached once. Celery beat runs the same "
        "every 15 minutes."
    )

    def handle(self, *args, **options):
        count = escalation.escalate_overdue()
        self.stdout.write(f"Escalated {count} overdue approval step{'s' if count != 1 else ''}.")
