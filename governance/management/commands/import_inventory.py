"""``manage.py import_inventory FILE --preset NAME --user USERNAME [--dry-run]
[--create-units] [--id-column HEADER] [--mapping MAPPING.yaml] [--save-preset NAME]``: the bulk
inventory import from the command line, through the same service as the upload page and the
API (``governance.imports.services.import_file``).

A mapping file (YAML or JSON) changes what the preset suggests::

    columns:                      # file header → Keel field ("" ignores the column)
      "Bureau": child_business_unit
      "Use Case Topic Area": category
    values:                       # per field: file value → Keel value
      stage: {"In mission": production}
    options: {create_units: true, id_column: "Use Case ID"}

A file with none of these keys is read as ``columns`` alone.
"""

import json
from pathlib import Path

import yaml
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.commands import user_named
from governance.imports import services as import_services


class Command(BaseCommand):
    help = (
        "Import AI initiatives from a CSV, XLSX or XLS inventory (presets: keel, us-federal-2023, "
        "us-federal-2024, us-federal-2025, us-federal-2025-cots "
        "or a saved preset), with the columns mapped as the preset suggests (--mapping changes "
        "it). --dry-run reports what would happen and fails when the database would refuse "
        "it. Every rejected row is listed as 'line N: reason'; rejected "
        "rows alone do not make the command fail (the valid rows are imported, in one "
        "transaction). It fails (non-zero exit) when the file cannot be read, the mapping is "
        "incomplete, the user may not import, or the import itself fails (then nothing is "
        "written)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV, XLSX or XLS file.")
        parser.add_argument(
            "--preset",
            default="keel",
            help="keel, us-federal-2023|2024|2025, us-federal-2025-cots or a saved preset.",
        )
        parser.add_argument("--user", required=True, help="Username the import is made as.")
        parser.add_argument("--dry-run", action="store_true", help="Report only; write nothing.")
        parser.add_argument(
            "--create-units",
            action="store_true",
            help="Create business units the file names but Keel lacks (CoE admins only).",
        )
        parser.add_argument("--id-column", default="", help="Header of the stable id column.")
        parser.add_argument(
            "--mapping",
            default="",
            help="YAML or JSON file: columns (header → field), values (field → file value → "
            "Keel value), options.",
        )
        parser.add_argument(
            "--save-preset",
            default="",
            help="Save the mapping and options used as a preset of this name (shared with the "
            "upload page and the API).",
        )

    def handle(self, *args, **options):
        actor = user_named(options["user"])
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}") from None
        columns, extra = self._mapping(options["mapping"])
        run_options = {**extra.get("options", {})}
        if options["create_units"]:
            run_options["create_units"] = True
        if options["id_column"]:
            run_options["id_column"] = options["id_column"]
        if extra.get("values"):
            run_options["values"] = extra["values"]
        try:
            outcome = import_services.import_file(
                actor=actor,
                filename=path.name,
                content=content,
                preset=options["preset"],
                dry_run=options["dry_run"],
                options=run_options,
                mapping=columns,
                save_preset_as=options["save_preset"],
            )
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        except ValidationError as exc:
            raise CommandError(f"{path}: {' '.join(exc.messages)}") from None
        if options["save_preset"]:
            self.stdout.write(f"Saved the mapping as preset '{options['save_preset'].strip()}'.")
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
        if preview.get("refused"):
            raise CommandError(preview["refused"])
        result = outcome["result"]
        if result and result.get("error"):
            raise CommandError(f"The import failed, nothing was written: {result['error']}")
        if result is not None:
            self.stdout.write(
                f"Imported: {len(result['created'])} created, {len(result['updated'])} updated."
            )

    @staticmethod
    def _mapping(name: str) -> tuple[dict, dict]:
        """(columns, {"values": ..., "options": ...}) from the --mapping file."""
        if not name:
            return {}, {}
        path = Path(name)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}") from None
        try:
            data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            raise CommandError(f"{path}: not valid YAML or JSON ({exc})") from None
        if not isinstance(data, dict):
            raise CommandError(f"{path}: expected a mapping of columns, values and options")
        if not {"columns", "values", "options"} & set(data):
            data = {"columns": data}
        parts = {key: data.get(key) or {} for key in ("columns", "values", "options")}
        for key, part in parts.items():
            if not isinstance(part, dict):
                raise CommandError(f"{path}: '{key}' must be a mapping")
        columns = {str(header): str(field or "") for header, field in parts["columns"].items()}
        return columns, {"values": parts["values"], "options": parts["options"]}
