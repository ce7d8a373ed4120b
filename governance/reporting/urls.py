"""The executive dashboard, its exports and definitions, and generated reports (PDFs)."""

from django.urls import path

from governance.reporting import views

app_name = "dashboard"

urlpatterns = [
    path("", views.dashboard_page, name="index"),
    path("definitions/", views.definitions_page, name="definitions"),
    path("export/<slug:key>.<str:fmt>", views.dashboard_export, name="export"),
    path("reports/", views.report_list, name="report_list"),
    path("reports/board-pack/", views.board_pack_request, name="board_pack_request"),
    path(
        "reports/dossier/<int:initiative_pk>/",
        views.dossier_request,
        name="dossier_request",
    ),
    path("reports/<int:pk>/", views.report_detail, name="report_detail"),
    path("reports/<int:pk>/download/", views.report_download, name="report_download"),
]

CSV, XLSX = {"extension": "csv"}, {"extension": "xlsx"}

# The governance registers' exports (issue 8), included in the ``governance`` namespace.
# Each list page links to ``<name>_csv`` / ``<name>_xlsx`` with its current filters.
register_export_urlpatterns = [
    path(
        "exports/initiatives.csv",
        views.initiative_export,
        CSV,
        name="initiative_export_csv",
    ),
    path(
        "exports/initiatives.xlsx",
        views.initiative_export,
        XLSX,
        name="initiative_export_xlsx",
    ),
    path("exports/approvals.csv", views.approval_queue_export, CSV, name="queue_csv"),
    path("exports/approvals.xlsx", views.approval_queue_export, XLSX, name="queue_xlsx"),
    path(
        "risk-register/export.xlsx",
        views.risk_register_export,
        XLSX,
        name="risk_register_xlsx",
    ),
]
