"""``manage.py import_inventory FILE --preset NAME --user USERNAME [--dry-run]
[--create-units] [--id-column HEADER]``: the bulk inventory import from the command line,
through the same service as the upload page and the API
(``governance.imports.services.import_file``)."""

from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.commands import user_named
from governance.imports import services as import_services


class Command(BaseCommand):
    help = (
        "Import AI initiatives from a CSV or XLSX inventory (presets: keel, us-federal-2024 "
        "or a saved preset), with the columns mapped as the preset suggests. --dry-run only "
        "reports what would happen. Every rejected row is listed as 'line N: reason'; rejected "
        "rows alone do not make the command fail (the valid rows are imported, in one "
        "transaction). It fails (non-zero exit) when the file cannot be read, the mapping is "
        "incomplete, the user may not import, or the import itself fails (then nothing is "
        "written)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV or XLSX file.")
        parser.add_argument("--preset", default="keel", help="keel, us-federal-2024 or saved.")
        parser.add_argument("--user", required=True, help="Username the import is made as.")
        parser.add_argument("--dry-run", action="store_true", help="Report only; write nothing.")
        parser.add_argument(
            "--create-units",
            action="store_true",
            help="Create business units the file names but Keel lacks (CoE admins only).",
        )
        parser.add_argument("--id-column", default="", help="Header of the stable id column.")

    def handle(self, *args, **options):
        actor = user_named(options["user"])
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}") from None
        try:
            outcome = import_services.import_file(
                actor=actor,
                filename=path.name,
                content=content,
                preset=options["preset"],
                dry_run=options["dry_run"],
                options={
                    "create_units": options["create_units"],
                    "id_column": options["id_column"],
                },
            )
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        except ValidationError as exc:
            raise CommandError(f"{path}: {' '.join(exc.messages)}") from None
        preview = outcome["preview"]
        counts = preview["counts"]
        verb = "Dry run" if options["dry_run"] else "Import"
        self.stdout.write(
            f"{verb} of {path.name} (job {outcome['job']}): create {counts['create']}, update "
            f"{counts['update']}, skip {counts['skip']}, reject {counts['reject']}."
        )
        for rejected in preview["rejected"]:
            self.stdout.write(f"line {rejected['line']}: {rejected['reason']}")
        for warning in preview["warnings"]:
            self.stdout.write(f"line {warning['line']}: warning: {warning['message']}")
        result = outcome["result"]
        if result and result.get("error"):
            raise CommandError(f"The import failed, nothing was written: {result['error']}")
        if result is not None:
            self.stdout.write(
                f"Imported: {len(result['created'])} created, {len(result['updated'])} updated."
            )
