from django.urls import path

from . import ingest_views

urlpatterns = [
    path("ingest/", ingest_views.ingest_list, name="ingest_list"),
    path("ingest/upload/", ingest_views.ingest_upload, name="ingest_upload"),
    path("ingest/<int:pk>/", ingest_views.ingest_detail, name="ingest_detail"),
]
