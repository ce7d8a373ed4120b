"""Exports of the governance registers (issue 8), included in the ``governance`` namespace.
Each list page links to ``<name>_csv`` / ``<name>_xlsx`` with its current filters."""

from django.urls import path

from . import export_views

CSV, XLSX = {"extension": "csv"}, {"extension": "xlsx"}

urlpatterns = [
    path(
        "exports/initiatives.csv",
        export_views.initiative_export,
        CSV,
        name="initiative_export_csv",
    ),
    path(
        "exports/initiatives.xlsx",
        export_views.initiative_export,
        XLSX,
        name="initiative_export_xlsx",
    ),
    path("exports/approvals.csv", export_views.approval_queue_export, CSV, name="queue_csv"),
    path("exports/approvals.xlsx", export_views.approval_queue_export, XLSX, name="queue_xlsx"),
    path(
        "risk-register/export.xlsx",
        export_views.risk_register_export,
        XLSX,
        name="risk_register_xlsx",
    ),
]
