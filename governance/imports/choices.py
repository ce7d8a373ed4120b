from django.db import models


class ImportStatus(models.TextChoices):
    """An inventory import job's life: upload → mapping → dry run → confirm → run."""

    UPLOADED = "uploaded", "Uploaded (map the columns)"
    PREVIEWED = "previewed", "Dry run done (confirm to import)"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Importing"
    SUCCEEDED = "succeeded", "Imported"
    FAILED = "failed", "Failed (nothing imported)"


class ImportRowAction(models.TextChoices):
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    SKIP = "skip", "Skip (unchanged or duplicate)"
    REJECT = "reject", "Reject"
