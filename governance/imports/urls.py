from django.urls import path

from governance.imports import views as import_views

job = "imports/<int:pk>/"

urlpatterns = [
    path("imports/", import_views.import_list, name="import_list"),
    *import_views.IMPORT_EXPORT.urlpatterns("imports/", "import_list"),
    path("imports/new/", import_views.import_upload, name="import_upload"),
    path(f"{job}mapping/", import_views.import_mapping, name="import_mapping"),
    path(f"{job}preview/", import_views.import_preview, name="import_preview"),
    path(f"{job}confirm/", import_views.import_confirm, name="import_confirm"),
    path(job, import_views.import_detail, name="import_detail"),
    path(f"{job}progress/", import_views.import_progress, name="import_progress"),
]
