"""Bulk-import presets and jobs: an uploaded inventory file, its column mapping, the plan
and the outcome, with progress."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from governance.imports.choices import ImportStatus


class ImportPreset(models.Model):
    """A named column mapping: the built-in ``keel`` and ``us-federal-2024`` presets (see
    ``governance.imports.presets``) plus the ones people save from the mapping step."""

    name = models.CharField(max_length=100, unique=True)
    # The built-in preset whose value rules (synonyms, external id) this one starts from.
    base = models.CharField(max_length=30, default="keel")
    # Column header (as written in the file) → Keel field name ("" = ignore the column).
    mapping = models.JSONField(default=dict)
    options = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ImportJob(models.Model):
    """One uploaded inventory file through mapping, dry run and the import itself; the file
    stays in the row so the Celery worker reads exactly what was previewed."""

    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.PositiveIntegerField(default=0)
    content = models.BinaryField()
    preset = models.CharField(max_length=100, default="keel")  # built-in or saved preset name
    mapping = models.JSONField(default=dict, blank=True)
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    # Dry-run report: counts per action and every rejected row's line and reason.
    preview = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="import_jobs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Import #{self.pk} {self.filename} ({self.status})"

    def get_absolute_url(self):
        return reverse("governance:import_detail", args=[self.pk])

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == ImportStatus.SUCCEEDED else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))
