from django.db import models


class ReportKind(models.TextChoices):
    BOARD_PACK = "board_pack", "Board pack"
    DOSSIER = "dossier", "Governance dossier"


class ReportStatus(models.TextChoices):
    """A generated PDF's life: queued → running → ready (or failed); expired after 30 days."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Generating"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired (file deleted)"
