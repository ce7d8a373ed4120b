"""The upload form of the GPU ingest UI."""

from django import forms

from inventory.usage.choices import IngestKind
from inventory.usage.services import batches as ingest_services
from inventory.usage.services.batches import AUTO, MAX_UPLOAD_BYTES


class IngestUploadForm(forms.Form):
    kind = forms.ChoiceField(
        label="File kind",
        choices=[(AUTO, "Detect from the file"), *IngestKind.choices],
        initial=AUTO,
        help_text="FOCUS cost exports, dcgm-exporter scrapes, Prometheus query_range JSON, "
        "Slurm sacct -P output or the usage CSV (timestamp, allocation or device id, "
        "utilisation %, memory used MiB).",
    )
    file = forms.FileField(help_text=f"At most {MAX_UPLOAD_BYTES / 1e6:g} MB.")
    scraped_at = forms.DateTimeField(
        label="Scraped at (UTC)",
        required=False,
        help_text="dcgm-exporter scrapes only: the time of samples without a timestamp "
        "(default: now).",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = ingest_services.MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {upload.size / 1e6:.1f} MB; the limit is {limit / 1e6:g} MB."
            )
        return upload
