"""Generated reports (board packs, dossiers): PDF files built in the background, kept for
``REPORT_RETENTION_DAYS`` days."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from core.models import BusinessUnit
from governance.reporting.choices import ReportKind, ReportStatus
from governance.risk.models import evidence_storage
from portfolio.initiatives.models import Initiative


def report_path(instance, filename):
    return f"reports/{instance.created_at:%Y/%m}/{filename}"


# Generated PDFs are kept this long, then the file is deleted and the row marked expired.
REPORT_RETENTION_DAYS = 30


class ReportFile(models.Model):
    """One generated PDF (a board pack or an initiative's governance dossier), built by a
    Celery task as the user who asked for it, so it shows exactly what they may see."""

    kind = models.CharField(max_length=12, choices=ReportKind.choices)
    status = models.CharField(
        max_length=8, choices=ReportStatus.choices, default=ReportStatus.QUEUED
    )
    # Board pack filters (None: every unit the requester may see) / the dossier's subject.
    business_unit = models.ForeignKey(
        BusinessUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    months = models.PositiveSmallIntegerField(default=6)
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.CASCADE, related_name="reports"
    )
    # The filters as applied, in words, for the list and the PDF's cover.
    filters_label = models.CharField(max_length=300, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)  # 0-100
    progress_label = models.CharField(max_length=100, blank=True)
    file = models.FileField(storage=evidence_storage, upload_to=report_path, blank=True)
    size_bytes = models.PositiveIntegerField(default=0)
    page_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["created_by", "-created_at"]),
            models.Index(fields=["status", "expires_at"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    def get_absolute_url(self):
        return reverse("dashboard:report_detail", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in (ReportStatus.READY, ReportStatus.FAILED, ReportStatus.EXPIRED)
