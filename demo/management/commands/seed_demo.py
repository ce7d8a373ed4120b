"""``manage.py seed_demo [--scale N]``: build (or complete) the demo organisation."""

from django.core.management.base import BaseCommand, CommandError

from demo.organisation import seed_demo


class Command(BaseCommand):
    help = (
        "Create a believable demo organisation: business units, a login per role, about 120 "
        "initiatives, 40 models and 200 GPU allocations. Idempotent: a second run creates "
        "nothing. --scale N adds N more initiatives (and proportional models, pools and "
        "allocations) for benchmarks."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=int,
            default=0,
            metavar="N",
            help="Also build a large organisation of N initiatives (bulk inserts).",
        )

    def handle(self, *args, scale: int = 0, **options):
        if scale < 0:
            raise CommandError("--scale must be zero or a positive number of initiatives.")
        report = seed_demo(scale=scale)
        self.stdout.write(report.render())
