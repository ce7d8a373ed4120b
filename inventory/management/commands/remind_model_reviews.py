"""``manage.py remind_model_reviews``: send the model review reminders due today."""

from django.core.management.base import BaseCommand

from core.commands import iso_date
from inventory.registry import services as model_services
from inventory.registry.choices import ReminderKind


class Command(BaseCommand):
    help = (
        "Send the review reminders of approved and production model versions: 30 and 7 days "
        "before the next validation is due (to the model's owner) and an escalation once it "
        "is overdue (owner, CoE admins and risk officers). Each goes out once, however often "
        "or concurrently this runs. Celery beat runs the same nightly."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--today",
            type=iso_date,
            default=None,
            help="Run as if today were this date (YYYY-MM-DD), e.g. to check a schedule.",
        )

    def handle(self, *args, **options):
        sent = model_services.model_reviews_remind(today=options["today"])
        for kind in ReminderKind:
            self.stdout.write(f"{kind.label}: {sent.get(kind.value, 0)}")
        total = sum(sent.values())
        self.stdout.write(f"Sent {total} review reminder{'s' if total != 1 else ''}.")
