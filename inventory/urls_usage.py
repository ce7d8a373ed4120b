"""GPU utilisation: the page per business unit and pool, and its exports."""

from django.urls import path

from . import usage_views

urlpatterns = [
    path("utilisation/", usage_views.utilisation_page, name="utilisation"),
    path("utilisation/export.csv", usage_views.utilisation_csv, name="utilisation_csv"),
    path("utilisation/export.xlsx", usage_views.utilisation_xlsx, name="utilisation_xlsx"),
]
