"""``manage.py board_pack --output FILE.pdf [--bu CODE] [--months N] [--as USERNAME]``: the
board-pack PDF from the command line, rendered synchronously by the same code as the
background task (``governance.reporting.services.board_pack_pdf``).

Whose view: a board pack always shows what one reader may see. ``--as`` names them; without
it the pack is rendered as the organisation-wide reader the board pack is written for: the
first active executive (by id), else the first active superuser. The command then shows the
whole organisation (``--bu`` narrows it to one unit)."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from core.choices import Role
from core.commands import user_named
from core.models import BusinessUnit
from governance.reporting import dashboard
from governance.reporting import services as reports


def organisation_reader():
    """The default reader: an active executive, else an active superuser."""
    users = get_user_model().objects.filter(is_active=True).order_by("pk")
    reader = users.filter(memberships__role=Role.EXECUTIVE).first()
    reader = reader or users.filter(is_superuser=True).first()
    if reader is None:
        raise CommandError(
            "No active executive or superuser to render the board pack as: pass --as USERNAME."
        )
    return reader


class Command(BaseCommand):
    help = (
        "Render the board-pack PDF (the executive dashboard's figures and charts, risk "
        "register extract, approvals, GPU chargeback, roadmap) to a file. By default it shows "
        "the whole organisation as seen by the first active executive (else superuser); "
        "--as renders it with another user's scope, --bu narrows it to one business unit "
        "(by code), --months sets the period (3, 6 or 12)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, help="Where to write the PDF.")
        parser.add_argument("--bu", default="", help="Business unit code, e.g. RETAIL.")
        parser.add_argument(
            "--months", type=int, default=dashboard.DEFAULT_MONTHS, help="3, 6 or 12."
        )
        parser.add_argument(
            "--as", dest="username", default="", help="Render with this user's scope."
        )

    def handle(self, *args, **options):
        reader = user_named(options["username"]) if options["username"] else None
        reader = reader or organisation_reader()
        if not reader.is_active:
            raise CommandError(f"{reader.get_username()} is not an active user.")
        params = {"months": str(options["months"])}
        if options["bu"]:
            unit = BusinessUnit.objects.filter(code__iexact=options["bu"]).first()
            if unit is None:
                raise CommandError(f"No business unit with code {options['bu']!r}.")
            params["business_unit"] = str(unit.pk)
        try:
            if not dashboard.can_view_dashboard(reader):
                raise PermissionDenied(f"{reader.get_username()} cannot see the dashboard.")
            filters = dashboard.dashboard_filters(user=reader, params=params)
        except PermissionDenied as error:
            raise CommandError(f"{error} (as {reader.get_username()})") from None
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        rendered = reports.board_pack_pdf(user=reader, filters=filters)
        output = Path(options["output"])
        try:
            output.write_bytes(rendered.content)
        except OSError as error:
            raise CommandError(f"{output}: {error.strerror or error}") from None
        self.stdout.write(
            f"Wrote {output}: {rendered.page_count} pages, "
            f"{filesizeformat(len(rendered.content))} ({len(rendered.content)} bytes); "
            f"{filters.label()}, as {reader.get_username()}."
        )
