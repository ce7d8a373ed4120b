"""Usage and cost ingest, utilisation and the initiative GPU panel (namespace ``inventory``)."""

from django.urls import path

from inventory.usage import views

urlpatterns = [
    path("ingest/", views.ingest_list, name="ingest_list"),
    *views.INGEST_EXPORT.urlpatterns("ingest/", "ingest_list"),
    path("ingest/upload/", views.ingest_upload, name="ingest_upload"),
    path("ingest/<int:pk>/", views.ingest_detail, name="ingest_detail"),
    path("utilisation/", views.utilisation_page, name="utilisation"),
    path("utilisation/export.csv", views.utilisation_csv, name="utilisation_csv"),
    path("utilisation/export.xlsx", views.utilisation_xlsx, name="utilisation_xlsx"),
    path(
        "initiatives/<int:pk>/gpus/",
        views.initiative_gpu_panel,
        name="initiative_gpu_panel",
    ),
]
