"""The executive dashboard, its exports and definitions, and generated reports (PDFs)."""

from django.urls import path

from . import dashboard_views, report_views

app_name = "dashboard"

urlpatterns = [
    path("", dashboard_views.dashboard_page, name="index"),
    path("definitions/", dashboard_views.definitions_page, name="definitions"),
    path("export/<slug:key>.<str:fmt>", dashboard_views.dashboard_export, name="export"),
    path("reports/", report_views.report_list, name="report_list"),
    path("reports/board-pack/", report_views.board_pack_request, name="board_pack_request"),
    path(
        "reports/dossier/<int:initiative_pk>/",
        report_views.dossier_request,
        name="dossier_request",
    ),
    path("reports/<int:pk>/", report_views.report_detail, name="report_detail"),
    path("reports/<int:pk>/download/", report_views.report_download, name="report_download"),
]
