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
        "Slurm sacct -P output, the usage CSV (timestamp, allocation or device id, "
        "utilisation %, memory used MiB), Kubernetes pod lists (CSV or JSON: namespace, "
        "name, labels, node, num_gpu, gpu_milli or mig_profile, scheduled and deletion "
        "times, as the openb pod trace) or OpenCost /allocation JSON.",
    )
    file = forms.FileField(help_text=f"At most {MAX_UPLOAD_BYTES / 1e6:g} MB.")
    scraped_at = forms.DateTimeField(
        label="Scraped at (UTC)",
        required=False,
        help_text="dcgm-exporter scrapes only: the time of samples without a timestamp "
        "(default: now).",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    time_origin = forms.DateTimeField(
        label="Times in seconds count from (UTC)",
        required=False,
        help_text="Kubernetes pod lists only: the start of a trace whose times are seconds "
        "from its beginning (default: the Unix epoch).",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    observed_at = forms.DateTimeField(
        label="Pod list taken at (UTC)",
        required=False,
        help_text="Kubernetes pod lists only: running pods count up to this time (default: "
        "the latest time in the file).",
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
