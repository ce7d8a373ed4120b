from django.db import models


class Barrier(models.TextChoices):
    """The six barriers to scaling AI across business units."""

    INFRASTRUCTURE = "infrastructure", "Infrastructure fragmentation"
    DATA = "data", "Data fragmentation"
    TECHNICAL_DEBT = "technical_debt", "Technical debt"
    ORGANISATIONAL = "organisational", "Organisational alignment"
    GOVERNANCE = "governance", "Governance & risk"
    CHANGE = "change", "Change management"
