"""The Celery application. Tasks are discovered in each bounded context's ``tasks.py``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("keel")
app.config_from_object("django.conf:settings", namespace="CELERY")
# One ``tasks`` module per context (``<app>.<context>.tasks``), plus core's.
app.autodiscover_tasks(
    [
        "core",
        "portfolio.duplicates",
        "portfolio.roadmap",
        "inventory.registry",
        "inventory.finops",
        "governance.risk",
        "governance.approvals",
        "governance.imports",
        "governance.incidents",
        "governance.reporting",
    ]
)
