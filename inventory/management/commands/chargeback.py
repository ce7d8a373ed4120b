"""``manage.py chargeback compute|close|reopen YYYY-MM``: the month's GPU chargeback."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.commands import user_named
from inventory.finops.choices import IdleSharePolicy
from inventory.finops.services.chargeback import (
    chargeback_close,
    chargeback_compute,
    chargeback_reopen,
)


def _month(value: str) -> datetime.date:
    try:
        return datetime.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise CommandError(f"Expected a month as YYYY-MM, not {value!r}.") from None


class Command(BaseCommand):
    help = (
        "Compute (open months only), close (freeze) or reopen (with --reason) a month's GPU "
        "chargeback. close and reopen are recorded under --as USERNAME, who must be a "
        "platform engineer or CoE admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["compute", "close", "reopen"])
        parser.add_argument("month", type=_month, help="YYYY-MM")
        parser.add_argument("--policy", choices=IdleSharePolicy.values, default=None)
        parser.add_argument("--reason", default="")
        parser.add_argument(
            "--user", "--as", dest="username", default=None, help="act as USERNAME (audited)"
        )

    def handle(self, *args, **options):
        actor = None
        if options["username"]:
            actor = user_named(options["username"])
        elif options["action"] != "compute":
            raise CommandError("close and reopen need --user USERNAME.")
        month = options["month"]
        try:
            if options["action"] == "compute":
                row = chargeback_compute(month=month, policy=options["policy"], actor=actor)
            elif options["action"] == "close":
                row = chargeback_close(actor=actor, month=month)
            else:
                row = chargeback_reopen(actor=actor, month=month, reason=options["reason"])
        except (ValidationError, PermissionDenied) as error:
            messages = getattr(error, "messages", None) or [str(error)]
            raise CommandError(" ".join(messages)) from None
        self.stdout.write(
            f"Chargeback {row.month:%Y-%m}: {row.get_status_display()}, policy {row.policy}, "
            f"{row.lines.count()} lines."
        )
