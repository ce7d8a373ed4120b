from django.urls import path

from inventory.finops import views

urlpatterns = [
    path("chargeback/", views.chargeback, name="chargeback"),
    path("chargeback/<str:month>/bu/<int:bu_pk>/", views.chargeback_bu, name="chargeback_bu"),
    path("chargeback/<str:month>/lines/", views.chargeback_lines, name="chargeback_lines"),
    path("chargeback/<str:month>/export.csv", views.chargeback_csv, name="chargeback_csv"),
    path("chargeback/<str:month>/export.xlsx", views.chargeback_xlsx, name="chargeback_xlsx"),
    path("chargeback/<str:month>/compute/", views.chargeback_compute, name="chargeback_compute"),
    path("chargeback/<str:month>/close/", views.chargeback_close, name="chargeback_close"),
    path("chargeback/<str:month>/reopen/", views.chargeback_reopen, name="chargeback_reopen"),
    path("findings/", views.finding_list, name="finding_list"),
    *views.FINDING_EXPORT.urlpatterns("findings/", "finding_list"),
    path("findings/scan/", views.findings_scan, name="findings_scan"),
    path("findings/<int:pk>/", views.finding_detail, name="finding_detail"),
    path("findings/<int:pk>/acknowledge/", views.finding_acknowledge, name="finding_acknowledge"),
    path("findings/<int:pk>/resolve/", views.finding_resolve, name="finding_resolve"),
    path(
        "initiatives/<int:pk>/value/",
        views.initiative_value_panel,
        name="initiative_value_panel",
    ),
    path("value-evidence/", views.value_evidence_missing, name="value_evidence_missing"),
    *views.VALUE_EVIDENCE_EXPORT.urlpatterns("value-evidence/", "value_evidence_missing"),
]
