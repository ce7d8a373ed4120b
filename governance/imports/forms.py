"""Forms of the bulk inventory import: the upload, the column mapping (one select per file
column) and its options. They shape and validate input only; ``import_services`` does the
rest."""

from django import forms

from governance.imports import services as import_services
from governance.imports.models import ImportPreset
from governance.imports.presets import BUILT_IN, DESCRIPTIONS

MAX_UPLOAD_BYTES = import_services.MAX_FILE_BYTES
ACCEPTED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xls")
# The built-in presets (``governance.imports.presets``), offered before the saved ones.
BUILT_IN_PRESETS = tuple((name, DESCRIPTIONS[name]) for name in BUILT_IN)
IGNORE = ""


def preset_choices() -> list[tuple[str, str]]:
    """The built-in presets, then the mappings people saved under a name."""
    built_in = dict(BUILT_IN_PRESETS)
    saved = [
        (name, f"{name} (saved mapping)")
        for name in ImportPreset.objects.exclude(name__in=built_in).values_list("name", flat=True)
    ]
    return [*BUILT_IN_PRESETS, *saved]


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Inventory file",
        help_text="CSV (UTF-8, UTF-16 or Windows-1252) or Excel .xlsx or .xls, at most 20 MB. "
        "The first row holds the column names.",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ACCEPTED_SUFFIXES)}),
    )
    preset = forms.ChoiceField(
        label="Format",
        help_text="Suggests the column mapping and how values are read; you can change the "
        "mapping on the next page.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preset"].choices = preset_choices()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(ACCEPTED_SUFFIXES):
            raise forms.ValidationError("Upload a .csv, .xlsx or .xls file.")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1e6:.1f} MB; the limit is "
                f"{MAX_UPLOAD_BYTES / 1e6:g} MB."
            )
        return upload


def column_field_name(index: int) -> str:
    return f"column_{index}"


class ImportMappingForm(forms.Form):
    """One select per file column (``column_<n>``, in file order) pre-filled from the job's
    mapping, and the dry run's options. ``mapping()`` gives header → field."""

    create_units = forms.BooleanField(
        label="Create business units that do not exist yet",
        required=False,
        help_text="Otherwise rows naming an unknown business unit are rejected.",
    )
    id_column = forms.ChoiceField(
        label="Stable id column",
        required=False,
        help_text="Re-importing a file updates the initiatives with the same id instead of "
        "adding new ones. Leave empty for the format's rule (Keel reference, or agency + use "
        "case name).",
    )
    save_preset_as = forms.CharField(
        label="Save this mapping as",
        required=False,
        max_length=100,
        help_text="Optional: a name to reuse this mapping for the next file.",
    )

    def __init__(self, *args, columns, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.columns = columns
        choices = [(IGNORE, "— ignore this column —")] + [
            (target["name"], target["label"] + (" *" if target.get("required") else ""))
            for target in targets
        ]
        self.fields["id_column"].choices = [("", "— the format's rule —")] + [
            (column["header"], column["header"]) for column in columns
        ]
        for index, column in enumerate(columns):
            self.fields[column_field_name(index)] = forms.ChoiceField(
                label=column["header"], choices=choices, required=False
            )
            self.initial.setdefault(column_field_name(index), column.get("field") or IGNORE)
        self.rows = [
            {"column": column, "field": self[column_field_name(index)]}
            for index, column in enumerate(columns)
        ]

    def clean(self):
        cleaned = super().clean()
        chosen: dict[str, str] = {}
        for index, column in enumerate(self.columns):
            target = cleaned.get(column_field_name(index)) or IGNORE
            if target and target in chosen:
                self.add_error(
                    column_field_name(index),
                    f"“{chosen[target]}” is already mapped to this field.",
                )
            elif target:
                chosen[target] = column["header"]
        return cleaned

    def mapping(self) -> dict[str, str]:
        return {
            column["header"]: self.cleaned_data.get(column_field_name(index)) or IGNORE
            for index, column in enumerate(self.columns)
        }

    def options(self) -> dict:
        options = {"create_units": self.cleaned_data["create_units"]}
        if self.cleaned_data.get("id_column"):
            options["id_column"] = self.cleaned_data["id_column"]
        return options
